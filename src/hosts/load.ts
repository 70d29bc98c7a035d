/**
 * Load sensing on the host itself: load average per core, MemAvailable, free disk in the workdir and
 * the number of `ns-` sessions, judged against the host's thresholds from config.
 */
import type { HostConfig } from '../config/schema.js';
import { SESSION_PREFIX } from './tmux.js';
import type { WorkerHost } from './worker.js';

export interface LoadSample {
  host: string;
  at: number;
  load1: number;
  cores: number;
  loadPerCore: number;
  memAvailableMB: number;
  diskFreeMB: number;
  sessions: number;
  /** Why the host should get no new work right now (empty = fine). */
  over: string[];
}

export async function sampleLoad(worker: WorkerHost, cfg: HostConfig, now: number): Promise<LoadSample> {
  const r = await worker.runner.run([
    'sh',
    '-c',
    'cut -d" " -f1 /proc/loadavg; getconf _NPROCESSORS_ONLN; sed -n "s/^MemAvailable: *\\([0-9]*\\).*/\\1/p" /proc/meminfo; df -Pk "$1" | tail -n 1',
    'sh',
    worker.info.workdir,
  ]);
  const [load = '0', cores = '1', memKb = '0', df = ''] = r.stdout.split('\n');
  const diskKb = Number(df.trim().split(/\s+/)[3] ?? 0);
  const panes = await worker.tmux.list();
  const sample: LoadSample = {
    host: worker.name,
    at: now,
    load1: Number(load) || 0,
    cores: Number(cores) || 1,
    loadPerCore: (Number(load) || 0) / (Number(cores) || 1),
    memAvailableMB: Math.round(Number(memKb) / 1024),
    diskFreeMB: Math.round(diskKb / 1024),
    sessions: panes.filter((p) => p.session.startsWith(SESSION_PREFIX) && !p.dead).length,
    over: [],
  };
  sample.over = overThresholds(sample, cfg);
  return sample;
}

export function overThresholds(s: Omit<LoadSample, 'over'>, cfg: HostConfig): string[] {
  const over: string[] = [];
  if (s.loadPerCore > cfg.maxLoadPerCore) {
    over.push(`load ${s.loadPerCore.toFixed(2)}/core is over maxLoadPerCore ${cfg.maxLoadPerCore}`);
  }
  if (s.memAvailableMB < cfg.minFreeMemMB)
    over.push(`${s.memAvailableMB} MB free memory is under minFreeMemMB ${cfg.minFreeMemMB}`);
  if (s.diskFreeMB < cfg.minFreeDiskMB)
    over.push(`${s.diskFreeMB} MB free disk is under minFreeDiskMB ${cfg.minFreeDiskMB}`);
  return over;
}

/**
 * Load sensing on the host itself: load average per core, MemAvailable, free disk in the workdir and
 * the number of live executor sessions (`ns-…`) of every workspace sharing the host's tmux server (a
 * host's capacity is the machine's, not one workspace's), judged against the host's thresholds from config.
 */
import { ErrorCode, NightshiftError } from '../core/errors.js';
import type { HostConfig } from '../config/schema.js';
import { LOAD_SH } from './scripts.js';
import { isExecutorSession } from './session-names.js';
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

/**
 * One load sample, read on the host. A read that fails, or prints something that is not a number where
 * one belongs, is an error naming the host: never a sample of zeros (which would read as a full host,
 * or hide one).
 */
export async function sampleLoad(worker: WorkerHost, cfg: HostConfig, now: number): Promise<LoadSample> {
  const r = await worker.runner.run(['sh', '-c', LOAD_SH, 'sh', worker.info.workdir]);
  const [load = '', cores = '', memKb = '', df = ''] = r.stdout.split('\n');
  const diskKb = df.trim().split(/\s+/)[3] ?? '';
  const fields = { 'load average': load, cores, 'MemAvailable (kB)': memKb, 'free disk (kB)': diskKb };
  const bad = Object.entries(fields).filter(([, v]) => !/^\d+(\.\d+)?$/.test(v.trim()));
  if (r.exitCode !== 0 || bad.length > 0) {
    const why =
      r.exitCode !== 0
        ? `exit ${r.exitCode}: ${r.stderr.trim() || 'no message'}`
        : `no number for ${bad.map(([k, v]) => `${k} (read ${JSON.stringify(v.trim())})`).join(', ')}`;
    throw new NightshiftError(ErrorCode.io, `could not read the load: ${why}`, {
      host: worker.name,
      hint: 'the host needs /proc/loadavg, /proc/meminfo (MemAvailable), getconf and df -Pk (Linux)',
    });
  }
  const panes = await worker.tmux.list();
  const sample: LoadSample = {
    host: worker.name,
    at: now,
    load1: Number(load),
    cores: Number(cores) || 1,
    loadPerCore: Number(load) / (Number(cores) || 1),
    memAvailableMB: Math.round(Number(memKb) / 1024),
    diskFreeMB: Math.round(Number(diskKb) / 1024),
    sessions: panes.filter((p) => isExecutorSession(p.session) && !p.dead).length,
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

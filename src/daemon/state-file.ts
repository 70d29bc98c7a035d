/** queue/state/daemon.json: the daemon's published view (providers, hosts, waiting reasons) for clients. */
import { readFileSync } from 'node:fs';
import type { WorkspacePaths } from '../config/paths.js';
import { ensureDir, writeFileDurable } from '../queue/fsx.js';

export interface DaemonState {
  pid: number;
  host: string;
  startedAt: string;
  updatedAt: string;
  providers: {
    name: string;
    breaker: string;
    reason: string;
    limit: number;
    ceiling: number;
    running: number;
    lastProbe: { ok: boolean; reason: string } | null;
    /** Average grade points of recent reviews (A = 4.0 … F = 0), or null before any. */
    grade?: number | null;
    limitHistory: { limit: number; reason: string }[];
  }[];
  hosts: { name: string; over: string[] }[];
  waiting: Record<string, string>;
}

/** Writes the state if it changed since `previous` (a key this returns); returns the new key. */
export function writeDaemonState(paths: WorkspacePaths, state: DaemonState, previous: string): string {
  const { updatedAt: _ignored, ...comparable } = state;
  const key = JSON.stringify(comparable);
  if (key === previous) return key;
  ensureDir(paths.stateStore, 0o700);
  writeFileDurable(paths.daemonState, `${JSON.stringify(state, null, 2)}\n`, paths.tmp, 0o600);
  return key;
}

export function readDaemonState(paths: WorkspacePaths): DaemonState | null {
  try {
    return JSON.parse(readFileSync(paths.daemonState, 'utf8')) as DaemonState;
  } catch {
    return null;
  }
}

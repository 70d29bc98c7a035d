/**
 * The local process-tree reaper for gate commands (docs/gates.md#isolation). A gate command runs in a
 * process group of its own, and its environment carries a marker variable with a value random per run.
 * When it ends or times out, its process group is killed, then every process whose environment
 * (`/proc/<pid>/environ`, Linux) still carries the marker: that finds what left the group, `setsid` and
 * `nohup … &` double forks included. Where /proc is missing only the process group is killed.
 *
 * The marked processes are stopped (SIGSTOP) until a scan finds no new one, then killed: a stopped
 * process cannot fork, so a process that forks in a loop cannot stay ahead of the scans.
 *
 * A process that starts its children with the marker removed from their environment escapes this; the
 * bwrap sandbox (sandbox.ts) does not depend on it, as its pid namespace dies with the command.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** The environment variable that marks a gate run's processes. */
export const GATE_MARKER = 'NIGHTSHIFT_GATE_RUN';

const PROC = '/proc';
/** Scans until no new marked process appears, at most this many. */
const MAX_SCANS = 50;

/** Pids whose environment holds `name=value` (not this process, nor zombies). */
export function findMarked(name: string, value: string, proc = PROC): number[] {
  let entries: string[];
  try {
    entries = readdirSync(proc);
  } catch {
    return [];
  }
  const needle = Buffer.from(`\0${name}=${value}\0`);
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      // A leading NUL so that the first variable matches like the others.
      const environ = Buffer.concat([Buffer.from('\0'), readFileSync(`${proc}/${entry}/environ`)]);
      if (environ.indexOf(needle) < 0) continue;
      if (isZombie(proc, entry)) continue;
      found.push(pid);
    } catch {
      // Gone, or not ours to read.
    }
  }
  return found;
}

function isZombie(proc: string, pid: string): boolean {
  try {
    const stat = readFileSync(`${proc}/${pid}/stat`, 'utf8');
    // "pid (comm) S …": comm may hold spaces and parentheses; the state follows the last ")".
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** Sends `sig` to the process group `pgid` (the gate command's: it leads its own). */
export function killGroup(pgid: number, sig: NodeJS.Signals = 'SIGKILL'): void {
  if (pgid > 1) signal(-pgid, sig);
}

/**
 * Kills the process group `pgid` (when given) and every process marked `name=value`. Returns the pids
 * of the marked processes it found (those outside the group are what a double fork left behind).
 */
export function reapMarked(name: string, value: string, pgid?: number, proc = PROC): number[] {
  if (pgid) killGroup(pgid, 'SIGKILL');
  const stopped = new Set<number>();
  for (let scan = 0; scan < MAX_SCANS; scan++) {
    const fresh = findMarked(name, value, proc).filter((pid) => !stopped.has(pid));
    if (fresh.length === 0) break;
    for (const pid of fresh) {
      signal(pid, 'SIGSTOP');
      stopped.add(pid);
    }
  }
  for (const pid of stopped) signal(pid, 'SIGKILL');
  return [...stopped];
}

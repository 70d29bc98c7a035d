/**
 * The main guard at collection (docs/hosts.md): the mirror's protected refs compared with the record
 * the attempt's launch made, every change put back, and blame for it given once, to the attempt that
 * made it.
 *
 * Two things a per-attempt record alone gets wrong when executors share a mirror, fixed with what this
 * process remembers of earlier collections on the same mirror (never with files on the host: every
 * executor there can write those):
 * - the restores made ("<ref> <bad> <good>"). An attempt launched while another had moved main recorded
 *   the moved value; once the mover's collection has put main back, that record disagrees with the
 *   mirror. Such a change (record = a restore's bad, now = its good) is no change: without this, the
 *   innocent attempt's collection would move main back to the bad value and be blamed for it.
 * - the moves put back with no one blamed ("<ref> <from> <to>"). When an innocent attempt is collected
 *   before the mover, it restores main, unattributed; the mover's collection later finds main as its
 *   record says and would never be blamed. Each collection blames itself for every such move its branch
 *   explains (reported `earlier`), and the move leaves the list.
 * A restarted supervisor starts with empty memory: the per-record check alone, as before. Collections of
 * one mirror run one at a time (checkMoved), so each sees the memory the one before it left.
 */
import { KeyedSerial } from '../lib/serial.js';
import type { TaskId } from '../core/ids.js';
import type { CommandRunner } from './runner.js';
import { MOVED_SH } from './scripts.js';

/**
 * A protected ref of the mirror that changed during an attempt: `from`/`to` are shas, null for absent.
 * `attributed`: the collected task's branch held `to` at some point (it is the task's doing).
 * `restored`: the ref is back at `from`; `earlier` when an earlier collection put it back (this one
 * only finds whose doing it was).
 */
export interface MovedRef {
  ref: string;
  from: string | null;
  to: string | null;
  attributed: boolean;
  restored: boolean;
  earlier?: boolean;
}

/** MOVED_SH's lines. */
export function parseMoved(stdout: string): MovedRef[] {
  const moved: MovedRef[] = [];
  for (const line of stdout.split('\n')) {
    const [ref, from, to, blame, restored] = line.trim().split(' ');
    if (!ref || !from || !to || !blame || !restored) continue;
    moved.push({
      ref,
      from: from === '-' ? null : from,
      to: to === '-' ? null : to,
      attributed: blame === 'task',
      restored: restored === 'restored' || restored === 'earlier',
      ...(restored === 'earlier' ? { earlier: true } : {}),
    });
  }
  return moved;
}

const collections = new KeyedSerial();

/** What this process remembers of one mirror's collections (see the top of this file). */
interface MirrorMemory {
  /** "<ref> <bad> <good>" of each restore. */
  restores: string[];
  /** "<ref> <from> <to>" of each move put back with no one blamed. */
  unblamed: string[];
}
const memory = new Map<string, MirrorMemory>();
/** Per mirror and list: a move whose mover is never collected (a forged commit) is not kept forever. */
const REMEMBERED = 50;

const sha = (s: string | null) => s ?? '-';

/**
 * Runs MOVED_SH for one attempt, one collection per mirror at a time, with what earlier collections of
 * this mirror found, and remembers what this one finds. `host` names the host.
 */
export function checkMoved(
  runner: CommandRunner,
  host: string,
  args: { taskDir: string; mirror: string; attempt: number; id: TaskId; fallback: readonly string[] },
): Promise<{ exitCode: number; stderr: string; moved: MovedRef[] }> {
  const key = `${host}\0${args.mirror}`;
  return collections.run(key, async () => {
    const mem = memory.get(key) ?? { restores: [], unblamed: [] };
    const r = await runner.run([
      'sh',
      '-c',
      MOVED_SH,
      'sh',
      args.taskDir,
      args.mirror,
      String(args.attempt),
      args.id,
      mem.restores.join('\n'),
      mem.unblamed.join('\n'),
      ...args.fallback,
    ]);
    const moved = r.exitCode === 0 ? parseMoved(r.stdout) : [];
    for (const m of moved) {
      const move = `${m.ref} ${sha(m.from)} ${sha(m.to)}`;
      if (m.earlier) {
        mem.unblamed = mem.unblamed.filter((u) => u !== move);
      } else if (m.restored) {
        mem.restores = [...mem.restores, `${m.ref} ${sha(m.to)} ${sha(m.from)}`].slice(-REMEMBERED);
        if (!m.attributed) mem.unblamed = [...mem.unblamed, move].slice(-REMEMBERED);
      }
    }
    memory.set(key, mem);
    return { exitCode: r.exitCode, stderr: r.stderr, moved };
  });
}

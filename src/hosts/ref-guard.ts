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
import type { CommandRunner } from './runner.js';

/**
 * usage: sh -c MOVED_SH sh <task-dir> <mirror> <attempt> <id> <restores> <unblamed> <fallback refs...>
 * <restores> and <unblamed> are lines "<ref> <sha|-> <sha|->" (ref names hold no spaces).
 * Prints a line per change: "<ref> <from> <to> <blame> <restored>", from/to shas or "-" for absent,
 * blame "task" when <to> is reachable from a value the task's branch ever had (the reflogs of
 * refs/heads/ns/<id> and of its worktree's HEAD, and its tip) and "unattributed" otherwise, restored
 * "restored", "lost" (the recorded commit is gone, or the update failed) or "earlier" (an unblamed move
 * an earlier collection put back). The ref names come from the record's first line ("# <refs>"); the
 * arguments only stand in for a record written before that line existed. Exit 3 when there is no
 * record (an attempt launched before records). A fixed number of git processes per changed ref, plus
 * three to read the task's reflogs once.
 */
export const MOVED_SH = String.raw`dir=$1 mirror=$2 att=$3 id=$4 restores=$5 unblamed=$6
shift 6
set -f
rec="$dir/main-refs-$att"
[ -r "$rec" ] || exit 3
head=
IFS= read -r head < "$rec" || :
case $head in
  '# '*) set -- $(printf '%s\n' "$head" | cut -c3-) ;;
esac
g() { git -c core.hooksPath=/dev/null --git-dir "$mirror" "$@"; }
now=$(g for-each-ref --format='%(refname) %(objectname)' "$@") || exit 4
held=
heldread=
# held_has <sha>: true when the task's branch ever held <sha> or a descendant of it.
held_has() {
  if [ -z "$heldread" ]; then
    heldread=1
    held=$( { g rev-parse -q --verify "refs/heads/ns/$id"
      g log -g --format=%H "refs/heads/ns/$id"
      if [ -d "$mirror/worktrees/$id" ]; then git --git-dir "$mirror/worktrees/$id" log -g --format=%H HEAD; fi
    } 2>/dev/null </dev/null | sed -n 's/^\([0-9a-f]\{40,64\}\)$/^\1/p' | sort -u)
  fi
  [ -n "$held" ] && out=$(printf '%s\n%s\n' "$1" "$held" | g rev-list --stdin --ignore-missing -n 1) && [ -z "$out" ]
}
for ref do
  from= to=
  while read -r r s; do if [ "$r" = "$ref" ]; then from=$s; fi; done < "$rec"
  while read -r r s; do if [ "$r" = "$ref" ]; then to=$s; fi; done <<NOW
$now
NOW
  [ "$from" != "$to" ] || continue
  F=$from T=$to
  [ -n "$F" ] || F=-
  [ -n "$T" ] || T=-
  # Recorded while another attempt had moved it, and put back since: not a change.
  if [ -n "$restores" ] && printf '%s\n' "$restores" | grep -qxF "$ref $F $T"; then continue; fi
  blame=unattributed
  if [ -n "$to" ] && held_has "$to"; then blame=task; fi
  restored=lost
  if [ -n "$from" ]; then
    if g cat-file -e "$from^{commit}" 2>/dev/null && g update-ref -m 'nightshift: protected ref restored' "$ref" "$from" "$to"; then restored=restored; fi
  elif g update-ref -d "$ref" "$to"; then
    restored=restored
  fi
  printf '%s %s %s %s %s\n' "$ref" "$F" "$T" "$blame" "$restored"
done
# Moves put back by an earlier collection that blamed no one: this task's, if its branch explains them.
if [ -n "$unblamed" ]; then
  while read -r r f t; do
    if [ -n "$t" ] && [ "$t" != - ] && held_has "$t"; then printf '%s %s %s task earlier\n' "$r" "$f" "$t"; fi
  done <<UNBLAMED
$unblamed
UNBLAMED
fi
exit 0
`;

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
  args: { taskDir: string; mirror: string; attempt: number; id: string; fallback: readonly string[] },
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

/**
 * The fixed shell scripts nightshift installs on a host. They are constants: no spec text, no
 * config value is ever interpolated into them except through quoteWord (hosts/quote.ts).
 */
import { quoteWord } from './quote.js';

/**
 * The runner: starts one executor attempt inside tmux.
 * usage: run.sh <task-dir> <worktree> <attempt> <null|prompt> -- <executor argv...>
 *    or: run.sh <task-dir> <worktree> <attempt> <null|prompt> --argv-file
 * - with --argv-file, reads the executor argv from <task-dir>/argv, written by quoteArgv (hosts/quote.ts):
 *   tmux refuses a command line over ~16 KB, and an executor's argv can be longer than that;
 * - sources the provider's env from <task-dir>/env (0600) and deletes it at once;
 * - replaces the prompt tokens in argv with the prompt file's contents (byte-exact, trailing newlines
 *   included) / path;
 * - when the env file names secret variables (NIGHTSHIFT_SECRET_VARS, written by envFileText), pipes
 *   the executor's output through REDACT_AWK, so neither the pane nor the log shows their values;
 * - unsets TMUX and TMUX_PANE (the pane's: they name the executors' tmux socket) and gives the executor a
 *   TMUX_TMPDIR of its own (<task-dir>/tmux-<n>), so `tmux -L <name>` finds no server of the user's;
 * - gives the executor (and so everything it starts) the marker NIGHTSHIFT_ATTEMPT=<id>.<n>.<random>,
 *   recorded with the runner's session id in <task-dir>/reap-<n> for REAP_SH;
 * - tees stdout+stderr to <task-dir>/attempt-<n>.log;
 * - when the executor exits, kills (REAP_FN) every process carrying its marker, then, once the output
 *   pipe is closed, every process left in the runner's session when it leads one (in tmux it does; a
 *   probe's runner shares its caller's and reaps by marker only): nothing the attempt started outlives it;
 * - commits what the executor left uncommitted;
 * - writes <task-dir>/exit.json atomically (temp file + mv) with the exit code, times, and whether the
 *   attempt moved HEAD (`committed`: its own commits or the leftovers commit) — for crash-on-start —
 *   and whether the runner itself failed before the executor could start (`runnerFailed`: no worktree,
 *   no command), which is the worker's fault, never the provider's;
 * - then signals the tmux wait channel EXIT_CHANNEL on the server named by $NIGHTSHIFT_EXIT_SOCKET (set by
 *   the launch, and unset before the executor starts), so the supervisor hears of the exit at once
 *   instead of at its next poll. The signal only wakes the supervisor; exit.json stays the record.
 */
/** The tmux wait-for channel every runner signals as it ends (see RUN_SH and WorkerHost.waitForExit). */
export const EXIT_CHANNEL = 'nightshift-exit';

/**
 * The runner's output filter (POSIX awk: mawk, gawk, busybox). It replaces the value of every variable
 * named in NIGHTSHIFT_SECRET_VARS (space-separated names; the values are read from ENVIRON, never
 * from argv, where ps would show them) by [redacted], as makeRedactor (lib/redact.ts) does: literal
 * matches (index/substr, never a regex), values of 4 characters or more, each also in its JSON-escaped
 * form, longest first. It is line-based: each line goes out (flushed) as it ends; a value that spans
 * lines is only caught in its JSON-escaped form, and a last line without a newline gains one.
 */
export const REDACT_AWK = String.raw`
function jsonEscape(s,    out, i, c) {
  out = ""
  for (i = 1; i <= length(s); i++) {
    c = substr(s, i, 1)
    if (c in esc) out = out esc[c]
    else out = out c
  }
  return out
}
function add(v) {
  if (v in seen) return
  seen[v] = 1
  k++
  s[k] = v
}
BEGIN {
  esc["\\"] = "\\\\"
  esc["\""] = "\\\""
  for (i = 1; i < 32; i++) esc[sprintf("%c", i)] = sprintf("\\u%04x", i)
  esc[sprintf("%c", 8)] = "\\b"
  esc[sprintf("%c", 9)] = "\\t"
  esc[sprintf("%c", 10)] = "\\n"
  esc[sprintf("%c", 12)] = "\\f"
  esc[sprintf("%c", 13)] = "\\r"
  k = 0
  n = split(ENVIRON["NIGHTSHIFT_SECRET_VARS"], names, " ")
  for (i = 1; i <= n; i++) {
    v = ENVIRON[names[i]]
    if (length(v) < 4) continue
    add(v)
    add(jsonEscape(v))
  }
  for (i = 2; i <= k; i++) {
    v = s[i]
    for (j = i - 1; j > 0 && length(s[j]) < length(v); j--) s[j + 1] = s[j]
    s[j + 1] = v
  }
}
{
  line = $0
  for (i = 1; i <= k; i++) {
    if (index(line, s[i]) == 0) continue
    out = ""
    while ((p = index(line, s[i])) > 0) {
      out = out substr(line, 1, p - 1) "[redacted]"
      line = substr(line, p + length(s[i]))
    }
    line = out line
  }
  print line
  fflush()
}
`;

/**
 * ns_reap <marker> <session id>: TERM, then (after a 2 s grace) KILL, until none is left, every process
 * whose environment holds NIGHTSHIFT_ATTEMPT=<marker>, and, when <session id> is not empty, every process
 * of that session but the shell $$ and its direct children (the runner and its output filter, when
 * called from the runner's pipeline), and never the calling shell itself (read from /proc/self/stat: $$
 * is the parent's in a subshell). The executor's own leftovers are never the runner's children: an
 * orphan goes to init. Linux /proc only: elsewhere it finds nothing. Between the scans only builtins run in the
 * caller's session (read, kill), so a session scan never meets the reaper's own helpers. Returns 1 when
 * something is still alive after 50 KILL rounds. A process that removed the marker from its environment
 * and left the session (setsid) is out of its reach.
 */
export const REAP_FN = `ns_self() {
  ns_me=$$
  IFS=' ' read -r ns_me ns_rest 2>/dev/null < /proc/self/stat || :
}
ns_pids() {
  ns_found=
  if [ -n "$ns_m" ]; then
    for ns_f in $(grep -lsaF "NIGHTSHIFT_ATTEMPT=$ns_m" /proc/[0-9]*/environ 2>/dev/null); do
      ns_p=\${ns_f#/proc/}
      ns_p=\${ns_p%/environ}
      [ "$ns_p" = "$ns_me" ] || ns_found="$ns_found $ns_p"
    done
  fi
  [ -n "$ns_s" ] || return 0
  for ns_f in /proc/[0-9]*/stat; do
    ns_l=
    IFS= read -r ns_l 2>/dev/null < "$ns_f" || continue
    ns_p=\${ns_f#/proc/}
    ns_p=\${ns_p%/stat}
    [ "$ns_p" != "$ns_me" ] && [ "$ns_p" != $$ ] || continue
    set -f
    set -- \${ns_l##*) }
    set +f
    [ "\${1:-}" != Z ] && [ "\${4:-}" = "$ns_s" ] && [ "\${2:-}" != $$ ] || continue
    case " $ns_found " in *" $ns_p "*) ;; *) ns_found="$ns_found $ns_p" ;; esac
  done
}
ns_reap() {
  ns_m=$1
  ns_s=$2
  ns_self
  ns_pids
  [ -n "$ns_found" ] || return 0
  kill -TERM $ns_found 2>/dev/null
  ns_i=0
  while [ "$ns_i" -lt 20 ]; do
    sleep 0.1 2>/dev/null || sleep 1
    ns_pids
    [ -n "$ns_found" ] || return 0
    ns_i=$((ns_i + 1))
  done
  ns_i=0
  while [ -n "$ns_found" ] && [ "$ns_i" -lt 50 ]; do
    kill -STOP $ns_found 2>/dev/null
    kill -KILL $ns_found 2>/dev/null
    ns_pids
    ns_i=$((ns_i + 1))
  done
  [ -z "$ns_found" ]
}
`;

/**
 * usage: sh -c REAP_SH sh <task-dir> <attempt>
 * Kills what attempt <attempt> left alive (REAP_FN), from the marker and session id its runner recorded
 * in <task-dir>/reap-<attempt>: for the kill, timeout and clean-up paths, after the session is killed.
 * The record lives where the executor can write, so it is checked for shape: a marker of [a-z0-9.-] and a
 * number. The session is left out when its id now names a live process other than the runner (whose
 * argv holds <task-dir>). Exit 0 when there is no record (the runner never got that far), 1 when
 * something survived.
 */
export const REAP_SH = `${REAP_FN}dir=$1
rec="$1/reap-$2"
[ -r "$rec" ] || exit 0
m= s=
read -r m s < "$rec" || :
case $m in ''|*[!a-z0-9.-]*) m= ;; esac
case $s in ''|*[!0-9]*) s= ;; esac
# A session outlives its leader while members remain, and its id is not reused meanwhile; but once it is
# empty the number may lead another session: a live leader that is not this attempt's runner is not ours.
l=
if [ -n "$s" ] && IFS= read -r l 2>/dev/null < "/proc/$s/stat"; then
  set -f
  set -- \${l##*) }
  set +f
  if [ "\${1:-}" != Z ] && ! tr '\\000' '\\n' < "/proc/$s/cmdline" 2>/dev/null | grep -qxF -- "$dir"; then s=; fi
fi
ns_reap "$m" "$s"
`;

export const RUN_SH = `#!/bin/sh
# nightshift runner script (written by nightshift; do not edit).
set -u
EXIT_SOCKET=\${NIGHTSHIFT_EXIT_SOCKET:-}
unset NIGHTSHIFT_EXIT_SOCKET
TASK_DIR=$1
WORKTREE=$2
ATTEMPT=$3
STDIN_MODE=$4
shift 4
if [ "\${1:-}" = "--argv-file" ]; then
  # Single-quoted words from quoteArgv: eval only removes the quotes, it expands nothing.
  eval "set -- $(cat "$TASK_DIR/argv" 2>/dev/null)"
elif [ "\${1:-}" = "--" ]; then
  shift
fi
LOG="$TASK_DIR/attempt-$ATTEMPT.log"
PROMPT_FILE="$TASK_DIR/prompt.md"
ENV_FILE="$TASK_DIR/env"
RC_FILE="$TASK_DIR/rc-$ATTEMPT"
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rm -f "$TASK_DIR/exit.json" "$RC_FILE"
echo $$ > "$TASK_DIR/runner.pid"
if [ -f "$ENV_FILE" ]; then
  set -a
  . "$ENV_FILE"
  set +a
  rm -f "$ENV_FILE"
fi
# Names (not values) of the secret variables: the output filter reads their values from its environment.
SECRET_VARS=\${NIGHTSHIFT_SECRET_VARS:-}
unset NIGHTSHIFT_SECRET_VARS
# The pane's TMUX names the executors' tmux socket: the executor gets none, and a TMUX_TMPDIR of its own.
unset TMUX TMUX_PANE
ISOLATED_TMUX="$TASK_DIR/tmux-$ATTEMPT"
mkdir -p -m 700 "$ISOLATED_TMUX"
${REAP_FN}# The runner's session id: the 4th field after the command name's ")" in /proc/self/stat.
ns_field4() {
  set -f
  set -- $1
  set +f
  SID=\${4:-}
}
SID=
IFS= read -r SID 2>/dev/null < /proc/self/stat || :
ns_field4 "\${SID##*) }"
# Only a session of its own (tmux's pane) is the attempt's: a runner started in its caller's session (a
# probe) reaps by marker alone.
case $SID in "$$") ;; *) SID= ;; esac
RAND=$(od -An -N8 -tx1 /dev/urandom 2>/dev/null | tr -cd 0-9a-f)
MARK=$(printf '%s.%s.%s' "\${NIGHTSHIFT_TASK:-task}" "$ATTEMPT" "\${RAND:-$$}" | tr -cd 'a-z0-9.-')
printf '%s %s\\n' "$MARK" "$SID" > "$TASK_DIR/reap-$ATTEMPT"
# The prompt word is byte-exact: $(...) strips trailing newlines, so it reads through a sentinel "x"
# and removes it. (NUL cannot occur: specs with NUL bytes are refused by the parser.)
n=$#
i=0
while [ "$i" -lt "$n" ]; do
  a=$1
  shift
  case $a in
    '{{nightshift:prompt}}') P=$(cat "$PROMPT_FILE"; printf x); set -- "$@" "\${P%x}" ;;
    '{{nightshift:prompt-file}}') set -- "$@" "$PROMPT_FILE" ;;
    *) set -- "$@" "$a" ;;
  esac
  i=$((i + 1))
done
finish() {
  ENDED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  printf '{"attempt":%s,"exitCode":%s,"startedAt":"%s","endedAt":"%s","committed":%s,"runnerFailed":%s}\\n' "$ATTEMPT" "$1" "$STARTED" "$ENDED" "\${2:-false}" "\${3:-false}" > "$TASK_DIR/exit.json.tmp"
  mv -f "$TASK_DIR/exit.json.tmp" "$TASK_DIR/exit.json"
  if [ -n "$EXIT_SOCKET" ]; then env -i PATH="$PATH" HOME="$HOME" tmux -S "$EXIT_SOCKET" wait-for -S ${EXIT_CHANNEL} >/dev/null 2>&1; fi
  exit "$1"
}
if [ "$#" -eq 0 ]; then
  echo "nightshift: no executor command" >> "$LOG"
  finish 127 false true
fi
if ! cd "$WORKTREE"; then
  echo "nightshift: the worktree $WORKTREE is missing" >> "$LOG"
  finish 127 false true
fi
IN=/dev/null
if [ "$STDIN_MODE" = prompt ]; then IN=$PROMPT_FILE; fi
HEAD0=$(git rev-parse -q --verify HEAD 2>/dev/null || :)
if [ -n "$SECRET_VARS" ]; then
  # mawk reads a pipe in blocks unless told -W interactive: lines would reach the pane late.
  AWK_OPTS=
  case $(awk -W version 2>&1 </dev/null) in *mawk*) AWK_OPTS="-W interactive" ;; esac
  { NIGHTSHIFT_ATTEMPT=$MARK TMUX_TMPDIR=$ISOLATED_TMUX "$@" < "$IN" 2>&1; echo $? > "$RC_FILE"; ns_reap "$MARK" "$SID"; } |
    NIGHTSHIFT_SECRET_VARS=$SECRET_VARS LC_ALL=C awk $AWK_OPTS ${quoteWord(REDACT_AWK)} |
    tee -a "$LOG"
else
  { NIGHTSHIFT_ATTEMPT=$MARK TMUX_TMPDIR=$ISOLATED_TMUX "$@" < "$IN" 2>&1; echo $? > "$RC_FILE"; ns_reap "$MARK" "$SID"; } | tee -a "$LOG"
fi
# What the executor started went as it exited (above), so its output pipe closed; once more, before the
# leftovers are committed and exit.json is written.
ns_reap "$MARK" "$SID"
CODE=$(cat "$RC_FILE" 2>/dev/null || echo 255)
# Only in the attempt's own worktree: a directory that is not a repository's top (a probe's task
# directory inside the user's clone) would make git commit whatever repository encloses it.
if [ "$(git rev-parse --show-toplevel 2>/dev/null || :)" != "$(pwd -P)" ]; then
  echo "nightshift: not committing leftovers: $WORKTREE is not the top of a git worktree" >> "$LOG"
elif [ -n "$(git status --porcelain 2>/dev/null)" ]; then
  git add -A >/dev/null 2>&1
  git -c user.name=nightshift -c user.email=nightshift@localhost commit -q --no-verify \\
    -m "nightshift: work left uncommitted by attempt $ATTEMPT" >/dev/null 2>&1
  echo "nightshift: committed uncommitted leftovers" >> "$LOG"
fi
COMMITTED=false
if [ "$(git rev-parse -q --verify HEAD 2>/dev/null || :)" != "$HEAD0" ]; then COMMITTED=true; fi
finish "$CODE" "$COMMITTED"
`;

/**
 * A reference-transaction hook for the host's bare mirror: refuses any update of the main branch
 * (from the worktree or a push into the mirror) and records who tried, so the supervisor can fail the
 * task as main-touched.
 */
export function refGuardHook(mirror: string, mainBranches: readonly string[]): string {
  const cases = mainBranches.map((b) => quoteWord(`refs/heads/${b}`)).join('|');
  return `#!/bin/sh
# nightshift: executors work on ns/<id> only; main is the supervisor's.
[ "$1" = prepared ] || exit 0
MIRROR=${quoteWord(mirror)}
status=0
while read -r old new ref; do
  case $ref in
    ${cases})
      t=$(printf %s "\${NIGHTSHIFT_TASK:-unknown}" | tr -cd 'a-z0-9-')
      mkdir -p "$MIRROR/nightshift-touched"
      echo "$ref $new" >> "$MIRROR/nightshift-touched/\${t:-unknown}"
      echo "nightshift: refusing to update $ref: executors work on their ns/<id> branch only" >&2
      status=1
      ;;
  esac
done
exit $status
`;
}

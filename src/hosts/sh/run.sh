#!/bin/sh
# usage: run.sh <task-dir> <worktree> <attempt> <null|prompt> -- <executor argv...>
#    or: run.sh <task-dir> <worktree> <attempt> <null|prompt> --argv-file
# The runner: starts one executor attempt inside tmux.
# - with --argv-file, reads the executor argv from <task-dir>/argv, written by quoteArgv (hosts/quote.ts):
#   tmux refuses a command line over ~16 KB, and an executor's argv can be longer than that;
# - sources the provider's env from <task-dir>/env (0600) and deletes it at once;
# - replaces the prompt tokens in argv with the prompt file's contents (byte-exact, trailing newlines
#   included) / path;
# - when the env file names secret variables (NIGHTSHIFT_SECRET_VARS, written by envFileText), pipes the
#   executor's output through redact.awk, so neither the pane nor the log shows their values;
# - unsets TMUX and TMUX_PANE (the pane's: they name the executors' tmux socket) and gives the executor a
#   TMUX_TMPDIR of its own (<task-dir>/tmux-<n>), so `tmux -L <name>` finds no server of the user's;
# - gives the executor (and so everything it starts) the marker NIGHTSHIFT_ATTEMPT=<id>.<n>.<random>,
#   recorded with the runner's session id in <task-dir>/reap-<n> for reap.sh;
# - runs the repo's setup hooks from <task-dir>/hooks (hosts/hooks.ts; sourced, then deleted): afterCreate
#   (or its cache) and beforeRun before the executor, which does not start when one fails or times out
#   (exit.json says `hook`), afterRun after it, whatever its outcome (hooks-fn.sh), then writes
#   <task-dir>/after-run-<n>: when the supervisor kills the session before that, after-run.sh runs it;
# - tees stdout+stderr to <task-dir>/attempt-<n>.log;
# - when the executor exits, kills (ns_reap, reap-fn.sh) every process carrying its marker, then, once the
#   output pipe is closed, every process left in the runner's session when it leads one (in tmux it does;
#   a probe's runner shares its caller's and reaps by marker only): nothing the attempt started outlives
#   it;
# - commits what the executor left uncommitted;
# - writes <task-dir>/exit.json atomically (temp file + mv) with the exit code, times, and whether the
#   attempt moved HEAD (`committed`: its own commits or the leftovers commit) - for crash-on-start - and
#   whether the runner itself failed before the executor could start (`runnerFailed`: no worktree, no
#   command), which is the worker's fault, never the provider's;
# - then signals the tmux wait channel nightshift-exit (EXIT_CHANNEL, hosts/scripts.ts) on the server
#   named by $NIGHTSHIFT_EXIT_SOCKET (set by the launch, and unset before the executor starts), so the
#   supervisor hears of the exit at once instead of at its next poll. The signal only wakes the
#   supervisor; exit.json stays the record.

# nightshift runner script (written by nightshift; do not edit).
set -u
EXIT_SOCKET=${NIGHTSHIFT_EXIT_SOCKET:-}
unset NIGHTSHIFT_EXIT_SOCKET
TASK_DIR=$1
WORKTREE=$2
ATTEMPT=$3
STDIN_MODE=$4
shift 4
if [ "${1:-}" = "--argv-file" ]; then
  # Single-quoted words from quoteArgv: eval only removes the quotes, it expands nothing.
  eval "set -- $(cat "$TASK_DIR/argv" 2>/dev/null)"
elif [ "${1:-}" = "--" ]; then
  shift
fi
LOG="$TASK_DIR/attempt-$ATTEMPT.log"
PROMPT_FILE="$TASK_DIR/prompt.md"
ENV_FILE="$TASK_DIR/env"
RC_FILE="$TASK_DIR/rc-$ATTEMPT"
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rm -f "$TASK_DIR/exit.json" "$RC_FILE" "$TASK_DIR/after-run-$ATTEMPT"
echo $$ > "$TASK_DIR/runner.pid"
if [ -f "$ENV_FILE" ]; then
  set -a
  # shellcheck source=/dev/null # the provider's KEY='value' lines (envFileText, hosts/quote.ts)
  . "$ENV_FILE"
  set +a
  rm -f "$ENV_FILE"
fi
# Names (not values) of the secret variables: the output filter reads their values from its environment.
SECRET_VARS=${NIGHTSHIFT_SECRET_VARS:-}
unset NIGHTSHIFT_SECRET_VARS
# The pane's TMUX names the executors' tmux socket: the executor gets none, and a TMUX_TMPDIR of its own.
unset TMUX TMUX_PANE
ISOLATED_TMUX="$TASK_DIR/tmux-$ATTEMPT"
# shellcheck disable=SC2174 # only the last directory is new: TASK_DIR exists
mkdir -p -m 700 "$ISOLATED_TMUX"
. ./reap-fn.sh # nightshift:include
# The runner's session id: the 4th field after the command name's ")" in /proc/self/stat.
ns_field4() {
  set -f
  # shellcheck disable=SC2086 # split on purpose (globbing is off)
  set -- $1
  set +f
  SID=${4:-}
}
SID=
IFS= read -r SID 2>/dev/null < /proc/self/stat || :
ns_field4 "${SID##*) }"
# Only a session of its own (tmux's pane) is the attempt's: a runner started in its caller's session (a
# probe) reaps by marker alone.
case $SID in "$$") ;; *) SID= ;; esac
RAND=$(od -An -N8 -tx1 /dev/urandom 2>/dev/null | tr -cd 0-9a-f)
MARK=$(printf '%s.%s.%s' "${NIGHTSHIFT_TASK:-task}" "$ATTEMPT" "${RAND:-$$}" | tr -cd 'a-z0-9.-')
printf '%s %s\n' "$MARK" "$SID" > "$TASK_DIR/reap-$ATTEMPT"
# The prompt word is byte-exact: $(...) strips trailing newlines, so it reads through a sentinel "x"
# and removes it. (NUL cannot occur: specs with NUL bytes are refused by the parser.)
n=$#
i=0
while [ "$i" -lt "$n" ]; do
  a=$1
  shift
  case $a in
    '{{nightshift:prompt}}') P=$(cat "$PROMPT_FILE"; printf x); set -- "$@" "${P%x}" ;;
    '{{nightshift:prompt-file}}') set -- "$@" "$PROMPT_FILE" ;;
    *) set -- "$@" "$a" ;;
  esac
  i=$((i + 1))
done
HOOK_JSON=
CACHE_JSON=
finish() {
  ENDED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  printf '{"attempt":%s,"exitCode":%s,"startedAt":"%s","endedAt":"%s","committed":%s,"runnerFailed":%s%s%s}\n' "$ATTEMPT" "$1" "$STARTED" "$ENDED" "${2:-false}" "${3:-false}" "$HOOK_JSON" "$CACHE_JSON" > "$TASK_DIR/exit.json.tmp"
  mv -f "$TASK_DIR/exit.json.tmp" "$TASK_DIR/exit.json"
  if [ -n "$EXIT_SOCKET" ]; then env -i PATH="$PATH" HOME="$HOME" tmux -S "$EXIT_SOCKET" wait-for -S nightshift-exit >/dev/null 2>&1; fi
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
# mawk reads a pipe in blocks unless told -W interactive: lines would reach the pane late.
AWK_OPTS=
if [ -n "$SECRET_VARS" ]; then
  case $(awk -W version 2>&1 </dev/null) in *mawk*) AWK_OPTS="-W interactive" ;; esac
fi
# The filter's program: redact.awk, set as nightshift loads this script.
NS_REDACT_AWK= # nightshift:param
. ./hooks-fn.sh # nightshift:include
# The repo's setup hooks, from the supervisor's config (never the branch): read, then deleted.
HOOKS_FILE="$TASK_DIR/hooks"
if [ -f "$HOOKS_FILE" ]; then
  # shellcheck source=/dev/null # NS_H_* lines written by hooksFileText (hosts/hooks.ts)
  . "$HOOKS_FILE"
  rm -f "$HOOKS_FILE"
fi
HOOKS_DONE= # nightshift:param
ns_setup_hooks
if [ -n "$HOOK_FAILED" ]; then
  # The executor never starts: a hook's failure is the repo's or the worker's (hook-failed, hook-timeout).
  HOOK_JSON=$(printf ',"hook":{"name":"%s","outcome":"%s","exitCode":%s}' "$HOOK_FAILED" "$HOOK_HOW" "$HOOK_RC")
  if [ -n "${NS_H_AFTER_RUN:-}" ]; then ns_hook afterRun "$NS_H_AFTER_RUN" "${NS_H_AFTER_RUN_T:-600}"; fi
  : > "$TASK_DIR/after-run-$ATTEMPT"
  ns_reap "$MARK" "$SID"
  finish "$HOOK_RC" false
fi
if [ -n "${NS_H_AFTER_CREATE:-}${NS_H_BEFORE_RUN:-}" ]; then
  # What the executor printed starts after this line (HOOKS_DONE, hosts/hooks.ts), and its time now: the
  # crash-on-start rule judges the executor's own output and time, not the hooks'.
  echo "$HOOKS_DONE" | tee -a "$LOG"
  STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
fi
HEAD0=$(git rev-parse -q --verify HEAD 2>/dev/null || :)
if [ -n "$SECRET_VARS" ]; then
  # $AWK_OPTS is split on purpose.
  # shellcheck disable=SC2086
  { NIGHTSHIFT_ATTEMPT=$MARK TMUX_TMPDIR=$ISOLATED_TMUX "$@" < "$IN" 2>&1; echo $? > "$RC_FILE"; ns_reap "$MARK" "$SID"; } |
    NIGHTSHIFT_SECRET_VARS=$SECRET_VARS LC_ALL=C awk $AWK_OPTS "$NS_REDACT_AWK" |
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
  git -c user.name=nightshift -c user.email=nightshift@localhost commit -q --no-verify \
    -m "nightshift: work left uncommitted by attempt $ATTEMPT" >/dev/null 2>&1
  echo "nightshift: committed uncommitted leftovers" >> "$LOG"
fi
COMMITTED=false
if [ "$(git rev-parse -q --verify HEAD 2>/dev/null || :)" != "$HEAD0" ]; then COMMITTED=true; fi
# afterRun: whatever the executor's outcome, after its leftovers are committed (what the hook changes is
# not the attempt's work); a failure is logged and changes nothing.
if [ -n "${NS_H_AFTER_RUN:-}" ]; then
  ns_hook afterRun "$NS_H_AFTER_RUN" "${NS_H_AFTER_RUN_T:-600}"
  ns_reap "$MARK" "$SID"
fi
# Done with afterRun (or it had none): a kill from now on does not run it again (after-run.sh).
: > "$TASK_DIR/after-run-$ATTEMPT"
finish "$CODE" "$COMMITTED"

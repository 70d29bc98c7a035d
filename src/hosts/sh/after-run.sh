# usage: sh -c AFTER_RUN_SH sh <task-dir> <worktree> <attempt> <hook words> <seconds>
# The repo's afterRun hook for an attempt the supervisor ended (timeout, idle, kill request, a live
# failure, the night window's end, a lost session): its runner died with its tmux session, so the hook its
# runner would have run at the end runs here, after the kill, the reap and the salvage (WorkerHost.kill).
# The caller runs it with a clean environment (PATH, HOME, LANG, NIGHTSHIFT_TASK: env -i), as the runner
# does. <hook words> are quoteArgv words (hosts/quote.ts) from the supervisor's config, never from a file
# the executor could have written; <seconds> its timeout, after which every process carrying its marker
# is killed (ns_hook, hooks-fn.sh). Its output is appended to <task-dir>/attempt-<attempt>.log (the
# supervisor mirrors it, redacted, after this returns); its failure is only logged. Nothing runs when the
# runner never started (no reap-<attempt> record) or already finished the hook (after-run-<attempt>,
# written by run.sh and by this script). Exit 0, whatever the hook did.
TASK_DIR=$1
WORKTREE=$2
ATTEMPT=$3
LOG="$TASK_DIR/attempt-$ATTEMPT.log"
[ -r "$TASK_DIR/reap-$ATTEMPT" ] || exit 0
[ -e "$TASK_DIR/after-run-$ATTEMPT" ] && exit 0
: > "$TASK_DIR/after-run-$ATTEMPT"
. ./reap-fn.sh # nightshift:include
# The attempt's marker, as its runner recorded it (checked for shape, like reap.sh): the hook's is
# "<marker>-hook".
MARK=
read -r MARK _ < "$TASK_DIR/reap-$ATTEMPT" || :
case $MARK in ''|*[!a-z0-9.-]*) MARK=$(printf '%s.%s.after' "${NIGHTSHIFT_TASK:-task}" "$ATTEMPT" | tr -cd 'a-z0-9.-') ;; esac
ISOLATED_TMUX="$TASK_DIR/tmux-$ATTEMPT"
# No secret reaches this environment, so there is nothing for the runner's filter to replace here.
SECRET_VARS=
AWK_OPTS=
NS_REDACT_AWK=
if ! cd "$WORKTREE" 2>/dev/null; then
  echo "nightshift: hook afterRun not run: the worktree $WORKTREE is missing" >> "$LOG"
  exit 0
fi
echo "nightshift: the attempt was ended by the supervisor; its afterRun hook runs now" >> "$LOG"
. ./hooks-fn.sh # nightshift:include
ns_hook afterRun "$4" "$5" > /dev/null
exit 0

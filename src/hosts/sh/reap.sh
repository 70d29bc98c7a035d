# usage: sh -c REAP_SH sh <task-dir> <attempt>
# Kills what attempt <attempt> left alive (ns_reap, reap-fn.sh), from the marker and session id its runner
# recorded in <task-dir>/reap-<attempt>: for the kill, timeout and clean-up paths, after the session is
# killed. The record lives where the executor can write, so it is checked for shape: a marker of
# [a-z0-9.-] and a number. The session is left out when its id now names a live process other than the
# runner (whose argv holds <task-dir>). Exit 0 when there is no record (the runner never got that far), 1
# when something survived.
. ./reap-fn.sh # nightshift:include
dir=$1
rec="$1/reap-$2"
[ -r "$rec" ] || exit 0
m='' s=''
read -r m s < "$rec" || :
case $m in ''|*[!a-z0-9.-]*) m= ;; esac
case $s in ''|*[!0-9]*) s= ;; esac
# A session outlives its leader while members remain, and its id is not reused meanwhile; but once it is
# empty the number may lead another session: a live leader that is not this attempt's runner is not ours.
l=
if [ -n "$s" ] && IFS= read -r l 2>/dev/null < "/proc/$s/stat"; then
  set -f
  # The fields after the command name, split on purpose (globbing is off).
  # shellcheck disable=SC2086
  set -- ${l##*) }
  set +f
  if [ "${1:-}" != Z ] && ! tr '\000' '\n' < "/proc/$s/cmdline" 2>/dev/null | grep -qxF -- "$dir"; then s=; fi
fi
ns_reap "$m" "$s"

# ns_reap <marker> <session id>: TERM, then (after a 2 s grace) KILL, until none is left, every process
# whose environment holds NIGHTSHIFT_ATTEMPT=<marker>, and, when <session id> is not empty, every process
# of that session but the shell $$ and its direct children (the runner and its output filter, when called
# from the runner's pipeline), and never the calling shell itself (read from /proc/self/stat: $$ is the
# parent's in a subshell). The executor's own leftovers are never the runner's children: an orphan goes to
# init. Linux /proc only: elsewhere it finds nothing. Between the scans only builtins run in the caller's
# session (read, kill), so a session scan never meets the reaper's own helpers. Returns 1 when something
# is still alive after 50 KILL rounds. A process that removed the marker from its environment and left the
# session (setsid) is out of its reach. Included by run.sh and reap.sh.
ns_self() {
  ns_me=$$
  # shellcheck disable=SC2034 # ns_rest takes the rest of the line: only the first field is wanted.
  IFS=' ' read -r ns_me ns_rest 2>/dev/null < /proc/self/stat || :
}
ns_pids() {
  ns_found=
  if [ -n "$ns_m" ]; then
    # /proc/<pid>/environ paths, one word each.
    # shellcheck disable=SC2013
    for ns_f in $(grep -lsaF "NIGHTSHIFT_ATTEMPT=$ns_m" /proc/[0-9]*/environ 2>/dev/null); do
      ns_p=${ns_f#/proc/}
      ns_p=${ns_p%/environ}
      [ "$ns_p" = "$ns_me" ] || ns_found="$ns_found $ns_p"
    done
  fi
  [ -n "$ns_s" ] || return 0
  for ns_f in /proc/[0-9]*/stat; do
    ns_l=
    IFS= read -r ns_l 2>/dev/null < "$ns_f" || continue
    ns_p=${ns_f#/proc/}
    ns_p=${ns_p%/stat}
    # shellcheck disable=SC2015 # continue unless both hold
    [ "$ns_p" != "$ns_me" ] && [ "$ns_p" != $$ ] || continue
    set -f
    # The fields after the command name, split on purpose (globbing is off).
    # shellcheck disable=SC2086
    set -- ${ns_l##*) }
    set +f
    # shellcheck disable=SC2015 # continue unless all three hold
    [ "${1:-}" != Z ] && [ "${4:-}" = "$ns_s" ] && [ "${2:-}" != $$ ] || continue
    case " $ns_found " in *" $ns_p "*) ;; *) ns_found="$ns_found $ns_p" ;; esac
  done
}
ns_reap() {
  ns_m=$1
  ns_s=$2
  ns_self
  ns_pids
  [ -n "$ns_found" ] || return 0
  # $ns_found is a list of pids, split on purpose.
  # shellcheck disable=SC2086
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
    # shellcheck disable=SC2086 # a list of pids, split on purpose
    kill -STOP $ns_found 2>/dev/null
    # shellcheck disable=SC2086 # a list of pids, split on purpose
    kill -KILL $ns_found 2>/dev/null
    ns_pids
    ns_i=$((ns_i + 1))
  done
  [ -z "$ns_found" ]
}

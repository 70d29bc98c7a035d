# usage: sh -c STATUS_SH sh <TS> <TC> <n> <m> <task-dir>×n <mirror>×m <log>×n
# Prints four sections, each ended by a line ".": a line "panes" and every pane on the socket (PANE_FORMAT
# of hosts/tmux.ts, each line after "pane<TAB>"); n lines, each attempt's exit.json (empty if none); for
# each mirror a line "mirror <k>" and its ns/ branches ("<sha> refs/heads/ns/<id>"); then `wc -c` of the
# logs that exist. A fixed number of processes whatever n: tmux, one git per mirror, one wc (exit.json is
# read by the shell itself). The panes come first, the files after: the runner writes exit.json before it
# exits, so a dead pane seen before a missing exit.json really is a runner that died without recording its
# end. Exit 3 with tmux's message when list-panes fails for another reason than there being no server
# (NO_SERVER of hosts/tmux.ts).
TS=$1 TC=$2 n=$3 m=$4
shift 4
. ./tmux-fn.sh # nightshift:include
echo panes
if ! panes=$(ns_tmux list-panes -a -F 'pane	#{session_name}	#{pane_dead}	#{pane_dead_status}	#{pane_pid}' 2>&1); then
  if printf '%s' "$panes" | grep -Eqi 'no server running|error connecting|No such file'; then panes=; else printf '%s\n' "$panes" >&2; exit 3; fi
fi
if [ -n "$panes" ]; then printf '%s\n' "$panes"; fi
echo .
i=0
while [ "$i" -lt "$n" ]; do
  x=
  if [ -r "$1/exit.json" ]; then IFS= read -r x < "$1/exit.json" || :; fi
  printf '%s\n' "$x"
  shift
  i=$((i + 1))
done
echo .
i=0
while [ "$i" -lt "$m" ]; do
  echo "mirror $i"
  git --git-dir "$1" for-each-ref --format='%(objectname) %(refname)' refs/heads/ns/
  shift
  i=$((i + 1))
done
echo .
wc -c -- "$@" 2>/dev/null
exit 0

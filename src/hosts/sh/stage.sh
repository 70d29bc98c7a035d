# usage: sh -c STAGE_SH sh <task-dir> <prompt-bytes> <env-bytes> <argv-bytes> <session> <TS> <TC> <mirror>
#          <attempt> <protected refs, space-separated> <new-session args...>
# stdin: the prompt, the env file, the argv file and the hooks file (empty: none), back to back.
# Refuses (75, STAGE_BUSY) while the session's pane is alive, without writing anything; otherwise kills a
# dead session, writes the three files, 0600, records the mirror's protected refs in main-refs-<attempt>
# (a line "# <ref names>", then "<ref> <sha>" for those that exist; mainMoved compares them at
# collection), and starts the session: staging and starting are one round trip. When the refs cannot be
# read it removes the env file and exits 77 (STAGE_NO_RECORD) without starting anything: no attempt runs
# unguarded. TS and TC name the tmux socket and config (tmux-fn.sh). The refs are full ref names, which
# git forbids to hold spaces or glob characters. A new-session that fails without making the session (the
# server was exiting as it connected) is tried once more; 76 (STAGE_NO_SESSION) when it still fails.
# Before anything else it refuses (78, STAGE_FOREIGN_SERVER, printing the names in the server's
# `show-environment -g` lines that SERVER_ENV_OK_ERE of hosts/tmux.ts does not allow) a running server
# whose global environment holds anything but what a clean tmux start gives it: every executor on that
# server could read it.
dir=$1 plen=$2 elen=$3 alen=$4 session=$5 TS=$6 TC=$7 mirror=$8 att=$9 refs=${10}
shift 10
. ./tmux-fn.sh # nightshift:include
if genv=$(ns_tmux show-environment -g 2>/dev/null); then
  foreign=$(printf '%s\n' "$genv" | grep -Ev '^-?(HOME|LANG|LC_ALL|PATH|PWD|SHELL|TERM)(=|$)')
  if [ -n "$foreign" ]; then
    cat > /dev/null
    printf '%s\n' "$foreign" | cut -d= -f1
    exit 78
  fi
fi
if ns_tmux has-session -t "=$session" 2>/dev/null; then
  if [ "$(ns_tmux display-message -p -t "=$session:" '#{pane_dead}' 2>/dev/null || echo 1)" != 1 ]; then
    cat > /dev/null
    exit 75
  fi
  ns_tmux kill-session -t "=$session"
fi
set -e
umask 077
mkdir -p "$dir"
cd "$dir"
cat > .stage
head -c "$plen" .stage > prompt.md
tail -c +"$((plen + 1))" .stage | head -c "$elen" > "env"
tail -c +"$((plen + elen + 1))" .stage | head -c "$alen" > argv
tail -c +"$((plen + elen + alen + 1))" .stage > hooks
rm -f .stage
if [ -s hooks ]; then chmod 600 hooks; else rm -f hooks; fi
chmod 600 prompt.md env argv
set -f
# $refs is split on purpose (globbing is off): one argument per ref name.
# shellcheck disable=SC2086
if ! { printf '# %s\n' "$refs" && git --git-dir "$mirror" for-each-ref --format='%(refname) %(objectname)' $refs; } > main-refs.tmp; then
  rm -f env main-refs.tmp
  exit 77
fi
mv -f main-refs.tmp "main-refs-$att"
# A server whose last session just ended exits (exit-empty): a new-session that reached it then fails
# with "server exited unexpectedly" and made no session. Once more, on a new server, in that case only.
if ! ns_tmux "$@"; then
  if ns_tmux has-session -t "=$session" 2>/dev/null || ! ns_tmux "$@"; then rm -f env; exit 76; fi
fi

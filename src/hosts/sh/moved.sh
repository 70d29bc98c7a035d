# usage: sh -c MOVED_SH sh <task-dir> <mirror> <attempt> <id> <restores> <unblamed> <fallback refs...>
# Compares the mirror's protected refs with the record the launch made (main-refs-<attempt>, stage.sh)
# and restores every one that changed. <restores> and <unblamed> are what this supervisor remembers of
# earlier collections on this mirror (ref-guard.ts), lines "<ref> <sha|-> <sha|->" (ref names hold no
# spaces). Prints a line per change: "<ref> <from> <to> <blame> <restored>", from/to shas or "-" for
# absent, blame "task" when <to> is reachable from a value the task's branch ever had (the reflogs of
# refs/heads/ns/<id> and of its worktree's HEAD, and its tip) and "unattributed" otherwise, restored
# "restored", "lost" (the recorded commit is gone, or the update failed) or "earlier" (an unblamed move
# an earlier collection put back). The ref names come from the record's first line ("# <refs>"); the
# arguments only stand in for a record written before that line existed. Exit 3 when there is no
# record (an attempt launched before records). A fixed number of git processes per changed ref, plus
# three to read the task's reflogs once.
dir=$1 mirror=$2 att=$3 id=$4 restores=$5 unblamed=$6
shift 6
set -f
rec="$dir/main-refs-$att"
[ -r "$rec" ] || exit 3
head=
IFS= read -r head < "$rec" || :
# The names are split on purpose (globbing is off): one argument per ref.
# shellcheck disable=SC2086
case $head in
  '# '*) set -- ${head#'# '} ;;
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
  from='' to=''
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

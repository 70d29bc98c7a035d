# usage: sh -c MOVED_SH sh <task-dir> <mirror> <attempt> <id> <fallback protected refs...>
# Compares the mirror's protected refs with the record the launch made (main-refs-<attempt>, stage.sh),
# restores every one that changed, and prints a line per changed ref: "<ref> <from> <to> <blame>
# <restored>", where from/to are shas or "-" for absent, blame is "task" when <to> is reachable from a
# value the task's branch ever had (the reflogs of refs/heads/ns/<id> and of its worktree's HEAD, and its
# tip) and "unattributed" otherwise, and restored is "restored" or "lost" (the recorded commit is gone, or
# the update failed). The ref names come from the record's first line ("# <refs>"); the arguments only
# stand in for a record written before that line existed. Exit 3 when there is no record (an attempt
# launched before records). A fixed number of git processes per changed ref, plus three to read the
# task's reflogs once.
dir=$1 mirror=$2 att=$3 id=$4
shift 4
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
for ref do
  from='' to=''
  while read -r r s; do if [ "$r" = "$ref" ]; then from=$s; fi; done < "$rec"
  while read -r r s; do if [ "$r" = "$ref" ]; then to=$s; fi; done <<NOW
$now
NOW
  [ "$from" != "$to" ] || continue
  blame=unattributed
  if [ -n "$to" ]; then
    if [ -z "$heldread" ]; then
      heldread=1
      held=$( { g rev-parse -q --verify "refs/heads/ns/$id"
        g log -g --format=%H "refs/heads/ns/$id"
        if [ -d "$mirror/worktrees/$id" ]; then git --git-dir "$mirror/worktrees/$id" log -g --format=%H HEAD; fi
      } 2>/dev/null | sed -n 's/^\([0-9a-f]\{40,64\}\)$/^\1/p' | sort -u)
    fi
    if [ -n "$held" ] && out=$(printf '%s\n%s\n' "$to" "$held" | g rev-list --stdin --ignore-missing -n 1) && [ -z "$out" ]; then
      blame=task
    fi
  fi
  restored=lost
  if [ -n "$from" ]; then
    if g cat-file -e "$from^{commit}" 2>/dev/null && g update-ref -m 'nightshift: protected ref restored' "$ref" "$from" "$to"; then restored=restored; fi
  elif g update-ref -d "$ref" "$to"; then
    restored=restored
  fi
  printf '%s %s %s %s %s\n' "$ref" "${from:--}" "${to:--}" "$blame" "$restored"
done
exit 0

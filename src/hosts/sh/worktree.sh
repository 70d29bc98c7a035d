# usage: sh -c WORKTREE_SH sh <mirror> <worktree> <id> <always|descendant>
# Removes whatever is at <worktree>, then adds it on ns/<id>, continuing the branch when the mirror has it
# and either `always` is given (a review round: the branch is the task's work, whatever its base) or it
# descends from refs/nightshift/base/<id>. Otherwise ns/<id> starts anew at the base: a branch that does
# not descend from the base the supervisor records is stale (left by a worktree prepared ahead on an older
# main, say) and would fail the descent check at collection.
mirror=$1 wt=$2 id=$3 keep=$4
if [ -e "$wt" ]; then
  git --git-dir "$mirror" worktree remove --force "$wt" >/dev/null 2>&1
  rm -rf "$wt"
fi
git --git-dir "$mirror" worktree prune
if git --git-dir "$mirror" rev-parse --verify -q "refs/heads/ns/$id" >/dev/null; then
  if [ "$keep" = always ] || git --git-dir "$mirror" merge-base --is-ancestor "refs/nightshift/base/$id" "refs/heads/ns/$id"; then
    exec git --git-dir "$mirror" worktree add -q "$wt" "ns/$id"
  fi
fi
exec git --git-dir "$mirror" worktree add -q -B "ns/$id" "$wt" "refs/nightshift/base/$id"

#!/bin/sh
# A reference-transaction hook for the host's bare mirror (installed by ensureMirror, hosts/mirror.ts):
# refuses any update of a protected ref (the main branch, from the worktree or a push into the mirror) and
# records who tried in <mirror>/nightshift-touched/<task>, so the supervisor can fail the task as
# main-touched. MIRROR and PROTECTED (full ref names, space-separated: git forbids spaces in them) are set
# as nightshift writes the hook.

# nightshift: executors work on ns/<id> only; main is the supervisor's.
[ "$1" = prepared ] || exit 0
MIRROR= # nightshift:param
PROTECTED= # nightshift:param
status=0
set -f
while read -r _ new ref; do
  # $PROTECTED is split on purpose (globbing is off).
  # shellcheck disable=SC2086
  for p in $PROTECTED; do
    [ "$ref" = "$p" ] || continue
    t=$(printf %s "${NIGHTSHIFT_TASK:-unknown}" | tr -cd 'a-z0-9-')
    mkdir -p "$MIRROR/nightshift-touched"
    echo "$ref $new" >> "$MIRROR/nightshift-touched/${t:-unknown}"
    echo "nightshift: refusing to update $ref: executors work on their ns/<id> branch only" >&2
    status=1
    break
  done
done
exit $status

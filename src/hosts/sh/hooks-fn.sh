# The repo's setup hooks on the worker (docs/integrations.md#setup-hooks), included by run.sh, which sets
# TASK_DIR, ATTEMPT, LOG, MARK, ISOLATED_TMUX, SECRET_VARS and NS_REDACT_AWK and has sourced
# <task-dir>/hooks (hosts/hooks.ts hooksFileText): NS_H_<HOOK> holds the hook's argv as quoteArgv words,
# NS_H_<HOOK>_T its timeout in seconds; for a cached afterCreate NS_H_KEY_FILES and NS_H_CACHE_PATHS
# (quoteArgv words), NS_H_CACHE_DIR (this repo's cache on the host) and NS_H_CACHE_EXPECT (the
# "<key>:<digest>" the supervisor last heard from a runner that stored it, or empty).
#
# ns_hook <name> <words> <seconds>: runs the hook in the worktree (the current directory) in a clean
# environment (PATH, HOME, LANG, CI, NIGHTSHIFT_TASK, NIGHTSHIFT_HOOK: never the provider's variables),
# its output (redacted like the executor's) appended to the attempt's log; after <seconds> every process
# carrying its marker is killed (ns_reap). Sets HOOK_RC and HOOK_HOW (ok, failed or timeout).
ns_hook() {
  ns_hname=$1 ns_hwords=$2 ns_hsecs=$3
  ns_hrc="$TASK_DIR/hook-rc-$ATTEMPT"
  ns_hmark="$MARK-hook"
  rm -f "$ns_hrc"
  printf 'nightshift: hook %s: %s (timeout %ss)\n' "$ns_hname" "$ns_hwords" "$ns_hsecs" | tee -a "$LOG"
  if [ -n "$SECRET_VARS" ]; then
    # shellcheck disable=SC2086 # $AWK_OPTS is split on purpose
    { ns_hook_exec < /dev/null 2>&1; echo $? > "$ns_hrc"; } |
      NIGHTSHIFT_SECRET_VARS=$SECRET_VARS LC_ALL=C awk $AWK_OPTS "$NS_REDACT_AWK" | tee -a "$LOG" &
  else
    { ns_hook_exec < /dev/null 2>&1; echo $? > "$ns_hrc"; } | tee -a "$LOG" &
  fi
  ns_hend=$(($(date +%s) + ns_hsecs))
  while [ ! -s "$ns_hrc" ] && [ "$(date +%s)" -lt "$ns_hend" ]; do
    sleep 0.1 2>/dev/null || sleep 1
  done
  HOOK_HOW=ok
  if [ ! -s "$ns_hrc" ]; then
    HOOK_HOW=timeout
    ns_reap "$ns_hmark" ""
  fi
  wait
  HOOK_RC=$(cat "$ns_hrc" 2>/dev/null || echo 255)
  case $HOOK_RC in '' | *[!0-9]*) HOOK_RC=255 ;; esac
  if [ "$HOOK_HOW" = timeout ]; then
    printf 'nightshift: hook %s timed out after %ss and was killed\n' "$ns_hname" "$ns_hsecs" | tee -a "$LOG"
  elif [ "$HOOK_RC" != 0 ]; then
    HOOK_HOW=failed
    printf 'nightshift: hook %s failed with exit %s\n' "$ns_hname" "$HOOK_RC" | tee -a "$LOG"
  fi
  rm -f "$ns_hrc"
}
# shellcheck disable=SC2120 # its arguments are the hook's words, set by eval
ns_hook_exec() {
  # quoteArgv words: eval only removes the quotes, it expands nothing.
  eval "set -- $ns_hwords"
  env -i PATH="$PATH" HOME="$HOME" LANG=C.UTF-8 CI=true NIGHTSHIFT_TASK="${NIGHTSHIFT_TASK:-}" \
    NIGHTSHIFT_HOOK="$ns_hname" NIGHTSHIFT_ATTEMPT="$ns_hmark" TMUX_TMPDIR="$ISOLATED_TMUX" "$@"
}
# ns_sha: the sha256 of stdin, with sha256sum or shasum.
ns_sha() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum; else shasum -a 256; fi
}
# ns_tree_digest <dir>: one sha256 of the names, types, modes, link targets and contents under <dir>.
ns_tree_digest() {
  (
    cd "$1" || exit 1
    {
      find . -type f -exec sh -c 'if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"; else shasum -a 256 "$@"; fi' sh {} +
      find . -type l -exec sh -c 'for l; do printf "link %s %s\n" "$l" "$(readlink "$l")"; done' sh {} +
      find . -type f -perm -u+x -exec printf 'exec %s\n' {} +
      find . -type d -exec printf 'dir %s\n' {} +
    } | LC_ALL=C sort | ns_sha | cut -c1-64
  )
}
# ns_cache_key: the afterCreate cache key, from the hook's words, its cache paths and its key files.
ns_cache_key() {
  {
    printf '%s\n%s\n' "$NS_H_AFTER_CREATE" "$NS_H_CACHE_PATHS"
    eval "set -- $NS_H_KEY_FILES"
    for ns_f; do
      printf 'file %s\n' "$ns_f"
      if [ -f "$ns_f" ]; then ns_sha < "$ns_f"; else echo missing; fi
    done
  } | ns_sha | cut -c1-64
}
# ns_cache_restore <key>: copies the entry <key> out of the cache into the task directory, checks that the
# copy is the tree the supervisor expects (NS_H_CACHE_EXPECT: an executor may have changed the cache since
# it was stored), and only then moves its paths into the worktree. Returns 1 when nothing was restored.
ns_cache_restore() {
  [ -n "$NS_H_CACHE_EXPECT" ] && [ "${NS_H_CACHE_EXPECT%%:*}" = "$1" ] && [ -d "$NS_H_CACHE_DIR/$1/t" ] || return 1
  ns_r="$TASK_DIR/restore-$ATTEMPT"
  rm -rf "$ns_r"
  cp -a "$NS_H_CACHE_DIR/$1/t" "$ns_r" 2>/dev/null || { rm -rf "$ns_r"; return 1; }
  if [ "$(ns_tree_digest "$ns_r")" != "${NS_H_CACHE_EXPECT#*:}" ]; then
    echo "nightshift: hook afterCreate: the cache of key $1 is not what was stored (changed since): not used" | tee -a "$LOG"
    rm -rf "$ns_r"
    return 1
  fi
  eval "set -- $NS_H_CACHE_PATHS"
  for ns_p; do
    rm -rf "$ns_p"
    if [ -e "$ns_r/$ns_p" ] || [ -L "$ns_r/$ns_p" ]; then
      mkdir -p "$(dirname "$ns_p")" && mv "$ns_r/$ns_p" "$ns_p"
    fi
  done
  rm -rf "$ns_r"
  return 0
}
# ns_cache_store <key>: right after a successful afterCreate, before the executor runs, copies the cache
# paths into a fresh entry (replacing this repo's older ones) and sets CACHE_STORED to "<key>:<digest>".
ns_cache_store() {
  ns_k=$1
  ns_t="$NS_H_CACHE_DIR/.tmp-$$"
  rm -rf "$ns_t"
  mkdir -p "$ns_t/t" || return 1
  eval "set -- $NS_H_CACHE_PATHS"
  for ns_p; do
    if [ -e "$ns_p" ] || [ -L "$ns_p" ]; then
      if ! { mkdir -p "$ns_t/t/$(dirname "$ns_p")" && cp -a "$ns_p" "$ns_t/t/$ns_p"; }; then
        rm -rf "$ns_t"
        return 1
      fi
    fi
  done
  ns_d=$(ns_tree_digest "$ns_t/t") || { rm -rf "$ns_t"; return 1; }
  for ns_old in "$NS_H_CACHE_DIR"/*; do
    [ -e "$ns_old" ] && rm -rf "$ns_old"
  done
  mv "$ns_t" "$NS_H_CACHE_DIR/$ns_k" || { rm -rf "$ns_t"; return 1; }
  CACHE_STORED="$ns_k:$ns_d"
}
# ns_setup_hooks: afterCreate (restored from the cache when it can be), then beforeRun. Sets HOOK_FAILED
# to the name of a hook that failed or timed out (the executor then does not start), CACHE_JSON for
# exit.json.
ns_setup_hooks() {
  HOOK_FAILED=
  CACHE_JSON=
  if [ -n "${NS_H_AFTER_CREATE:-}" ]; then
    ns_key=
    if [ -n "${NS_H_CACHE_DIR:-}" ]; then ns_key=$(ns_cache_key); fi
    if [ -n "$ns_key" ] && ns_cache_restore "$ns_key"; then
      echo "nightshift: hook afterCreate: restored from the cache (key ${ns_key%"${ns_key#????????????}"})" | tee -a "$LOG"
      CACHE_JSON=",\"cache\":\"restored:$NS_H_CACHE_EXPECT\""
    else
      ns_hook afterCreate "$NS_H_AFTER_CREATE" "${NS_H_AFTER_CREATE_T:-600}"
      if [ "$HOOK_HOW" != ok ]; then
        HOOK_FAILED=afterCreate
        return
      fi
      CACHE_STORED=
      if [ -n "$ns_key" ] && mkdir -p "$NS_H_CACHE_DIR" && ns_cache_store "$ns_key"; then
        # shellcheck disable=SC2034 # read by run.sh's finish
        CACHE_JSON=",\"cache\":\"stored:$CACHE_STORED\""
      fi
    fi
  fi
  if [ -n "${NS_H_BEFORE_RUN:-}" ]; then
    ns_hook beforeRun "$NS_H_BEFORE_RUN" "${NS_H_BEFORE_RUN_T:-600}"
    # shellcheck disable=SC2034 # read by run.sh
    if [ "$HOOK_HOW" != ok ]; then HOOK_FAILED=beforeRun; fi
  fi
}

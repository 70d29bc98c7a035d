# ns_tmux <args...>: tmux on the executors' socket $TS with the config file $TC, in a clean environment
# with PATH and HOME the script's own. It is Tmux.base() (hosts/tmux.ts) spelled in shell: keep the two in
# step. `-u`: without a UTF-8 locale tmux prints tabs and non-ASCII characters as `_`.
ns_tmux() {
  env -i PATH="$PATH" HOME="$HOME" LANG=C.UTF-8 tmux -u -S "$TS" -f "$TC" "$@"
}

# usage: sh -c LOAD_SH sh <workdir>
# Prints four lines: the 1-minute load average, the number of cores, MemAvailable in kB and df's line for
# the workdir. Any step that fails ends it with its status.
set -e
cut -d" " -f1 /proc/loadavg
getconf _NPROCESSORS_ONLN
sed -n "s/^MemAvailable: *\([0-9]*\).*/\1/p" /proc/meminfo
df=$(df -Pk "$1")
printf '%s\n' "$df" | tail -n 1

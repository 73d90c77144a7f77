# SPDX-License-Identifier: MIT
#
# Helpers shared by the benchmark scripts (sourced, not run): stopping a
# process, timing, medians and ratios, reading fields of a JSON answer, and
# the settle step before every timed run.

stop() { # pid: TERM, wait up to 10 s, then KILL
    local pid=$1 i
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

secs_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.3f", b - a}'; }
median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
per_s() { awk -v n="$1" -v s="$2" 'BEGIN {printf "%.0f", (s > 0 ? n / s : 0)}'; }
mib_s() { awk -v n="$1" -v s="$2" 'BEGIN {printf "%.0f", (s > 0 ? n / 1048576 / s : 0)}'; }
json_str() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" <<<"$2" | head -n 1; } # field json (first match)
json_num() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$2" | head -n 1; }

job_secs() {
    local s e
    s=$(sed -n 's/.*"startedAt":"\([^"]*\)".*/\1/p' <<<"$1" | head -n 1)
    e=$(sed -n 's/.*"endedAt":"\([^"]*\)".*/\1/p' <<<"$1" | head -n 1)
    [[ -n $s && -n $e ]] || { echo "?"; return; }
    awk -v a="$(date -d "$s" +%s.%N)" -v b="$(date -d "$e" +%s.%N)" 'BEGIN {printf "%.3f", b - a}'
}

# Before each timed run, untimed, for every tool alike: flush and wait out
# ext4's "recently deleted" window. Without a journal (as here), ext4 will not
# reuse an inode freed in the last 5 s (300 s while its inode table block is
# still dirty) and checks the candidates one by one, so a run that starts
# right after the last run's files were deleted measures that scan (seen in
# perf: recently_deleted, find_get_block_common), not the tool.
SETTLE=${SETTLE:-6}
settle() {
    sync
    sleep "$SETTLE"
}

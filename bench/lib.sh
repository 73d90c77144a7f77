# SPDX-License-Identifier: MIT
#
# Helpers shared by the benchmark scripts (sourced, not run): die and need
# (a missing tool installed with apt-get), stopping a process, timing,
# medians and ratios, reading fields of a JSON answer, the settle step
# before every timed run, and the wait for a sync-out to finish.

bench_name=${0##*/} # the script's name, for its messages
die() {
    echo "$bench_name: $*" >&2
    exit 1
}

# A missing command is installed from its Debian package (apt-get; sudo -n
# when not root), or the benchmark stops saying what to install.
need() { # command package
    local cmd=$1 pkg=$2
    command -v "$cmd" >/dev/null 2>&1 && return 0
    [[ -x /usr/sbin/$cmd ]] && return 0
    echo "$bench_name: $cmd is missing; installing the Debian package $pkg" >&2
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo -n)
    "${sudo[@]}" apt-get install -y --no-install-recommends "$pkg" >&2 ||
        { "${sudo[@]}" apt-get update >&2 && "${sudo[@]}" apt-get install -y --no-install-recommends "$pkg" >&2; } ||
        die "cannot install $pkg; install it and run again"
}

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

# Polls URL (an items query with flags=dirty) until its page is empty, on
# one keep-alive connection, every POLL seconds, and prints the seconds from
# T0 (an $EPOCHREALTIME) to the poll that found it empty. A perl loop, not a
# curl process per poll: those cost some 10 ms of CPU each (curl, awk,
# sleep), taken from the two CPUs the daemon and the server share while the
# sync runs, which would be measured against ours. The token is read from
# TOKEN_FILE, never put on a command line. Exits 1 after TIMEOUT seconds, 2
# on an answer other than 200 (the answer's status on stderr).
wait_clean() { # url token_file poll timeout t0
    perl -MHTTP::Tiny -MTime::HiRes=time,sleep -e '
        my ($url, $tf, $poll, $limit, $t0) = @ARGV;
        open my $f, "<", $tf or die "wait_clean: $tf: $!\n";
        chomp(my $token = <$f>);
        my $h = HTTP::Tiny->new(keep_alive => 1, default_headers => {Authorization => "Bearer $token"});
        for (;;) {
            my $r = $h->get($url);
            unless ($r->{success}) { print STDERR "wait_clean: $r->{status} $r->{reason}\n"; exit 2 }
            if (index($r->{content}, q("items":[])) >= 0) { printf "%.3f\n", time - $t0; exit 0 }
            exit 1 if time - $t0 > $limit;
            sleep $poll;
        }' "$@"
}

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

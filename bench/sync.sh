#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Benchmark of sync on a directory share (file://), next to the tools people
# would otherwise use, in the same run on the same machine and the same tree:
#
#   1. no-op sync of a 100,000-file tree (POST /api/v1/sync, wait: true)
#      against `find DIR -printf '%s %T@\n'`, `rsync -a --dry-run DIR/ COPY/`
#      and `unison DIR COPY -batch -auto` on an already-synced pair. Runs
#      alternate (ours, find, rsync, unison, ours, ...) so that drift hits
#      all alike. Prints every run, the medians and ours/find, ours/rsync,
#      ours/unison. Goal: ours/find <= 2 and ours/unison < 1.
#   2. sync-out of 10,000 modified 4 KiB files: a second share is synced,
#      taken offline, every file is rewritten through PUT /api/v1/files/...,
#      the share is put back online (which starts a background sync) and the
#      time runs from that PUT until no dirty item is left; the remote tree
#      must then hold exactly the new bytes. `cp -r` of the same 10,000 new
#      files to a fresh dir is the reference line.
#
#   bench/sync.sh
#   RUNS=5 OUT_RUNS=3 bench/sync.sh
#   DIRS=100 FILES_PER_DIR=100 OUT_FILES=1000 bench/sync.sh   # a quick look
#   OFFLINEFILESD=/path/to/offlinefilesd bench/sync.sh       # skip the build
#
# The daemon listens on 127.0.0.1 only; everything (trees, copy, daemon data,
# unison's HOME and archive) lives in one temp dir that is removed on exit,
# with the daemon stopped.
set -euo pipefail
export LC_ALL=C # a '.' in $EPOCHREALTIME and in printf

RUNS=${RUNS:-5}                    # alternating no-op runs
DIRS=${DIRS:-1000}                 # the no-op tree: DIRS directories ...
FILES_PER_DIR=${FILES_PER_DIR:-100} # ... of FILES_PER_DIR files ...
TREE_FILE_SIZE=${TREE_FILE_SIZE:-512} # ... of this many bytes
OUT_FILES=${OUT_FILES:-10000}      # sync-out: files ...
OUT_DIRS=${OUT_DIRS:-100}          # ... spread over this many directories ...
OUT_SIZE=${OUT_SIZE:-4096}         # ... of this many bytes
OUT_RUNS=${OUT_RUNS:-3}            # offline-rewrite-online rounds
PARALLEL=${PARALLEL:-8}            # concurrent curl processes for the rewrite
SYNC_TIMEOUT=${SYNC_TIMEOUT:-600}  # seconds before a sync counts as hung
POLL=${POLL:-0.02}                 # seconds between dirty-item polls
NPROC=$(nproc)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
build_dir=${BUILD_DIR:-${TMPDIR:-/tmp}/offlinefiles-build-release}
tree_files=$((DIRS * FILES_PER_DIR))

((BASH_VERSINFO[0] >= 5)) || die "needs bash 5 (EPOCHREALTIME)"
((OUT_FILES % OUT_DIRS == 0)) || die "OUT_FILES must be a multiple of OUT_DIRS"

# ---------------------------------------------------------------- tools

need curl curl
need rsync rsync
need unison unison
need perl perl-base
# HTTP::Tiny (wait_clean in lib.sh) is in Debian's perl, not in perl-base.
perl -MHTTP::Tiny -e 1 2>/dev/null || need HTTP::Tiny perl

# ---------------------------------------------------------------- build

if [[ -n ${OFFLINEFILESD:-} ]]; then
    bin=$OFFLINEFILESD
else
    need cmake cmake
    echo "# building (Release) in $build_dir" >&2
    mkdir -p "$build_dir"
    cmake -S "$root" -B "$build_dir" -DOF_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build_dir" -j "$NPROC" >/dev/null
    bin=$build_dir/daemon/offlinefilesd
fi
[[ -x $bin ]] || die "no daemon binary at $bin"

# ---------------------------------------------------------------- temp dir and cleanup

tmp=$(mktemp -d "${TMPDIR:-/tmp}/of-bench-sync.XXXXXX")
daemon_pid=


cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP PIPE
    stop "$daemon_pid"
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE # `bench/sync.sh | head` must still stop the daemon

# Fails the benchmark with the daemon's last log lines: a hung or failed sync
# is reported as such, never measured as a time.
daemon_die() {
    echo "sync.sh: $*" >&2
    echo "--- last daemon log lines ($tmp/daemon.log) ---" >&2
    tail -n 30 "$tmp/daemon.log" >&2 || true
    exit 1
}

# ---------------------------------------------------------------- helpers

# A job's own duration (endedAt - startedAt) in seconds, from its JSON.

# ---------------------------------------------------------------- trees

# The no-op tree: DIRS dirs of FILES_PER_DIR files, each TREE_FILE_SIZE bytes
# that start with its own path (so no two files are alike).
gen_tree() { # dir dirs files_per_dir size
    perl -e '
        my ($root, $dirs, $per, $size) = @ARGV;
        my $pad = "x" x $size;
        for my $d (0 .. $dirs - 1) {
            my $dn = sprintf("%s/d%04d", $root, $d);
            mkdir $dn or die "mkdir $dn: $!";
            for my $f (0 .. $per - 1) {
                my $fn = sprintf("%s/f%03d.txt", $dn, $f);
                open(my $h, ">", $fn) or die "$fn: $!";
                print $h substr("$fn\n$pad", 0, $size);
                close $h or die "$fn: $!";
            }
        }' "$@"
}

# The sync-out files: OUT_FILES of OUT_SIZE random bytes over OUT_DIRS dirs;
# the same relative paths in every round, new bytes each time.
gen_out() { # dir
    perl -e '
        my ($root, $dirs, $per, $size) = @ARGV;
        open(my $r, "<:raw", "/dev/urandom") or die "/dev/urandom: $!";
        for my $d (0 .. $dirs - 1) {
            my $dn = sprintf("%s/d%03d", $root, $d);
            mkdir $dn or die "mkdir $dn: $!";
            for my $f (0 .. $per - 1) {
                my $fn = sprintf("%s/f%04d.bin", $dn, $f);
                read($r, my $buf, $size) == $size or die "urandom: $!";
                open(my $h, ">:raw", $fn) or die "$fn: $!";
                print $h $buf;
                close $h or die "$fn: $!";
            }
        }' "$1" "$OUT_DIRS" "$((OUT_FILES / OUT_DIRS))" "$OUT_SIZE"
}

echo "# generating $tree_files files in $DIRS dirs, and the $OUT_FILES-file sync-out share" >&2
mkdir -p "$tmp/tree" "$tmp/out" "$tmp/data" "$tmp/home" "$tmp/unison"
t=$EPOCHREALTIME
gen_tree "$tmp/tree" "$DIRS" "$FILES_PER_DIR" "$TREE_FILE_SIZE"
gen_out "$tmp/out"
gen_secs=$(secs_since "$t")
t=$EPOCHREALTIME
cp -a "$tmp/tree" "$tmp/copy"
copy_secs=$(secs_since "$t")

# ---------------------------------------------------------------- our daemon

: >"$tmp/daemon.log"
"$bin" --listen 127.0.0.1:0 --data-dir "$tmp/data" --log-level info >>"$tmp/daemon.log" 2>&1 &
daemon_pid=$!
port=
for ((i = 0; i < 100; i++)); do
    port=$(sed -n 's/.* listening on .*(port \([0-9]*\)).*/\1/p' "$tmp/daemon.log")
    [[ -n $port ]] && break
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.1
done
[[ -n $port ]] || daemon_die "the daemon did not start"
api=http://127.0.0.1:$port/api/v1
token=$(<"$tmp/data/admin.token")
# The token goes to curl in a config file, not on the command line (ps).
printf 'header = "Authorization: Bearer %s"\n' "$token" >"$tmp/auth.conf"
chmod 0600 "$tmp/auth.conf"
ccurl() { curl -sS -K "$tmp/auth.conf" "$@"; }

add_share() { # share dir
    ccurl -f -o /dev/null -H 'Content-Type: application/json' \
        -d "{\"server\":\"bench\",\"share\":\"$1\",\"remote\":\"file://$2\",\"cachingMode\":\"manual\"}" \
        "$api/shares" || daemon_die "cannot add the share //bench/$1"
}

# POST /api/v1/sync with wait: true; sets sync_json and sync_secs (wall time
# of the request). A failed, hung or unsuccessful sync ends the benchmark.
sync_json=
sync_secs=
run_sync() { # share
    local t0 code
    t0=$EPOCHREALTIME
    code=$(ccurl -o "$tmp/sync.json" -w '%{http_code}' --max-time "$SYNC_TIMEOUT" \
        -H 'Content-Type: application/json' -d "{\"paths\":[\"//bench/$1\"],\"wait\":true}" \
        "$api/sync") || daemon_die "POST /api/v1/sync for //bench/$1 failed or took over ${SYNC_TIMEOUT}s (curl: $?)"
    sync_secs=$(secs_since "$t0")
    sync_json=$(<"$tmp/sync.json")
    [[ $code == 200 ]] || daemon_die "POST /api/v1/sync for //bench/$1 answered $code: ${sync_json:0:400}"
    [[ $(json_str state "$sync_json") == succeeded ]] ||
        daemon_die "the sync of //bench/$1 did not succeed: ${sync_json:0:600}"
}

connection() { # share state
    ccurl -f -o /dev/null -X PUT -H 'Content-Type: application/json' -d "{\"state\":\"$2\"}" \
        "$api/connection/bench/$1" || daemon_die "cannot put //bench/$1 $2"
}

# Number of dirty items under a share, counted page by page.
count_dirty() { # share
    local n=0 cursor="" page
    while :; do
        page=$(ccurl -f "$api/items?under=//bench/$1&depth=all&flags=dirty&limit=1000${cursor:+&cursor=$cursor}") ||
            daemon_die "cannot list the dirty items of //bench/$1"
        n=$((n + $(grep -o '"type":"file"' <<<"$page" | wc -l)))
        cursor=$(sed -n 's/.*"next":"\([^"]*\)".*/\1/p' <<<"$page")
        [[ -n $cursor ]] || break
    done
    echo "$n"
}

add_share tree "$tmp/tree"
add_share out "$tmp/out"

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
fs=$(df -PT "$tmp" | awk 'NR == 2 {print $2}')
echo "offlinefiles benchmark: sync on a directory share vs find, rsync --dry-run, unison; sync-out vs cp -r"
echo "machine: $NPROC CPUs${cpu:+ ($cpu)}, $(uname -sr), temp dir on $fs"
echo "versions: $("$bin" --version), $(find . -maxdepth 0 -version | head -n 1), $(rsync --version | head -n 1 | awk '{print $1, $2, $3}'), $(HOME=$tmp/home UNISON=$tmp/unison unison -version 2>&1 | head -n 1)"
echo "tree: $tree_files files of $TREE_FILE_SIZE bytes in $DIRS dirs (generated with the sync-out files in ${gen_secs}s; cp -a copy ${copy_secs}s)"
echo

# ---------------------------------------------------------------- 1. no-op sync

run_sync tree
echo "initial sync of //bench/tree: ${sync_secs}s wall (job $(job_secs "$sync_json")s)," \
    "itemsDone $(json_num itemsDone "$sync_json") (the tree has $((tree_files + DIRS)) items)"

unison_cmd=(unison "$tmp/tree" "$tmp/copy" -batch -auto -ui text)
run_unison() { HOME=$tmp/home UNISON=$tmp/unison "${unison_cmd[@]}" >"$tmp/unison.out" 2>&1 ||
    { tail -n 20 "$tmp/unison.out" >&2; die "unison failed"; }; }
t=$EPOCHREALTIME
run_unison
echo "initial unison run (builds its archive, fingerprints both replicas): $(secs_since "$t")s"
echo

ours_runs=()
find_runs=()
rsync_runs=()
unison_runs=()
for ((r = 1; r <= RUNS; r++)); do
    run_sync tree
    ours_runs+=("$sync_secs")
    done_items=$(json_num itemsDone "$sync_json")
    note=
    [[ $done_items == 0 ]] || note="  (NOT a no-op: itemsDone $done_items)"
    printf 'run %d  ours    %8.3f s   (job %ss)%s\n' "$r" "$sync_secs" "$(job_secs "$sync_json")" "$note"

    t=$EPOCHREALTIME
    find "$tmp/tree" -printf '%s %T@\n' >/dev/null
    find_runs+=("$(secs_since "$t")")
    printf 'run %d  find    %8.3f s\n' "$r" "${find_runs[-1]}"

    t=$EPOCHREALTIME
    rsync -a --dry-run "$tmp/tree/" "$tmp/copy/"
    rsync_runs+=("$(secs_since "$t")")
    printf 'run %d  rsync   %8.3f s\n' "$r" "${rsync_runs[-1]}"

    t=$EPOCHREALTIME
    run_unison
    unison_runs+=("$(secs_since "$t")")
    printf 'run %d  unison  %8.3f s\n' "$r" "${unison_runs[-1]}"
done

ours_med=$(printf '%s\n' "${ours_runs[@]}" | median)
find_med=$(printf '%s\n' "${find_runs[@]}" | median)
rsync_med=$(printf '%s\n' "${rsync_runs[@]}" | median)
unison_med=$(printf '%s\n' "${unison_runs[@]}" | median)
r_find=$(ratio "$ours_med" "$find_med")
r_rsync=$(ratio "$ours_med" "$rsync_med")
r_unison=$(ratio "$ours_med" "$unison_med")
goal() { awk -v v="$1" -v lim="$2" 'BEGIN {print (v <= lim ? "met" : "NOT met")}'; }
echo
printf 'median ours    %8.3f s  (%.0f files/s)\n' "$ours_med" "$(awk -v n="$tree_files" -v s="$ours_med" 'BEGIN {print (s > 0 ? n / s : 0)}')"
printf 'median find    %8.3f s\n' "$find_med"
printf 'median rsync   %8.3f s\n' "$rsync_med"
printf 'median unison  %8.3f s\n' "$unison_med"
echo "ratio ours/find:   $r_find   (goal <= 2: $(goal "$r_find" 2))"
echo "ratio ours/rsync:  $r_rsync"
echo "ratio ours/unison: $r_unison   (goal < 1: $(awk -v v="$r_unison" 'BEGIN {print (v < 1 ? "met" : "NOT met")}'))"
echo

# ---------------------------------------------------------------- 2. sync-out

run_sync out
echo "initial sync of //bench/out ($OUT_FILES files): ${sync_secs}s wall (job $(job_secs "$sync_json")s)"

# One curl config per batch: url, upload-file (PUT) and output, in order.
write_configs() { # newdir round
    local per=$((OUT_FILES / OUT_DIRS)) batch=$(((OUT_FILES + PARALLEL * 4 - 1) / (PARALLEL * 4)))
    rm -rf "$tmp/put"
    mkdir -p "$tmp/put"
    awk -v dirs="$OUT_DIRS" -v per="$per" -v batch="$batch" -v api="$api" -v src="$1" -v out="$tmp/put" '
        BEGIN {
            n = 0
            for (d = 0; d < dirs; d++)
                for (f = 0; f < per; f++) {
                    rel = sprintf("d%03d/f%04d.bin", d, f)
                    conf = sprintf("%s/%05d.conf", out, int(n / batch))
                    printf "url = \"%s/files/bench/out/%s\"\nupload-file = \"%s/%s\"\noutput = \"/dev/null\"\n", api, rel, src, rel > conf
                    n++
                }
        }'
}

# A second reference: the same files copied one at a time the way a crash-safe
# writer does it (temp file, fsync, rename, fsync of the directory), which is
# what our file:// backend does for each file it writes to the share; cp -r
# flushes nothing.
durable_copy() { # src dst
    perl -e '
        use Fcntl qw(O_RDONLY O_DIRECTORY);
        use IO::Handle;
        my ($src, $dst) = @ARGV;
        mkdir $dst or die "mkdir $dst: $!";
        opendir(my $sd, $src) or die "$src: $!";
        for my $d (sort grep { !/^\./ } readdir $sd) {
            mkdir "$dst/$d" or die "mkdir $dst/$d: $!";
            sysopen(my $dfh, "$dst/$d", O_RDONLY | O_DIRECTORY) or die "$dst/$d: $!";
            opendir(my $dd, "$src/$d") or die "$src/$d: $!";
            for my $f (sort grep { !/^\./ } readdir $dd) {
                open(my $in, "<:raw", "$src/$d/$f") or die "$src/$d/$f: $!";
                local $/;
                my $buf = <$in>;
                close $in;
                open(my $out, ">:raw", "$dst/$d/.$f.tmp") or die "$dst/$d/.$f.tmp: $!";
                print $out $buf or die "write: $!";
                $out->flush or die "flush: $!";
                $out->sync or die "fsync: $!";
                close $out or die "close: $!";
                rename("$dst/$d/.$f.tmp", "$dst/$d/$f") or die "rename: $!";
                $dfh->sync or die "fsync $dst/$d: $!";
            }
        }' "$1" "$2"
}

out_secs=()
fsync_runs=()
out_rates=()
put_rates=()
cp_runs=()
for ((r = 1; r <= OUT_RUNS; r++)); do
    new=$tmp/new-$r
    mkdir -p "$new"
    gen_out "$new"
    write_configs "$new"

    connection out offline
    t=$EPOCHREALTIME
    printf '%s\n' "$tmp"/put/*.conf | xargs -P "$PARALLEL" -n 1 curl -sS -K "$tmp/auth.conf" -w '%{http_code}\n' -K \
        >"$tmp/put.codes" 2>"$tmp/put.err" || true
    put_secs=$(secs_since "$t")
    ok=$(grep -c '^20[01]$' "$tmp/put.codes" || true)
    [[ $ok == "$OUT_FILES" ]] ||
        daemon_die "offline rewrite: $ok of $OUT_FILES PUTs answered 200/201 ($(sort "$tmp/put.codes" | uniq -c | tr '\n' ' ')); $(head -c 300 "$tmp/put.err")"
    dirty=$(count_dirty out)
    [[ $dirty == "$OUT_FILES" ]] || daemon_die "after the offline rewrite $dirty items are dirty, not $OUT_FILES"
    put_rates+=("$(awk -v n="$OUT_FILES" -v s="$put_secs" 'BEGIN {printf "%.0f", n / s}')")

    # From the PUT online (which starts the background sync) until no dirty item is left.
    t=$EPOCHREALTIME
    connection out online
    secs=$(wait_clean "$api/items?under=//bench/out&depth=all&flags=dirty&limit=1" "$tmp/data/admin.token" \
        "$POLL" "$SYNC_TIMEOUT" "$t") ||
        daemon_die "sync-out: dirty items left ${SYNC_TIMEOUT}s after going online, or the poll failed ($(count_dirty out) of $OUT_FILES)"
    out_secs+=("$secs")
    out_rates+=("$(awk -v n="$OUT_FILES" -v s="$secs" 'BEGIN {printf "%.0f", n / s}')")
    # The background job that did it (the newest sync job).
    job=$(ccurl -f "$api/jobs?limit=1") || daemon_die "cannot read the jobs"
    diff -rq "$new" "$tmp/out" >"$tmp/diff.out" 2>&1 ||
        daemon_die "after sync-out the share differs from the written files: $(head -n 3 "$tmp/diff.out")"
    printf 'round %d  offline rewrite %8.3f s (%s files/s)   sync-out %8.3f s (%s files/s; job %s by %s, %ss, itemsDone %s)\n' \
        "$r" "$put_secs" "${put_rates[-1]}" "$secs" "${out_rates[-1]}" "$(json_str state "$job")" \
        "$(json_str createdBy "$job")" "$(job_secs "$job")" "$(json_num itemsDone "$job")"

    t=$EPOCHREALTIME
    cp -r "$new" "$tmp/cp-$r"
    cp_runs+=("$(secs_since "$t")")
    printf 'round %d  cp -r           %8.3f s (%s files/s)\n' "$r" "${cp_runs[-1]}" \
        "$(awk -v n="$OUT_FILES" -v s="${cp_runs[-1]}" 'BEGIN {printf "%.0f", n / s}')"
    rm -rf "$tmp/cp-$r"

    t=$EPOCHREALTIME
    durable_copy "$new" "$tmp/cp-$r"
    fsync_runs+=("$(secs_since "$t")")
    printf 'round %d  copy with fsync %8.3f s (%s files/s)\n' "$r" "${fsync_runs[-1]}" \
        "$(awk -v n="$OUT_FILES" -v s="${fsync_runs[-1]}" 'BEGIN {printf "%.0f", n / s}')"
    rm -rf "$tmp/cp-$r" "$new"
done

out_med=$(printf '%s\n' "${out_secs[@]}" | median)
cp_med=$(printf '%s\n' "${cp_runs[@]}" | median)
fsync_med=$(printf '%s\n' "${fsync_runs[@]}" | median)
fsync_rate=$(awk -v n="$OUT_FILES" -v s="$fsync_med" 'BEGIN {printf "%.0f", n / s}')
r_fsync=$(ratio "$out_med" "$fsync_med")
out_rate=$(awk -v n="$OUT_FILES" -v s="$out_med" 'BEGIN {printf "%.0f", n / s}')
cp_rate=$(awk -v n="$OUT_FILES" -v s="$cp_med" 'BEGIN {printf "%.0f", n / s}')
r_cp=$(ratio "$out_med" "$cp_med")
echo
printf 'median sync-out       %8.3f s  (%s files/s, %s KiB/s)\n' "$out_med" "$out_rate" \
    "$(awk -v n="$OUT_FILES" -v b="$OUT_SIZE" -v s="$out_med" 'BEGIN {printf "%.0f", n * b / 1024 / s}')"
printf 'median cp -r           %8.3f s  (%s files/s)\n' "$cp_med" "$cp_rate"
printf 'median copy with fsync %8.3f s  (%s files/s)\n' "$fsync_med" "$fsync_rate"
echo "ratio sync-out/cp: $r_cp"
echo "ratio sync-out/copy-with-fsync: $r_fsync"
echo
echo "reproduce: ${OFFLINEFILESD:+OFFLINEFILESD=$OFFLINEFILESD }RUNS=$RUNS DIRS=$DIRS FILES_PER_DIR=$FILES_PER_DIR TREE_FILE_SIZE=$TREE_FILE_SIZE OUT_FILES=$OUT_FILES OUT_DIRS=$OUT_DIRS OUT_SIZE=$OUT_SIZE OUT_RUNS=$OUT_RUNS PARALLEL=$PARALLEL bench/sync.sh"
printf '%s\n' "commands: find DIR -printf '%s %T@\\n' >/dev/null; rsync -a --dry-run DIR/ COPY/; ${unison_cmd[0]} DIR COPY ${unison_cmd[*]:3} (HOME and UNISON in the temp dir)"
echo "RESULT noop_ours=$ours_med find=$find_med rsync=$rsync_med unison=$unison_med ours/find=$r_find ours/rsync=$r_rsync ours/unison=$r_unison syncout=$out_med syncout_files_per_s=$out_rate cp=$cp_med syncout/cp=$r_cp fsynccopy=$fsync_med syncout/fsynccopy=$r_fsync"

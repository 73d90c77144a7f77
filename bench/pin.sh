#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Benchmark of pinning on a directory share (file://), next to `cp -r` of the
# very same trees in the same run on the same machine:
#
#   1. a deep pin of a 10,000 x 4 KiB tree (100 dirs of 100 files):
#      POST /api/v1/pins {"paths":["//bench/t/small"],"deep":true,"wait":true}
#      on a manual share, timed from request to answer, against
#      `cp -r small COPY`. Goal: within 2x of cp on files per second.
#   2. the same for a 20 x 16 MiB tree: goal within 1.2x of cp.
#
# Runs alternate (pin small, cp small, pin large, cp large, ...) so that drift
# hits both sides alike. Between runs the pinned tree is unpinned
# (DELETE /api/v1/pins?deep=true) and removed from the cache
# (POST /api/v1/cache/delete), so every pin lists the tree, records its items
# and fetches every file again; the copies are removed untimed. The page
# cache cannot be dropped without root, so both sides read warm sources.
# The daemon makes every file it caches durable before its row commits; cp
# flushes nothing. Two reference lines show what durability costs here: each
# round also times `cp -r` followed by one `sync -f` of the filesystem (the
# least a copy that is on disk when reported done can cost), and a crash-safe
# copy (temp file, fsync, rename, fsync of the directory, one file at a time)
# of each tree is timed once.
#
#   bench/pin.sh
#   RUNS=5 bench/pin.sh
#   SMALL_DIRS=10 LARGE_FILES=4 bench/pin.sh                 # a quick look
#   OFFLINEFILESD=/path/to/offlinefilesd bench/pin.sh        # skip the build
#
# The daemon listens on 127.0.0.1 only; everything (trees, copies, daemon
# data) lives in one temp dir that is removed on exit, with the daemon
# stopped. It needs about 4 x (small + large) bytes of free space there.
set -euo pipefail
export LC_ALL=C # a '.' in $EPOCHREALTIME and in printf

RUNS=${RUNS:-3}                            # alternating rounds
SMALL_DIRS=${SMALL_DIRS:-100}              # the small tree: SMALL_DIRS dirs ...
SMALL_PER_DIR=${SMALL_PER_DIR:-100}        # ... of SMALL_PER_DIR files ...
SMALL_SIZE=${SMALL_SIZE:-4096}             # ... of this many bytes
LARGE_FILES=${LARGE_FILES:-20}             # the large tree: LARGE_FILES files ...
LARGE_SIZE=${LARGE_SIZE:-$((16 << 20))}    # ... of this many bytes
PIN_TIMEOUT=${PIN_TIMEOUT:-900}            # seconds before a pin counts as hung
NPROC=$(nproc)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
build_dir=${BUILD_DIR:-${TMPDIR:-/tmp}/offlinefiles-build-release}
small_files=$((SMALL_DIRS * SMALL_PER_DIR))
small_bytes=$((small_files * SMALL_SIZE))
large_bytes=$((LARGE_FILES * LARGE_SIZE))

((BASH_VERSINFO[0] >= 5)) || die "needs bash 5 (EPOCHREALTIME)"

# ---------------------------------------------------------------- tools

need curl curl
need perl perl-base

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

tmp=$(mktemp -d "${TMPDIR:-/tmp}/of-bench-pin.XXXXXX")
daemon_pid=

need_bytes=$((4 * (small_bytes + large_bytes)))
free_bytes=$(($(df -Pk "$tmp" | awk 'NR == 2 {print $4}') * 1024))
((free_bytes > need_bytes)) || {
    rm -rf "$tmp"
    die "needs about $((need_bytes >> 20)) MiB free in ${TMPDIR:-/tmp}, has $((free_bytes >> 20)) MiB"
}


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
trap 'exit 141' PIPE # `bench/pin.sh | head` must still stop the daemon

# Fails the benchmark with the daemon's last log lines: a hung or failed pin
# is reported as such, never measured as a time.
daemon_die() {
    echo "pin.sh: $*" >&2
    echo "--- last daemon log lines ($tmp/daemon.log) ---" >&2
    tail -n 30 "$tmp/daemon.log" >&2 || true
    exit 1
}

# ---------------------------------------------------------------- helpers

# A job's own duration (endedAt - startedAt) in seconds, from its JSON.

# ---------------------------------------------------------------- trees

# dirs dirs of per files of size random bytes each, as ROOT/dNNN/fNNNN.bin.
gen_tree() { # root dirs per size
    perl -e '
        my ($root, $dirs, $per, $size) = @ARGV;
        open(my $r, "<:raw", "/dev/urandom") or die "/dev/urandom: $!";
        mkdir $root or die "mkdir $root: $!";
        for my $d (0 .. $dirs - 1) {
            my $dn = sprintf("%s/d%03d", $root, $d);
            mkdir $dn or die "mkdir $dn: $!";
            for my $f (0 .. $per - 1) {
                my $fn = sprintf("%s/f%04d.bin", $dn, $f);
                open(my $h, ">:raw", $fn) or die "$fn: $!";
                my $left = $size;
                while ($left > 0) {
                    my $n = $left < 1048576 ? $left : 1048576;
                    read($r, my $buf, $n) == $n or die "urandom: $!";
                    print $h $buf or die "$fn: $!";
                    $left -= $n;
                }
                close $h or die "$fn: $!";
            }
        }' "$@"
}

# The same files copied one at a time the way a crash-safe writer does it
# (temp file, fsync, rename, fsync of the directory), which is what the
# daemon's content store does for each file it caches; cp -r flushes nothing.
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
                open(my $out, ">:raw", "$dst/$d/.$f.tmp") or die "$dst/$d/.$f.tmp: $!";
                while (read($in, my $buf, 1048576)) {
                    print $out $buf or die "write: $!";
                }
                close $in;
                $out->flush or die "flush: $!";
                $out->sync or die "fsync: $!";
                close $out or die "close: $!";
                rename("$dst/$d/.$f.tmp", "$dst/$d/$f") or die "rename: $!";
                $dfh->sync or die "fsync $dst/$d: $!";
            }
        }' "$1" "$2"
}

echo "# generating $small_files x $SMALL_SIZE B and $LARGE_FILES x $LARGE_SIZE B of random bytes" >&2
mkdir -p "$tmp/share" "$tmp/data"
t=$EPOCHREALTIME
gen_tree "$tmp/share/small" "$SMALL_DIRS" "$SMALL_PER_DIR" "$SMALL_SIZE"
gen_tree "$tmp/share/large" 1 "$LARGE_FILES" "$LARGE_SIZE"
sync # what generation wrote is on disk before anything is timed
gen_secs=$(secs_since "$t")

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

ccurl -f -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"server\":\"bench\",\"share\":\"t\",\"remote\":\"file://$tmp/share\",\"cachingMode\":\"manual\"}" \
    "$api/shares" || daemon_die "cannot add the share //bench/t"

cache_used() {
    local c
    c=$(ccurl -f "$api/cache") || daemon_die "cannot read GET /api/v1/cache"
    json_num used "$c"
}

# POST /api/v1/pins deep with wait: true; sets pin_json and pin_secs (wall
# time of the request). A failed, hung or unsuccessful pin ends the benchmark.
pin_json=
pin_secs=
run_pin() { # tree files bytes
    local t0 code used
    t0=$EPOCHREALTIME
    code=$(ccurl -o "$tmp/pin.json" -w '%{http_code}' --max-time "$PIN_TIMEOUT" \
        -H 'Content-Type: application/json' \
        -d "{\"paths\":[\"//bench/t/$1\"],\"deep\":true,\"wait\":true}" "$api/pins") ||
        daemon_die "POST /api/v1/pins for //bench/t/$1 failed or took over ${PIN_TIMEOUT}s (curl: $?)"
    pin_secs=$(secs_since "$t0")
    pin_json=$(<"$tmp/pin.json")
    [[ $code == 200 ]] || daemon_die "POST /api/v1/pins for //bench/t/$1 answered $code: ${pin_json:0:400}"
    [[ $(json_str state "$pin_json") == succeeded ]] ||
        daemon_die "the pin of //bench/t/$1 did not succeed: ${pin_json:0:600}"
    # Every file is in the cache: the usage grew by the tree's bytes.
    used=$(cache_used)
    [[ $used == "$3" ]] || daemon_die "after pinning //bench/t/$1 the cache holds $used bytes, not $3"
    # And one of them reads back from the cache with the right bytes.
    ccurl -f -o "$tmp/check.bin" "$api/files/bench/t/$1/d000/f0000.bin" ||
        daemon_die "cannot read back //bench/t/$1/d000/f0000.bin"
    cmp -s "$tmp/check.bin" "$tmp/share/$1/d000/f0000.bin" ||
        daemon_die "//bench/t/$1/d000/f0000.bin reads back different bytes"
}

# Unpin the tree and drop it from the cache: the next pin starts from nothing.
drop_pin() { # tree
    local enc j code
    enc=$(printf '%s' "//bench/t/$1" | sed 's|/|%2F|g')
    j=$(ccurl -f -X DELETE "$api/pins?path=$enc&deep=true") || daemon_die "cannot unpin //bench/t/$1"
    [[ $(json_str state "$j") == succeeded ]] || daemon_die "the unpin of //bench/t/$1 did not succeed: ${j:0:400}"
    code=$(ccurl -o "$tmp/delete.json" -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "{\"paths\":[\"//bench/t/$1\"],\"wait\":true}" "$api/cache/delete") ||
        daemon_die "cannot delete //bench/t/$1 from the cache"
    [[ $code == 200 && $(json_str state "$(<"$tmp/delete.json")") == succeeded ]] ||
        daemon_die "deleting //bench/t/$1 from the cache answered $code: $(head -c 400 "$tmp/delete.json")"
    [[ $(cache_used) == 0 ]] || daemon_die "the cache still holds $(cache_used) bytes after deleting //bench/t/$1"
}

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
fs=$(df -PT "$tmp" | awk 'NR == 2 {print $2}')
echo "offlinefiles benchmark: deep pin of a directory share's tree vs cp -r of the same tree"
echo "machine: $NPROC CPUs${cpu:+ ($cpu)}, $(uname -sr), temp dir on $fs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: $("$bin" --version), $(cp --version | head -n 1)"
echo "trees: small $small_files files of $SMALL_SIZE B in $SMALL_DIRS dirs ($((small_bytes >> 20)) MiB);" \
    "large $LARGE_FILES files of $LARGE_SIZE B ($((large_bytes >> 20)) MiB); generated in ${gen_secs}s"
echo

# ---------------------------------------------------------------- runs



# cp -r, then one flush of the filesystem (sync -f): the least any copy that
# is on disk when it is reported done can cost, with every flush in one batch.
cp_sync() { # tree
    settle
    local t=$EPOCHREALTIME
    cp -r "$tmp/share/$1" "$tmp/cps-$1"
    sync -f "$tmp/cps-$1"
    cps_secs=$(secs_since "$t")
    rm -rf "$tmp/cps-$1"
}

pin_small=()
cp_small=()
cps_small=()
pin_large=()
cp_large=()
cps_large=()
for ((r = 1; r <= RUNS; r++)); do
    settle
    run_pin small "$small_files" "$small_bytes"
    pin_small+=("$pin_secs")
    printf 'run %d  pin small %8.3f s  (%s files/s; job %ss, itemsDone %s)\n' "$r" "$pin_secs" \
        "$(per_s "$small_files" "$pin_secs")" "$(job_secs "$pin_json")" "$(json_num itemsDone "$pin_json")"
    drop_pin small

    settle
    t=$EPOCHREALTIME
    cp -r "$tmp/share/small" "$tmp/cp-small"
    cp_small+=("$(secs_since "$t")")
    printf 'run %d  cp small  %8.3f s  (%s files/s)\n' "$r" "${cp_small[-1]}" "$(per_s "$small_files" "${cp_small[-1]}")"
    rm -rf "$tmp/cp-small"
    cp_sync small
    cps_small+=("$cps_secs")
    printf 'run %d  cp+sync small %8.3f s  (%s files/s)\n' "$r" "$cps_secs" "$(per_s "$small_files" "$cps_secs")"

    settle
    run_pin large "$LARGE_FILES" "$large_bytes"
    pin_large+=("$pin_secs")
    printf 'run %d  pin large %8.3f s  (%s MiB/s; job %ss)\n' "$r" "$pin_secs" \
        "$(mib_s "$large_bytes" "$pin_secs")" "$(job_secs "$pin_json")"
    drop_pin large

    settle
    t=$EPOCHREALTIME
    cp -r "$tmp/share/large" "$tmp/cp-large"
    cp_large+=("$(secs_since "$t")")
    printf 'run %d  cp large  %8.3f s  (%s MiB/s)\n' "$r" "${cp_large[-1]}" "$(mib_s "$large_bytes" "${cp_large[-1]}")"
    rm -rf "$tmp/cp-large"
    cp_sync large
    cps_large+=("$cps_secs")
    printf 'run %d  cp+sync large %8.3f s  (%s MiB/s)\n' "$r" "$cps_secs" "$(mib_s "$large_bytes" "$cps_secs")"
done

# The crash-safe copy, once per tree, as a reference line.
sync
t=$EPOCHREALTIME
durable_copy "$tmp/share/small" "$tmp/fsync-small"
fsync_small=$(secs_since "$t")
rm -rf "$tmp/fsync-small"
t=$EPOCHREALTIME
durable_copy "$tmp/share/large" "$tmp/fsync-large"
fsync_large=$(secs_since "$t")
rm -rf "$tmp/fsync-large"

pin_small_med=$(printf '%s\n' "${pin_small[@]}" | median)
cp_small_med=$(printf '%s\n' "${cp_small[@]}" | median)
pin_large_med=$(printf '%s\n' "${pin_large[@]}" | median)
cp_large_med=$(printf '%s\n' "${cp_large[@]}" | median)
cps_small_med=$(printf '%s\n' "${cps_small[@]}" | median)
cps_large_med=$(printf '%s\n' "${cps_large[@]}" | median)
r_small_cps=$(ratio "$pin_small_med" "$cps_small_med")
r_large_cps=$(ratio "$pin_large_med" "$cps_large_med")
r_small=$(ratio "$pin_small_med" "$cp_small_med")
r_large=$(ratio "$pin_large_med" "$cp_large_med")
r_small_fsync=$(ratio "$pin_small_med" "$fsync_small")
r_large_fsync=$(ratio "$pin_large_med" "$fsync_large")
goal() { awk -v v="$1" -v lim="$2" 'BEGIN {print (v <= lim ? "met" : "NOT met")}'; }
echo
printf 'median pin small        %8.3f s  (%s files/s)\n' "$pin_small_med" "$(per_s "$small_files" "$pin_small_med")"
printf 'median cp -r small      %8.3f s  (%s files/s)\n' "$cp_small_med" "$(per_s "$small_files" "$cp_small_med")"
printf 'median cp -r + sync -f small %4.3f s  (%s files/s)\n' "$cps_small_med" "$(per_s "$small_files" "$cps_small_med")"
printf 'copy with fsync small   %8.3f s  (%s files/s, one run)\n' "$fsync_small" "$(per_s "$small_files" "$fsync_small")"
printf 'median pin large        %8.3f s  (%s MiB/s)\n' "$pin_large_med" "$(mib_s "$large_bytes" "$pin_large_med")"
printf 'median cp -r large      %8.3f s  (%s MiB/s)\n' "$cp_large_med" "$(mib_s "$large_bytes" "$cp_large_med")"
printf 'median cp -r + sync -f large %4.3f s  (%s MiB/s)\n' "$cps_large_med" "$(mib_s "$large_bytes" "$cps_large_med")"
printf 'copy with fsync large   %8.3f s  (%s MiB/s, one run)\n' "$fsync_large" "$(mib_s "$large_bytes" "$fsync_large")"
echo "ratio pin/cp small: $r_small   (goal <= 2: $(goal "$r_small" 2))"
echo "ratio pin/cp large: $r_large   (goal <= 1.2: $(goal "$r_large" 1.2))"
echo "ratio pin/copy-with-fsync small: $r_small_fsync"
echo "ratio pin/copy-with-fsync large: $r_large_fsync"
echo "ratio pin/(cp -r + sync -f) small: $r_small_cps"
echo "ratio pin/(cp -r + sync -f) large: $r_large_cps"
echo
echo "reproduce: ${OFFLINEFILESD:+OFFLINEFILESD=$OFFLINEFILESD }RUNS=$RUNS SMALL_DIRS=$SMALL_DIRS SMALL_PER_DIR=$SMALL_PER_DIR SMALL_SIZE=$SMALL_SIZE LARGE_FILES=$LARGE_FILES LARGE_SIZE=$LARGE_SIZE bench/pin.sh"
echo "commands: POST /api/v1/pins {\"paths\":[\"//bench/t/TREE\"],\"deep\":true,\"wait\":true} (manual share); cp -r TREE COPY"
echo "RESULT pin_small=$pin_small_med cp_small=$cp_small_med pin/cp_small=$r_small fsync_small=$fsync_small pin/fsync_small=$r_small_fsync pin_large=$pin_large_med cp_large=$cp_large_med pin/cp_large=$r_large fsync_large=$fsync_large pin/fsync_large=$r_large_fsync cps_small=$cps_small_med pin/cps_small=$r_small_cps cps_large=$cps_large_med pin/cps_large=$r_large_cps"

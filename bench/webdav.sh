#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Benchmark of a WebDAV share (Apache httpd with mod_dav/mod_dav_fs on
# 127.0.0.1), next to the clients people would otherwise use against the very
# same server, trees and URLs, in the same run on the same machine:
#
#   1. a deep pin of a 10,000 x 4 KiB tree (100 dirs of 100 files):
#      POST /api/v1/pins {"paths":["//b/d/small"],"deep":true,"wait":true}
#      on a manual share with "transfers": 4, timed from request to answer,
#      against `rclone copy` of the same tree (default settings, and
#      --transfers 16) and `curl -Z --parallel-max 4` over the list of the
#      same file URLs. Goal: at least 80% of the parallel curl's files/s.
#   2. the same for a 20 x 16 MiB tree, and a plain `curl` of one 16 MiB
#      file. Goal: at least 90% of the single curl's MiB/s.
#   3. sync-out of the small tree: the share is synced, forced offline,
#      every file is rewritten through PUT /api/v1/files/b/d/small/..., the
#      share goes online and the time runs until no dirty item is left; the
#      server must then hold exactly the new bytes. Reference: `curl -Z
#      --parallel-max 4 -T` PUTs of the same files to the same server (to a
#      collection outside the share). Goal: at least 80% of its files/s.
#
# Runs alternate (ours, rclone, rclone -t16, curl -Z, ...) so that drift hits
# all alike; rclone takes part in the first RCLONE_RUNS rounds only (default
# 1: its WebDAV backend paces its calls, so it needs about 110 s for the
# small tree). Between pins the tree is unpinned (DELETE /api/v1/pins?deep=true)
# and removed from the cache (POST /api/v1/cache/delete), so every pin lists
# the tree and fetches every file again; the clients' copies are removed
# untimed.
#
#   bench/webdav.sh
#   RUNS=5 OUT_RUNS=5 RCLONE_RUNS=2 bench/webdav.sh            # more runs
#   SMALL_DIRS=10 LARGE_FILES=4 RCLONE=0 bench/webdav.sh     # a quick look
#   OFFLINEFILESD=/path/to/offlinefilesd bench/webdav.sh     # skip the build
#
# Apache and the daemon listen on 127.0.0.1 only; everything (served tree,
# Apache's config, pid, logs and lock db, the daemon's data, rclone's config
# and cache, the downloads) lives in one temp dir that is removed on exit,
# with both servers stopped. No system Apache config is read or changed. Run
# as root, Apache serves as www-data (User/Group) and the served tree is
# handed to www-data; otherwise Apache runs as the current user.
set -euo pipefail
export LC_ALL=C # a '.' in $EPOCHREALTIME and in printf

RUNS=${RUNS:-3}                            # alternating pin rounds
OUT_RUNS=${OUT_RUNS:-3}                    # sync-out rounds (offline, rewrite, online)
SMALL_DIRS=${SMALL_DIRS:-100}              # the small tree: SMALL_DIRS dirs ...
SMALL_PER_DIR=${SMALL_PER_DIR:-100}        # ... of SMALL_PER_DIR files ...
SMALL_SIZE=${SMALL_SIZE:-4096}             # ... of this many bytes
LARGE_FILES=${LARGE_FILES:-20}             # the large tree: LARGE_FILES files ...
LARGE_SIZE=${LARGE_SIZE:-$((16 << 20))}    # ... of this many bytes
TRANSFERS=${TRANSFERS:-4}                  # the share's "transfers" and curl's --parallel-max
RCLONE=${RCLONE:-1}                        # 0: leave rclone out
RCLONE_RUNS=${RCLONE_RUNS:-1}              # rounds with rclone (the first ones): it is slow on the small tree
RCLONE_TRANSFERS=${RCLONE_TRANSFERS:-16}   # the second rclone run's --transfers
SINGLE_TRIES=${SINGLE_TRIES:-5}            # single-file curls per round (different files)
PARALLEL=${PARALLEL:-8}                    # curl processes for the offline rewrite through the API
PIN_TIMEOUT=${PIN_TIMEOUT:-900}            # seconds before a pin counts as hung
SYNC_TIMEOUT=${SYNC_TIMEOUT:-600}          # seconds before a sync-out counts as hung
POLL=${POLL:-0.02}                         # seconds between dirty-item polls
PERF=${PERF:-}                             # a dir: perf record the daemon during each sync-out there
PERF_ARGS=${PERF_ARGS:--g}                 # ... with these options (-e context-switches -g: where threads block)
LOG_LEVEL=${LOG_LEVEL:-info}               # the daemon's (debug: a line per WebDAV request)
KEEP_LOG=${KEEP_LOG:-}                     # a file: the daemon's log is copied there at the end
NPROC=$(nproc)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
build_dir=${BUILD_DIR:-${TMPDIR:-/tmp}/offlinefiles-build-release}
small_files=$((SMALL_DIRS * SMALL_PER_DIR))
small_bytes=$((small_files * SMALL_SIZE))
large_bytes=$((LARGE_FILES * LARGE_SIZE))
apache_bin=/usr/sbin/apache2
apache_mods=/usr/lib/apache2/modules

((BASH_VERSINFO[0] >= 5)) || die "needs bash 5 (EPOCHREALTIME)"
((SINGLE_TRIES <= LARGE_FILES)) || SINGLE_TRIES=$LARGE_FILES
((RCLONE_RUNS > 0)) || RCLONE=0

# ---------------------------------------------------------------- tools

need curl curl
need perl perl-base
# HTTP::Tiny (wait_clean in lib.sh) is in Debian's perl, not in perl-base.
perl -MHTTP::Tiny -e 1 2>/dev/null || need HTTP::Tiny perl
need apache2 apache2
((RCLONE)) && need rclone rclone
[[ -x $apache_bin && -r $apache_mods/mod_dav_fs.so ]] || die "no $apache_bin with mod_dav_fs in $apache_mods"

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

tmp=$(mktemp -d "${TMPDIR:-/tmp}/of-bench-webdav.XXXXXX")
chmod 0755 "$tmp" # Apache's workers (www-data) must get through to the served tree
daemon_pid=
apache_pid=

need_bytes=$((6 * (small_bytes + large_bytes)))
free_bytes=$(($(df -Pk "$tmp" | awk 'NR == 2 {print $4}') * 1024))
((free_bytes > need_bytes)) || {
    rm -rf "$tmp"
    die "needs about $((need_bytes >> 20)) MiB free in ${TMPDIR:-/tmp}, has $((free_bytes >> 20)) MiB"
}

# Runs a command in the background and waits for it: a TERM or HUP sent to
# the script alone is then handled at once, not when a long pin, sync or
# copy ends (bash runs traps only between commands, or during `wait`).
bg_pid=
run_bg() {
    local rc=0
    "$@" &
    bg_pid=$!
    wait "$bg_pid" || rc=$?
    bg_pid=
    return "$rc"
}


cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP PIPE
    [[ -z $bg_pid ]] || kill -TERM "$bg_pid" 2>/dev/null || true # a client still running (a signal came)
    stop "$daemon_pid"
    if [[ -n $apache_pid ]]; then
        stop "$apache_pid"
        kill -KILL -- "-$apache_pid" 2>/dev/null || true # workers left behind, if any (own session)
    fi
    [[ -z $KEEP_LOG ]] || cp "$tmp/daemon.log" "$KEEP_LOG" 2>/dev/null || true
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE # `bench/webdav.sh | head` must still stop the servers

# Fails the benchmark with the daemon's and Apache's last log lines: a hung
# or failed pin or sync is reported as such, never measured as a time.
daemon_die() {
    echo "webdav.sh: $*" >&2
    echo "--- last daemon log lines ($tmp/daemon.log) ---" >&2
    tail -n 30 "$tmp/daemon.log" >&2 || true
    echo "--- last Apache error log lines ---" >&2
    tail -n 10 "$tmp/apache/error.log" >&2 || true
    exit 1
}

# ---------------------------------------------------------------- helpers

median4() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) printf "%.4f\n", v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# A job's own duration (endedAt - startedAt) in seconds, from its JSON.
# Counts of each answer in a file of HTTP codes, on one line ("10000x200").
codes() { sort "$1" | uniq -c | awk '{printf "%s%sx%s", (NR > 1 ? " " : ""), $1, $2}'; }
free_port() {
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Proto => "tcp", Listen => 1)
            or die "bind: $!";
        print $s->sockport, "\n";'
}
# CPU seconds (user + system) a process has used so far.
clk_tck=$(getconf CLK_TCK)
cpu_secs() { awk -v hz="$clk_tck" '{sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0; }
cpu_since() { awk -v a="$1" -v b="$(cpu_secs "$2")" 'BEGIN {printf "%.1f", b - a}'; } # cpu0 pid
# CPU seconds of every live process in a process group (Apache runs in its own).
group_cpu_secs() { # pgid
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v g="$1" -v hz="$clk_tck" \
        '{sub(/.*\) /, ""); if ($3 == g) t += $12 + $13} END {printf "%.2f", t / hz}'
}
group_cpu_since() { awk -v a="$1" -v b="$(group_cpu_secs "$2")" 'BEGIN {printf "%.1f", b - a}'; } # cpu0 pgid
# Context switches and system calls of Apache's processes (perf stat), from
# apache_stat_begin to apache_stat_end FILES, per file, into $astat (not in a
# subshell: it must wait for perf to write its counts). Unlike CPU time, which
# a loaded host inflates (steal time shows as the guest's own), these count
# work, so they compare clients across noisy runs.
astat_pid=
apache_stat_begin() {
    astat_pid=
    command -v perf >/dev/null || return 0
    perf stat -x, -e context-switches,raw_syscalls:sys_enter -p "$(pgrep -g "$apache_pid" | paste -sd,)" \
        -o "$tmp/astat.csv" 2>/dev/null &
    astat_pid=$!
}
astat=
apache_stat_end() { # files
    astat=n/a
    [[ -n $astat_pid ]] || return 0
    kill -INT "$astat_pid"
    wait "$astat_pid" || true
    astat=$(awk -F, -v n="$1" '$3 == "context-switches" {c = $1} $3 == "raw_syscalls:sys_enter" {s = $1}
        END {printf "%.1f switches, %.1f syscalls", c / n, s / n}' "$tmp/astat.csv")
}

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

# The relative paths of a tree's files, dNNN/fNNNN.bin, one per line.
tree_paths() { # dirs per
    awk -v dirs="$1" -v per="$2" 'BEGIN {for (d = 0; d < dirs; d++) for (f = 0; f < per; f++) printf "d%03d/f%04d.bin\n", d, f}'
}

srv=$tmp/srv/dav        # Apache's /dav
share_dir=$srv/share    # the share: http://127.0.0.1:PORT/dav/share
ref_dir=$srv/ref        # the target of the reference PUTs, outside the share

echo "# generating $small_files x $SMALL_SIZE B and $LARGE_FILES x $LARGE_SIZE B of random bytes" >&2
mkdir -p "$share_dir" "$ref_dir" "$tmp/apache/run" "$tmp/apache/lock" "$tmp/data" "$tmp/home" "$tmp/dl"
t=$EPOCHREALTIME
gen_tree "$share_dir/small" "$SMALL_DIRS" "$SMALL_PER_DIR" "$SMALL_SIZE"
gen_tree "$share_dir/large" 1 "$LARGE_FILES" "$LARGE_SIZE"
cp -a "$share_dir/small" "$ref_dir/small" # so the reference PUTs overwrite, as the sync-out does
apache_user=
if [[ $(id -u) -eq 0 ]] && getent passwd www-data >/dev/null; then
    apache_user=www-data
    chown -R www-data:www-data "$tmp/srv" "$tmp/apache/run" "$tmp/apache/lock"
fi
sync # what generation wrote is on disk before anything is timed
gen_secs=$(secs_since "$t")

# ---------------------------------------------------------------- Apache

# Its own config in the temp dir: event MPM with room for rclone's 16
# transfers plus its checkers, unlimited keep-alive requests (as curl, rclone
# and the daemon all reuse connections), sendfile, no access log. Its mutexes
# are pthread ones: with "Mutex file:" (fcntl locks) concurrent conditional
# PUTs at the start of a sync waited a full second each in Apache (seen in
# its access log as 1,002 ms PUTs of 4 KiB, never with pthread).
apache_config() { # port
    local a=$tmp/apache
    cat >"$a/apache2.conf" <<EOF
Listen 127.0.0.1:$1
ServerName 127.0.0.1
LoadModule mpm_event_module $apache_mods/mod_mpm_event.so
LoadModule authz_core_module $apache_mods/mod_authz_core.so
LoadModule alias_module $apache_mods/mod_alias.so
LoadModule dav_module $apache_mods/mod_dav.so
LoadModule dav_fs_module $apache_mods/mod_dav_fs.so
${apache_user:+User $apache_user
Group $apache_user}
PidFile $a/httpd.pid
ErrorLog $a/error.log
LogLevel warn
DefaultRuntimeDir $a/run
Mutex pthread default
DavLockDB $a/lock/davlock
StartServers 2
ServerLimit 4
ThreadLimit 32
ThreadsPerChild 32
MaxRequestWorkers 128
MinSpareThreads 32
MaxSpareThreads 128
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 15
EnableSendfile On
Alias /dav $srv
<Directory $srv>
  Dav On
  Require all granted
</Directory>
EOF
}

apache_port=
for ((attempt = 0; attempt < 5; attempt++)); do
    apache_port=$(free_port)
    apache_config "$apache_port"
    # Its own session, so that workers left behind can be killed as a group.
    setsid "$apache_bin" -f "$tmp/apache/apache2.conf" -DFOREGROUND >>"$tmp/apache/server.out" 2>&1 </dev/null &
    apache_pid=$!
    up=0
    for ((i = 0; i < 200; i++)); do
        kill -0 "$apache_pid" 2>/dev/null || break
        code=$(curl -s -o /dev/null -w '%{http_code}' -X PROPFIND -H 'Depth: 0' "http://127.0.0.1:$apache_port/dav/share/" || true)
        [[ $code == 207 ]] && { up=1; break; }
        sleep 0.05
    done
    ((up)) && break
    stop "$apache_pid"
    apache_pid=
done
[[ -n $apache_pid ]] || {
    tail -n 20 "$tmp/apache/error.log" "$tmp/apache/server.out" >&2 || true
    die "Apache did not come up"
}
dav=http://127.0.0.1:$apache_port/dav
# Apache creates its DAV lock database on the first write; writes that race
# that creation wait a second (seen with three PUTs at once on a fresh
# server). One write first, so that no measured client pays for it.
curl -s -o /dev/null -T /dev/null "$dav/share/.warm-up" &&
    curl -s -o /dev/null -X DELETE "$dav/share/.warm-up" || die "Apache refused the warm-up PUT"

# ---------------------------------------------------------------- our daemon

: >"$tmp/daemon.log"
"$bin" --listen 127.0.0.1:0 --data-dir "$tmp/data" --log-level "$LOG_LEVEL" >>"$tmp/daemon.log" 2>&1 &
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

code=$(ccurl -o "$tmp/share.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"server\":\"b\",\"share\":\"d\",\"remote\":\"$dav/share\",\"cachingMode\":\"manual\",\"transfers\":$TRANSFERS}" \
    "$api/shares") || daemon_die "cannot add the share //b/d"
[[ $code == 201 ]] || daemon_die "adding the share //b/d answered $code: $(head -c 400 "$tmp/share.json")"
[[ $(<"$tmp/share.json") != *'"state":"offline"'* ]] ||
    daemon_die "the share //b/d is offline right after being added: $(head -c 600 "$tmp/share.json")"

cache_used() {
    local c
    c=$(ccurl -f "$api/cache") || daemon_die "cannot read GET /api/v1/cache"
    json_num used "$c"
}

# POST /api/v1/pins deep with wait: true; sets pin_json and pin_secs (wall
# time of the request). A failed, hung or unsuccessful pin ends the benchmark.
pin_json=
pin_secs=
pin_cpu=
run_pin() { # tree bytes
    local t0 code used
    local c0
    c0=$(cpu_secs "$daemon_pid")
    t0=$EPOCHREALTIME
    run_bg curl -sS -K "$tmp/auth.conf" -o "$tmp/pin.json" -w '%{http_code}' --max-time "$PIN_TIMEOUT" \
        -H 'Content-Type: application/json' \
        -d "{\"paths\":[\"//b/d/$1\"],\"deep\":true,\"wait\":true}" "$api/pins" >"$tmp/pin.code" ||
        daemon_die "POST /api/v1/pins for //b/d/$1 failed or took over ${PIN_TIMEOUT}s (curl: $?)"
    code=$(<"$tmp/pin.code")
    pin_secs=$(secs_since "$t0")
    pin_cpu=$(cpu_since "$c0" "$daemon_pid")
    pin_json=$(<"$tmp/pin.json")
    [[ $code == 200 ]] || daemon_die "POST /api/v1/pins for //b/d/$1 answered $code: ${pin_json:0:400}"
    [[ $(json_str state "$pin_json") == succeeded ]] ||
        daemon_die "the pin of //b/d/$1 did not succeed: ${pin_json:0:600}"
    # Every file is in the cache: the usage is the tree's bytes.
    used=$(cache_used)
    [[ $used == "$2" ]] || daemon_die "after pinning //b/d/$1 the cache holds $used bytes, not $2"
    # And one of them reads back from the cache with the right bytes.
    ccurl -f -o "$tmp/check.bin" "$api/files/b/d/$1/d000/f0000.bin" ||
        daemon_die "cannot read back //b/d/$1/d000/f0000.bin"
    cmp -s "$tmp/check.bin" "$share_dir/$1/d000/f0000.bin" ||
        daemon_die "//b/d/$1/d000/f0000.bin reads back different bytes"
}

# Unpin the tree and drop it from the cache: the next pin starts from nothing.
drop_pin() { # tree
    local enc j code
    enc=$(printf '%s' "//b/d/$1" | sed 's|/|%2F|g')
    j=$(ccurl -f -X DELETE "$api/pins?path=$enc&deep=true") || daemon_die "cannot unpin //b/d/$1"
    [[ $(json_str state "$j") == succeeded ]] || daemon_die "the unpin of //b/d/$1 did not succeed: ${j:0:400}"
    code=$(ccurl -o "$tmp/delete.json" -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "{\"paths\":[\"//b/d/$1\"],\"allowDirty\":false,\"wait\":true}" "$api/cache/delete") ||
        daemon_die "cannot delete //b/d/$1 from the cache"
    [[ $code == 200 && $(json_str state "$(<"$tmp/delete.json")") == succeeded ]] ||
        daemon_die "deleting //b/d/$1 from the cache answered $code: $(head -c 400 "$tmp/delete.json")"
    [[ $(cache_used) == 0 ]] || daemon_die "the cache still holds $(cache_used) bytes after deleting //b/d/$1"
}

# ---------------------------------------------------------------- the other clients

# curl configs: GET every file of a tree to a download dir, and PUT the
# files of a dir to the reference collection.
get_conf() { # tree dirs per > conf
    tree_paths "$2" "$3" | awk -v url="$dav/share/$1" -v out="$tmp/dl/curl" \
        '{printf "url = \"%s/%s\"\noutput = \"%s/%s\"\n", url, $0, out, $0}'
}
put_conf() { # srcdir > conf
    tree_paths "$SMALL_DIRS" "$SMALL_PER_DIR" | awk -v url="$dav/ref/small" -v src="$1" \
        '{printf "upload-file = \"%s/%s\"\nurl = \"%s/%s\"\noutput = \"/dev/null\"\n", src, $0, url, $0}'
}
# The same PUTs, each followed by a HEAD of the file: what a client that
# learns every new version must send to a server whose PUT reply names none
# (Apache's does not), as the daemon does.
put_head_conf() { # srcdir > conf
    tree_paths "$SMALL_DIRS" "$SMALL_PER_DIR" | awk -v url="$dav/ref/small" -v src="$1" '
        {
            w = "write-out = \"%{http_code}\\n\"\noutput = \"/dev/null\"\n"
            if (NR > 1) print "next"
            printf "upload-file = \"%s/%s\"\nurl = \"%s/%s\"\n%snext\nhead\nurl = \"%s/%s\"\n%s", src, $0, url, $0, w, url, $0, w
        }'
}
get_conf small "$SMALL_DIRS" "$SMALL_PER_DIR" >"$tmp/get-small.conf"
get_conf large 1 "$LARGE_FILES" >"$tmp/get-large.conf"

# Checks a client's copy of a tree: every file there, the right bytes in
# total, one file identical; then removes it (untimed).
check_copy() { # what dir tree files bytes
    local n b
    n=$(find "$2" -type f | wc -l)
    b=$(find "$2" -type f -printf '%s\n' | awk '{s += $1} END {printf "%d", s}')
    [[ $n == "$4" && $b == "$5" ]] || die "$1 copied $n files / $b bytes of $3, not $4 / $5"
    cmp -s "$2/d000/f0000.bin" "$share_dir/$3/d000/f0000.bin" || die "$1: $3/d000/f0000.bin differs"
    rm -rf "$2"
}

# rclone against an on-the-fly webdav remote; its config and cache in the temp dir.
: >"$tmp/rclone.conf"
rclone_env=(env HOME="$tmp/home" XDG_CACHE_HOME="$tmp/home/.cache" XDG_CONFIG_HOME="$tmp/home/.config"
    RCLONE_CONFIG="$tmp/rclone.conf")
rclone_secs=
run_rclone() { # tree files bytes [extra flags]
    local tree=$1 files=$2 bytes=$3 t0
    shift 3
    t0=$EPOCHREALTIME
    run_bg "${rclone_env[@]}" rclone copy --webdav-url "$dav/share" --webdav-vendor other "$@" \
        ":webdav:$tree" "$tmp/dl/rclone" >"$tmp/rclone.out" 2>&1 ||
        { tail -n 20 "$tmp/rclone.out" >&2; die "rclone copy of $tree failed"; }
    rclone_secs=$(secs_since "$t0")
    check_copy "rclone $*" "$tmp/dl/rclone" "$tree" "$files" "$bytes"
}

curlz_secs=
run_curl_get() { # tree files bytes
    local t0
    t0=$EPOCHREALTIME
    run_bg curl -sS -Z --parallel-max "$TRANSFERS" --create-dirs -w '%{http_code}\n' -K "$tmp/get-$1.conf" \
        >"$tmp/curl.codes" 2>"$tmp/curl.err" || true
    curlz_secs=$(secs_since "$t0")
    [[ $(grep -c '^200$' "$tmp/curl.codes") == "$2" ]] ||
        die "curl -Z GET of $1: $(codes "$tmp/curl.codes"); $(head -c 300 "$tmp/curl.err")"
    check_copy "curl -Z" "$tmp/dl/curl" "$1" "$2" "$3"
}

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
fs=$(df -PT "$tmp" | awk 'NR == 2 {print $2}')
echo "offlinefiles benchmark: a WebDAV share (Apache mod_dav_fs) pinned and synced out, vs rclone and curl"
echo "machine: $NPROC CPUs${cpu:+ ($cpu)}, $(uname -sr), temp dir on $fs, load $(cut -d' ' -f1-3 /proc/loadavg)"
rclone_version=
((RCLONE)) && rclone_version=$("${rclone_env[@]}" rclone version 2>/dev/null | head -n 1)
echo "versions: $("$bin" --version), $("$apache_bin" -v | sed -n 's/^Server version: //p'), $(curl --version | head -n 1 | cut -d' ' -f1-2)${rclone_version:+, $rclone_version}"
echo "server: $dav/share (Apache as ${apache_user:-$(id -un)}); share //b/d manual, transfers $TRANSFERS; curl --parallel-max $TRANSFERS"
echo "trees: small $small_files files of $SMALL_SIZE B in $SMALL_DIRS dirs ($((small_bytes >> 20)) MiB);" \
    "large $LARGE_FILES files of $LARGE_SIZE B ($((large_bytes >> 20)) MiB); generated in ${gen_secs}s"
echo

# ---------------------------------------------------------------- 1. and 2. pins



pin_small=() rc_small=() rc16_small=() cz_small=()
pin_large=() rc_large=() rc16_large=() cz_large=()
one_wall=() one_curl=()
line() { # run label secs rate
    printf 'run %d  %-24s %8.3f s  (%s)\n' "$1" "$2" "$3" "$4"
}
for ((r = 1; r <= RUNS; r++)); do
    settle
    run_pin small "$small_bytes"
    pin_small+=("$pin_secs")
    line "$r" "pin small" "$pin_secs" "$(per_s "$small_files" "$pin_secs") files/s; job $(job_secs "$pin_json")s, itemsDone $(json_num itemsDone "$pin_json"), daemon CPU ${pin_cpu}s"
    drop_pin small
    if ((RCLONE && r <= RCLONE_RUNS)); then
        settle
        run_rclone small "$small_files" "$small_bytes"
        rc_small+=("$rclone_secs")
        line "$r" "rclone small" "$rclone_secs" "$(per_s "$small_files" "$rclone_secs") files/s"
        settle
        run_rclone small "$small_files" "$small_bytes" --transfers "$RCLONE_TRANSFERS"
        rc16_small+=("$rclone_secs")
        line "$r" "rclone -t$RCLONE_TRANSFERS small" "$rclone_secs" "$(per_s "$small_files" "$rclone_secs") files/s"
    fi
    settle
    run_curl_get small "$small_files" "$small_bytes"
    cz_small+=("$curlz_secs")
    line "$r" "curl -Z small" "$curlz_secs" "$(per_s "$small_files" "$curlz_secs") files/s"

    settle
    run_pin large "$large_bytes"
    pin_large+=("$pin_secs")
    line "$r" "pin large" "$pin_secs" "$(mib_s "$large_bytes" "$pin_secs") MiB/s; job $(job_secs "$pin_json")s, daemon CPU ${pin_cpu}s"
    drop_pin large
    if ((RCLONE && r <= RCLONE_RUNS)); then
        settle
        run_rclone large "$LARGE_FILES" "$large_bytes"
        rc_large+=("$rclone_secs")
        line "$r" "rclone large" "$rclone_secs" "$(mib_s "$large_bytes" "$rclone_secs") MiB/s"
        settle
        run_rclone large "$LARGE_FILES" "$large_bytes" --transfers "$RCLONE_TRANSFERS"
        rc16_large+=("$rclone_secs")
        line "$r" "rclone -t$RCLONE_TRANSFERS large" "$rclone_secs" "$(mib_s "$large_bytes" "$rclone_secs") MiB/s"
    fi
    settle
    run_curl_get large "$LARGE_FILES" "$large_bytes"
    cz_large+=("$curlz_secs")
    line "$r" "curl -Z large" "$curlz_secs" "$(mib_s "$large_bytes" "$curlz_secs") MiB/s"

    # A plain curl of one 16 MiB file, SINGLE_TRIES times (different files):
    # its own time_total (connect to last byte) and the process's wall time.
    settle
    walls=() totals=()
    for ((k = 0; k < SINGLE_TRIES; k++)); do
        f=$(printf 'd000/f%04d.bin' "$k")
        t0=$EPOCHREALTIME
        out=$(curl -sS -o "$tmp/dl/one.bin" -w '%{http_code} %{time_total}' "$dav/share/large/$f") ||
            die "curl of large/$f failed"
        walls+=("$(secs_since "$t0")")
        [[ ${out% *} == 200 ]] && cmp -s "$tmp/dl/one.bin" "$share_dir/large/$f" ||
            die "curl of large/$f: answer ${out% *} or different bytes"
        totals+=("${out#* }")
        rm -f "$tmp/dl/one.bin"
    done
    one_wall+=("${walls[@]}")
    one_curl+=("${totals[@]}")
    printf 'run %d  %-24s %8.4f s  (%s MiB/s; wall %s s, %s MiB/s; median of %d)\n' "$r" "curl one file" \
        "$(printf '%s\n' "${totals[@]}" | median4)" "$(mib_s "$LARGE_SIZE" "$(printf '%s\n' "${totals[@]}" | median4)")" \
        "$(printf '%s\n' "${walls[@]}" | median4)" "$(mib_s "$LARGE_SIZE" "$(printf '%s\n' "${walls[@]}" | median4)")" "$SINGLE_TRIES"
done
echo

# ---------------------------------------------------------------- 3. sync-out

# Every file of the small tree again with new random bytes, in a new dir.
gen_new() { gen_tree "$1" "$SMALL_DIRS" "$SMALL_PER_DIR" "$SMALL_SIZE"; }

# One curl config per batch for the offline rewrite through the API: url,
# upload-file (PUT) and output, in order.
write_configs() { # newdir
    local batch=$(((small_files + PARALLEL * 4 - 1) / (PARALLEL * 4)))
    rm -rf "$tmp/put"
    mkdir -p "$tmp/put"
    tree_paths "$SMALL_DIRS" "$SMALL_PER_DIR" | awk -v batch="$batch" -v api="$api" -v src="$1" -v out="$tmp/put" '
        {
            conf = sprintf("%s/%05d.conf", out, int((NR - 1) / batch))
            printf "url = \"%s/files/b/d/small/%s\"\nupload-file = \"%s/%s\"\noutput = \"/dev/null\"\n", api, $0, src, $0 > conf
        }'
}

connection() { # state
    ccurl -f -o /dev/null -X PUT -H 'Content-Type: application/json' -d "{\"state\":\"$1\"}" \
        "$api/connection/b/d" || daemon_die "cannot put //b/d $1"
}

# Number of dirty items under the share, counted page by page.
count_dirty() {
    local n=0 cursor="" page
    while :; do
        page=$(ccurl -f "$api/items?under=//b/d&depth=all&flags=dirty&limit=1000${cursor:+&cursor=$cursor}") ||
            daemon_die "cannot list the dirty items of //b/d"
        n=$((n + $(grep -o '"type":"file"' <<<"$page" | wc -l)))
        cursor=$(sed -n 's/.*"next":"\([^"]*\)".*/\1/p' <<<"$page")
        [[ -n $cursor ]] || break
    done
    echo "$n"
}

t0=$EPOCHREALTIME
run_bg curl -sS -K "$tmp/auth.conf" -o "$tmp/sync.json" -w '%{http_code}' --max-time "$SYNC_TIMEOUT" \
    -H 'Content-Type: application/json' -d '{"paths":["//b/d"],"wait":true}' "$api/sync" >"$tmp/sync.code" ||
    daemon_die "POST /api/v1/sync for //b/d failed (curl: $?)"
code=$(<"$tmp/sync.code")
sync_json=$(<"$tmp/sync.json")
[[ $code == 200 && $(json_str state "$sync_json") == succeeded ]] ||
    daemon_die "the sync of //b/d answered $code: ${sync_json:0:600}"
echo "sync of //b/d before sync-out: $(secs_since "$t0")s wall (job $(job_secs "$sync_json")s, itemsDone $(json_num itemsDone "$sync_json"))"

out_secs=() put_rates=() cput_secs=() cputh_secs=()
for ((r = 1; r <= OUT_RUNS; r++)); do
    new=$tmp/new-$r
    gen_new "$new"
    write_configs "$new"

    connection offline
    t0=$EPOCHREALTIME
    printf '%s\n' "$tmp"/put/*.conf >"$tmp/put.list"
    run_bg xargs -a "$tmp/put.list" -P "$PARALLEL" -n 1 curl -sS -K "$tmp/auth.conf" -w '%{http_code}\n' -K \
        >"$tmp/put.codes" 2>"$tmp/put.err" || true
    put_secs=$(secs_since "$t0")
    ok=$(grep -c '^20[01]$' "$tmp/put.codes" || true)
    [[ $ok == "$small_files" ]] ||
        daemon_die "offline rewrite: $ok of $small_files PUTs answered 200/201 ($(codes "$tmp/put.codes")); $(head -c 300 "$tmp/put.err")"
    dirty=$(count_dirty)
    [[ $dirty == "$small_files" ]] || daemon_die "after the offline rewrite $dirty items are dirty, not $small_files"
    put_rates+=("$(per_s "$small_files" "$put_secs")")

    # From the PUT online (which starts the background sync) until no dirty item is left.
    settle
    c0=$(cpu_secs "$daemon_pid") a0=$(group_cpu_secs "$apache_pid")
    perf_pid= stat_pid=
    if [[ -n $PERF ]]; then
        perf record -q $PERF_ARGS -p "$daemon_pid" -o "$PERF/sync-out-$r.data" 2>/dev/null &
        perf_pid=$!
    fi
    # Context switches of all the daemon's threads, those that end meanwhile too.
    if command -v perf >/dev/null; then
        perf stat -x, -e context-switches -p "$daemon_pid" -o "$tmp/ctxsw.csv" 2>/dev/null &
        stat_pid=$!
    fi
    apache_stat_begin
    t0=$EPOCHREALTIME
    connection online
    secs=$(wait_clean "$api/items?under=//b/d&depth=all&flags=dirty&limit=1" "$tmp/data/admin.token" \
        "$POLL" "$SYNC_TIMEOUT" "$t0") ||
        daemon_die "sync-out: dirty items left ${SYNC_TIMEOUT}s after going online, or the poll failed ($(count_dirty) of $small_files)"
    out_cpu=$(cpu_since "$c0" "$daemon_pid")
    out_apache=$(group_cpu_since "$a0" "$apache_pid")
    apache_stat_end "$small_files"
    out_astat=$astat
    [[ -z $perf_pid ]] || { kill -INT "$perf_pid"; wait "$perf_pid" || true; }
    ctxsw=n/a
    if [[ -n $stat_pid ]]; then
        kill -INT "$stat_pid"
        wait "$stat_pid" || true
        ctxsw=$(awk -F, -v n="$small_files" '$3 == "context-switches" {printf "%.1f", $1 / n}' "$tmp/ctxsw.csv")
    fi
    out_secs+=("$secs")
    job=$(ccurl -f "$api/jobs?limit=1") || daemon_die "cannot read the jobs"
    diff -rq "$new" "$share_dir/small" >"$tmp/diff.out" 2>&1 ||
        daemon_die "after sync-out the server differs from the written files: $(head -n 3 "$tmp/diff.out")"
    printf 'round %d  offline rewrite %8.3f s (%s files/s)   sync-out %8.3f s (%s files/s; job %s by %s, %ss, itemsDone %s, CPU daemon %ss, Apache %ss, daemon context switches per file %s; Apache per file %s)\n' \
        "$r" "$put_secs" "${put_rates[-1]}" "$secs" "$(per_s "$small_files" "$secs")" "$(json_str state "$job")" \
        "$(json_str createdBy "$job")" "$(job_secs "$job")" "$(json_num itemsDone "$job")" "$out_cpu" "$out_apache" "$ctxsw" "$out_astat"

    # The same files PUT by curl -Z to the reference collection (overwriting, as above).
    put_conf "$new" >"$tmp/cput.conf"
    settle
    a0=$(group_cpu_secs "$apache_pid")
    apache_stat_begin
    t0=$EPOCHREALTIME
    run_bg curl -sS -Z --parallel-max "$TRANSFERS" -w '%{http_code}\n' -K "$tmp/cput.conf" \
        >"$tmp/cput.codes" 2>"$tmp/cput.err" || true
    cput_secs+=("$(secs_since "$t0")")
    cput_apache=$(group_cpu_since "$a0" "$apache_pid")
    apache_stat_end "$small_files"
    cput_astat=$astat
    [[ $(grep -c '^20[14]$' "$tmp/cput.codes") == "$small_files" ]] ||
        die "curl -Z PUT: $(codes "$tmp/cput.codes"); $(head -c 300 "$tmp/cput.err")"
    diff -rq "$new" "$ref_dir/small" >"$tmp/diff.out" 2>&1 ||
        die "after curl -Z PUT the server differs from the written files: $(head -n 3 "$tmp/diff.out")"
    printf 'round %d  curl -Z -T PUT  %8.3f s (%s files/s; CPU Apache %ss; Apache per file %s)\n' "$r" "${cput_secs[-1]}" \
        "$(per_s "$small_files" "${cput_secs[-1]}")" "$cput_apache" "$cput_astat"

    # And PUT + HEAD pairs, the floor for a client that keeps each file's version.
    put_head_conf "$new" >"$tmp/cputh.conf"
    settle
    a0=$(group_cpu_secs "$apache_pid")
    t0=$EPOCHREALTIME
    run_bg curl -sS -Z --parallel-max "$TRANSFERS" -K "$tmp/cputh.conf" \
        >"$tmp/cputh.codes" 2>"$tmp/cputh.err" || true
    cputh_secs+=("$(secs_since "$t0")")
    cputh_apache=$(group_cpu_since "$a0" "$apache_pid")
    [[ $(grep -c '^20[14]$' "$tmp/cputh.codes") == "$small_files" && $(grep -c '^200$' "$tmp/cputh.codes") == "$small_files" ]] ||
        die "curl -Z PUT + HEAD: $(codes "$tmp/cputh.codes"); $(head -c 300 "$tmp/cputh.err")"
    printf 'round %d  curl -Z PUT+HEAD %7.3f s (%s files/s; CPU Apache %ss)\n' "$r" "${cputh_secs[-1]}" \
        "$(per_s "$small_files" "${cputh_secs[-1]}")" "$cputh_apache"
    rm -rf "$new"
done

# ---------------------------------------------------------------- summary

meds() { printf '%s\n' "$@" | median; }
pin_small_med=$(meds "${pin_small[@]}")
cz_small_med=$(meds "${cz_small[@]}")
pin_large_med=$(meds "${pin_large[@]}")
cz_large_med=$(meds "${cz_large[@]}")
one_med=$(printf '%s\n' "${one_curl[@]}" | median4)
one_wall_med=$(printf '%s\n' "${one_wall[@]}" | median4)
out_med=$(meds "${out_secs[@]}")
cput_med=$(meds "${cput_secs[@]}")
cputh_med=$(meds "${cputh_secs[@]}")

# Ratios are of rates (ours / theirs): 1 is as fast, above 1 is faster.
small_files_s=$(per_s "$small_files" "$pin_small_med")
cz_small_files_s=$(per_s "$small_files" "$cz_small_med")
large_mib_s=$(mib_s "$large_bytes" "$pin_large_med")
one_mib_s=$(mib_s "$LARGE_SIZE" "$one_med")
r_small=$(ratio "$cz_small_med" "$pin_small_med")
r_large=$(awk -v a="$large_bytes" -v s="$pin_large_med" -v b="$LARGE_SIZE" -v t="$one_med" \
    'BEGIN {printf "%.2f", (s > 0 && t > 0 ? (a / s) / (b / t) : 0)}')
r_large_wall=$(awk -v a="$large_bytes" -v s="$pin_large_med" -v b="$LARGE_SIZE" -v t="$one_wall_med" \
    'BEGIN {printf "%.2f", (s > 0 && t > 0 ? (a / s) / (b / t) : 0)}')
r_large_cz=$(ratio "$cz_large_med" "$pin_large_med")
r_out=$(ratio "$cput_med" "$out_med")
r_out_head=$(ratio "$cputh_med" "$out_med")
goal() { awk -v v="$1" -v lim="$2" 'BEGIN {print (v >= lim ? "met" : "NOT met")}'; }
# Each round's own ratio (ours / theirs of that round, run minutes apart):
# on a shared machine a load that comes and goes hits both runs of a round
# alike, so these show how steady the median's ratio is.
round_ratios() { # "theirs..." "ours..."
    local -a a=($1) b=($2)
    local i out=
    for ((i = 0; i < ${#a[@]} && i < ${#b[@]}; i++)); do out+=" $(ratio "${a[i]}" "${b[i]}")"; done
    echo "${out# }"
}

echo
printf 'median pin small            %8.3f s  (%s files/s)\n' "$pin_small_med" "$small_files_s"
if ((RCLONE)); then
    rc_small_med=$(meds "${rc_small[@]}")
    rc16_small_med=$(meds "${rc16_small[@]}")
    rc_large_med=$(meds "${rc_large[@]}")
    rc16_large_med=$(meds "${rc16_large[@]}")
    printf 'median rclone small         %8.3f s  (%s files/s; %d run(s))\n' "$rc_small_med" "$(per_s "$small_files" "$rc_small_med")" "${#rc_small[@]}"
    printf 'median rclone -t%-2d small     %8.3f s  (%s files/s; %d run(s))\n' "$RCLONE_TRANSFERS" "$rc16_small_med" "$(per_s "$small_files" "$rc16_small_med")" "${#rc16_small[@]}"
fi
printf 'median curl -Z small        %8.3f s  (%s files/s)\n' "$cz_small_med" "$cz_small_files_s"
printf 'median pin large            %8.3f s  (%s MiB/s)\n' "$pin_large_med" "$large_mib_s"
if ((RCLONE)); then
    printf 'median rclone large         %8.3f s  (%s MiB/s; %d run(s))\n' "$rc_large_med" "$(mib_s "$large_bytes" "$rc_large_med")" "${#rc_large[@]}"
    printf 'median rclone -t%-2d large     %8.3f s  (%s MiB/s; %d run(s))\n' "$RCLONE_TRANSFERS" "$rc16_large_med" "$(mib_s "$large_bytes" "$rc16_large_med")" "${#rc16_large[@]}"
fi
printf 'median curl -Z large        %8.3f s  (%s MiB/s)\n' "$cz_large_med" "$(mib_s "$large_bytes" "$cz_large_med")"
printf 'median curl one file        %8.4f s  (%s MiB/s; wall %.4f s, %s MiB/s)\n' "$one_med" "$one_mib_s" \
    "$one_wall_med" "$(mib_s "$LARGE_SIZE" "$one_wall_med")"
printf 'median sync-out small       %8.3f s  (%s files/s, %s MiB/s)\n' "$out_med" "$(per_s "$small_files" "$out_med")" \
    "$(mib_s "$small_bytes" "$out_med")"
printf 'median curl -Z -T PUT small %8.3f s  (%s files/s, %s MiB/s)\n' "$cput_med" "$(per_s "$small_files" "$cput_med")" \
    "$(mib_s "$small_bytes" "$cput_med")"
printf 'median curl -Z PUT+HEAD     %8.3f s  (%s files/s)\n' "$cputh_med" "$(per_s "$small_files" "$cputh_med")"
echo "ratios are ours/theirs in files/s or MiB/s (1.00 = as fast):"
echo "ratio pin small / curl -Z:        $r_small   (goal >= 0.80: $(goal "$r_small" 0.8)); rounds: $(round_ratios "${cz_small[*]}" "${pin_small[*]}")"
echo "ratio pin large / curl one file:  $r_large   (goal >= 0.90: $(goal "$r_large" 0.9)); against curl's wall time $r_large_wall"
echo "ratio pin large / curl -Z:        $r_large_cz"
echo "ratio sync-out / curl -Z -T PUT:  $r_out   (goal >= 0.80: $(goal "$r_out" 0.8)); rounds: $(round_ratios "${cput_secs[*]}" "${out_secs[*]}")"
echo "ratio sync-out / curl -Z PUT+HEAD: $r_out_head"
if ((RCLONE)); then
    echo "ratio pin small / rclone:         $(ratio "$rc_small_med" "$pin_small_med");   / rclone -t$RCLONE_TRANSFERS: $(ratio "$rc16_small_med" "$pin_small_med")"
    echo "ratio pin large / rclone:         $(ratio "$rc_large_med" "$pin_large_med");   / rclone -t$RCLONE_TRANSFERS: $(ratio "$rc16_large_med" "$pin_large_med")"
fi
echo
echo "reproduce: ${OFFLINEFILESD:+OFFLINEFILESD=$OFFLINEFILESD }RUNS=$RUNS OUT_RUNS=$OUT_RUNS SMALL_DIRS=$SMALL_DIRS SMALL_PER_DIR=$SMALL_PER_DIR SMALL_SIZE=$SMALL_SIZE LARGE_FILES=$LARGE_FILES LARGE_SIZE=$LARGE_SIZE TRANSFERS=$TRANSFERS RCLONE=$RCLONE RCLONE_RUNS=$RCLONE_RUNS RCLONE_TRANSFERS=$RCLONE_TRANSFERS PARALLEL=$PARALLEL bench/webdav.sh"
echo "commands: POST /api/v1/pins {\"paths\":[\"//b/d/TREE\"],\"deep\":true,\"wait\":true} (manual share, transfers $TRANSFERS);" \
    "rclone copy --webdav-url URL --webdav-vendor other [--transfers $RCLONE_TRANSFERS] :webdav:TREE DIR;" \
    "curl -Z --parallel-max $TRANSFERS --create-dirs -K LIST (url/output pairs); curl -o FILE URL;" \
    "curl -Z --parallel-max $TRANSFERS -K LIST (upload-file/url pairs)"
result="RESULT pin_small=$pin_small_med curlz_small=$cz_small_med pin/curlz_small=$r_small pin_small_files_per_s=$small_files_s curlz_small_files_per_s=$cz_small_files_s"
((RCLONE)) && result+=" rclone_small=$rc_small_med rclone${RCLONE_TRANSFERS}_small=$rc16_small_med"
result+=" pin_large=$pin_large_med pin_large_mib_s=$large_mib_s curl_one=$one_med curl_one_mib_s=$one_mib_s pin/curl_one=$r_large curlz_large=$cz_large_med"
((RCLONE)) && result+=" rclone_large=$rc_large_med rclone${RCLONE_TRANSFERS}_large=$rc16_large_med"
result+=" syncout=$out_med curlz_put=$cput_med syncout/curlz_put=$r_out curlz_put_head=$cputh_med syncout/curlz_put_head=$r_out_head"
echo "$result"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Benchmark of server-sent events (GET /api/v1/events): SUBS subscribers
# (default 1,000) while the engine publishes RATE events per second (default
# 1,000) for DURATION seconds (default 30). Measures events lost (goal: 0),
# duplicates, delivery latency p50/p99/max (goal: p99 under 50 ms), and the
# daemon's threads, memory (VmRSS, VmHWM), open fds and CPU time before,
# during and after; and how long the daemon's and the load generator's
# threads waited for a CPU, with the machine's CPU pressure (PSI): on a shared
# machine, what tells a slow daemon from one that was not let run.
#
#   bench/events.sh
#   SUBS=2000 RATE=2000 DURATION=60 bench/events.sh
#   OFFLINEFILESD=/path/to/offlinefilesd bench/events.sh    # skip the build
#
# The load comes from bench/sse_load/*.c (compiled here with cc -O2 into the
# temp dir): one process holding all the subscriber connections on one epoll,
# and a publisher thread that sends POST /api/v1/events/ping {"count":BATCH,
# "detail":"t=<send time, CLOCK_REALTIME ns>"} every BATCH/RATE seconds on a
# keep-alive connection. Latency = time read(2) returned the event's bytes -
# the send time in its detail, so it includes the POST's own handling.
#
# Everything listens on 127.0.0.1 only; the daemon's data dir and the load
# generator live in one temp dir that is removed on exit, with the daemon
# stopped (Ctrl-C too).
set -euo pipefail
export LC_ALL=C

SUBS=${SUBS:-1000}
RATE=${RATE:-1000}         # events per second
BATCH=${BATCH:-10}         # events per POST: RATE/BATCH POSTs per second
DURATION=${DURATION:-30}   # seconds of publishing
DRAIN=${DRAIN:-10}         # seconds to wait for stragglers after the last POST
KEEPALIVE=${KEEPALIVE:-15} # the subscribers' ?ping= (the stream's keep-alive)
NPROC=$(nproc)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
build_dir=${BUILD_DIR:-${TMPDIR:-/tmp}/offlinefiles-build-release}


# ---------------------------------------------------------------- tools

need cc gcc
need curl curl

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

tmp=$(mktemp -d "${TMPDIR:-/tmp}/of-bench-events.XXXXXX")
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
trap 'exit 141' PIPE

daemon_die() {
    echo "events.sh: $*" >&2
    echo "--- last daemon log lines ($tmp/daemon.log) ---" >&2
    tail -n 30 "$tmp/daemon.log" >&2 || true
    exit 1
}

# ---------------------------------------------------------------- the load generator

cc -O2 -std=gnu11 -Wall -pthread -o "$tmp/sse_load" "$root"/bench/sse_load/*.c ||
    die "cannot compile bench/sse_load/*.c"

# ---------------------------------------------------------------- our daemon

# Each subscriber is one socket in the daemon and one here; a few more for the rest.
want_fds=$((SUBS + 1024))
if (($(ulimit -n) < want_fds)); then
    ulimit -n "$want_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
(($(ulimit -n) >= SUBS + 64)) || die "the open-file limit ($(ulimit -n), hard $(ulimit -Hn)) is too low for $SUBS subscribers"

mkdir -p "$tmp/data"
"$bin" --listen 127.0.0.1:0 --data-dir "$tmp/data" --log-level info >"$tmp/daemon.log" 2>&1 &
daemon_pid=$!
port=
for ((i = 0; i < 100; i++)); do
    port=$(sed -n 's/.* listening on .*(port \([0-9]*\)).*/\1/p' "$tmp/daemon.log")
    [[ -n $port ]] && break
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.1
done
[[ -n $port ]] || daemon_die "the daemon did not start"
base=http://127.0.0.1:$port
# The token goes to curl in a config file and to the load generator as a file
# name, so it is never on a command line.
printf 'header = "Authorization: Bearer %s"\n' "$(<"$tmp/data/admin.token")" >"$tmp/curl.conf"
chmod 0600 "$tmp/curl.conf"
curl -fsS -o /dev/null -K "$tmp/curl.conf" "$base/api/v1/events/log?limit=1" ||
    daemon_die "GET /api/v1/events/log failed"

# ---------------------------------------------------------------- run

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo "offlinefiles benchmark: server-sent events, $SUBS subscribers, $RATE events/s for ${DURATION}s"
echo "machine: $NPROC CPUs${cpu:+ ($cpu)}, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: $("$bin" --version); open-file limit $(ulimit -n)"
echo "load: GET /api/v1/events?include=Ping&ping=$KEEPALIVE x $SUBS on 127.0.0.1 (one epoll process);" \
    "POST /api/v1/events/ping count=$BATCH every $((BATCH * 1000 / RATE)) ms; drain up to ${DRAIN}s"
echo

set +e
"$tmp/sse_load" --port "$port" --token-file "$tmp/data/admin.token" --pid "$daemon_pid" \
    --subs "$SUBS" --rate "$RATE" --batch "$BATCH" --duration "$DURATION" --drain "$DRAIN" \
    --keepalive "$KEEPALIVE" | tee "$tmp/load.out"
load_rc=${PIPESTATUS[0]}
set -e
kill -0 "$daemon_pid" 2>/dev/null || daemon_die "the daemon died during the run"
((load_rc == 0)) || daemon_die "the load generator failed (exit $load_rc)"
stats=$(sed -n 's/^STATS //p' "$tmp/load.out")
[[ -n $stats ]] || daemon_die "no STATS line from the load generator"
field() { sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p" <<<" $stats"; }

lost=$(field lost)
dup=$(field dup)
dropped=$(field dropped)
p99=$(field p99_ms)
verdict_lost=$([[ $lost == 0 && $dup == 0 && $dropped == 0 ]] && echo met || echo MISSED)
verdict_p99=$(awk -v p="$p99" 'BEGIN {print (p < 50 ? "met" : "MISSED")}')
echo
echo "goals: 0 events lost: $verdict_lost (lost $lost, duplicates $dup, dropped connections $dropped);" \
    "p99 under 50 ms: $verdict_p99 (p99 $p99 ms)"

# Anything the daemon logged above info (warnings, errors) during the run.
if grep -Eq '^[^ ]+ +(warn|error) ' "$tmp/daemon.log"; then
    echo "daemon log, warnings and errors:"
    grep -E '^[^ ]+ +(warn|error) ' "$tmp/daemon.log" | tail -n 20 | sed 's/^/  /'
fi
if [[ $verdict_lost != met || $verdict_p99 != met ]]; then
    echo "daemon log, last lines:"
    tail -n 15 "$tmp/daemon.log" | sed 's/^/  /'
fi
echo
echo "reproduce: SUBS=$SUBS RATE=$RATE BATCH=$BATCH DURATION=$DURATION DRAIN=$DRAIN KEEPALIVE=$KEEPALIVE bench/events.sh"
echo "RESULT subs=$SUBS rate=$RATE duration=$DURATION lost=$lost dup=$dup dropped=$dropped" \
    "p50_ms=$(field p50_ms) p99_ms=$p99 max_ms=$(field max_ms) daemon_p99_ms=$(field daemon_p99_ms) threads_idle=$(field threads_idle)" \
    "threads_max=$(field threads_max) rss_idle_mib=$(field rss_idle_mib) rss_subscribed_mib=$(field rss_subscribed_mib)" \
    "rss_max_mib=$(field rss_max_mib) rss_closed_mib=$(field rss_closed_mib) hwm_mib=$(field hwm_mib)" \
    "cpu_s=$(field cpu_s) cpu_pct=$(field cpu_pct) client_cpu_pct=$(field client_cpu_pct)" \
    "others_cpu_pct=$(field others_cpu_pct) daemon_wait_s=$(field daemon_wait_s) client_wait_s=$(field client_wait_s)" \
    "psi_some_pct=$(field psi_some_pct) goal_lost=$verdict_lost goal_p99=$verdict_p99"

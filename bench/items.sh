#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Benchmark of GET /api/v1/items/{path} (FindItem: one SQLite lookup, the
# item rendered as JSON, bearer token checked) against nginx serving a static
# file with the very same bytes, in the same run on the same machine, with
# wrk at 64 connections. Runs alternate (ours, nginx, ours, ...) so that
# drift (thermal, noisy neighbours) hits both sides alike; each run has its
# own warm-up. Prints every run, the medians and the ratio ours/nginx.
#
#   bench/items.sh
#   RUNS=5 DURATION=20 CONNECTIONS=64 WRK_THREADS=2 bench/items.sh
#   OFFLINEFILESD=/path/to/offlinefilesd bench/items.sh    # skip the build
#
# Everything listens on 127.0.0.1 only; everything lives in one temp dir that
# is removed on exit, with both servers stopped. nginx runs as the current
# user with its own config (pid, logs, temp paths in the temp dir); no system
# nginx config is read or changed.
set -euo pipefail

RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-64}
NPROC=$(nproc)
WRK_THREADS=${WRK_THREADS:-$NPROC}
NGINX_WORKERS=${NGINX_WORKERS:-$NPROC}
ITEM_SIZE=${ITEM_SIZE:-4096} # bytes of the cached file; the item JSON does not depend on it

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
build_dir=${BUILD_DIR:-${TMPDIR:-/tmp}/offlinefiles-build-release}


# ---------------------------------------------------------------- tools

need wrk wrk
need nginx nginx-light
need curl curl
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

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

tmp=$(mktemp -d "${TMPDIR:-/tmp}/of-bench-items.XXXXXX")
chmod 0755 "$tmp"
daemon_pid=
nginx_pid=


cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop "$nginx_pid"
    stop "$daemon_pid"
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- our daemon

mkdir -p "$tmp/data" "$tmp/share/reports"
head -c "$ITEM_SIZE" /dev/urandom >"$tmp/share/reports/q3.bin"

# Port 0: the kernel picks a free port; the daemon logs which one.
"$bin" --listen 127.0.0.1:0 --data-dir "$tmp/data" --log-level info >"$tmp/daemon.log" 2>&1 &
daemon_pid=$!
port=
for ((i = 0; i < 100; i++)); do
    port=$(sed -n 's/.* listening on .*(port \([0-9]*\)).*/\1/p' "$tmp/daemon.log")
    [[ -n $port ]] && break
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.1
done
[[ -n $port ]] || die "the daemon did not start: $(tail -n 5 "$tmp/daemon.log")"
ours_base=http://127.0.0.1:$port
token=$(<"$tmp/data/admin.token")
auth="Authorization: Bearer $token"

curl -fsS -o /dev/null -H "$auth" -H 'Content-Type: application/json' \
    -d "{\"server\":\"bench\",\"share\":\"files\",\"remote\":\"file://$tmp/share\",\"cachingMode\":\"auto\"}" \
    "$ours_base/api/v1/shares" || die "cannot add the share"
# Read the file once: that caches it and makes it a known item.
curl -fsS -o /dev/null -H "$auth" "$ours_base/api/v1/files/bench/files/reports/q3.bin" ||
    die "cannot read the file through the daemon"
item_path=/api/v1/items/bench/files/reports/q3.bin
ours_url=$ours_base$item_path

mkdir -p "$tmp/www"
curl -fsS -H "$auth" -o "$tmp/www/item.json" "$ours_url" || die "GET $item_path failed"
body_bytes=$(wc -c <"$tmp/www/item.json")

# ---------------------------------------------------------------- nginx

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_nginx() { # port
    local np=$1 user_line=
    mkdir -p "$tmp/nginx/tmp"
    # As root the workers would switch to nobody, who cannot read the temp dir.
    [[ $(id -u) -eq 0 ]] && user_line="user $(id -un) $(id -gn);"
    cat >"$tmp/nginx/nginx.conf" <<EOF
$user_line
worker_processes $NGINX_WORKERS;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events {
    worker_connections 4096;
}
http {
    access_log off;
    client_body_temp_path $tmp/nginx/tmp/client_body;
    proxy_temp_path $tmp/nginx/tmp/proxy;
    fastcgi_temp_path $tmp/nginx/tmp/fastcgi;
    uwsgi_temp_path $tmp/nginx/tmp/uwsgi;
    scgi_temp_path $tmp/nginx/tmp/scgi;
    default_type application/json;
    sendfile on;
    tcp_nodelay on;
    # Our daemon keeps a connection open for any number of requests; so does nginx here.
    keepalive_requests 100000000;
    keepalive_timeout 75s;
    server {
        listen 127.0.0.1:$np;
        root $tmp/www;
        location / { }
    }
}
EOF
    "$nginx_bin" -p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" \
        >>"$tmp/nginx/stderr.log" 2>&1 &
    nginx_pid=$!
    for ((i = 0; i < 50; i++)); do
        curl -fsS -o /dev/null "http://127.0.0.1:$np/item.json" 2>/dev/null && return 0
        kill -0 "$nginx_pid" 2>/dev/null || break
        sleep 0.1
    done
    stop "$nginx_pid"
    nginx_pid=
    return 1
}

nginx_port=
for ((attempt = 0; attempt < 20; attempt++)); do
    p=$((20000 + RANDOM % 40000))
    port_free "$p" || continue
    if start_nginx "$p"; then
        nginx_port=$p
        break
    fi
done
[[ -n $nginx_port ]] || die "nginx did not start: $(tail -n 5 "$tmp/nginx/error.log" "$tmp/nginx/stderr.log" 2>/dev/null)"
nginx_url=http://127.0.0.1:$nginx_port/item.json

cmp -s "$tmp/www/item.json" <(curl -fsS "$nginx_url") || die "nginx does not serve the same bytes"
ours_head=$(curl -sS -o /dev/null -D - -H "$auth" "$ours_url" | wc -c)
nginx_head=$(curl -sS -o /dev/null -D - "$nginx_url" | wc -c)

# ---------------------------------------------------------------- runs

wrk_args=(-t "$WRK_THREADS" -c "$CONNECTIONS" -d "${DURATION}s" --latency)

# One wrk run; prints "rps p50 p99"; fails on non-2xx answers or socket errors.
measure() { # name url [wrk args...]
    local name=$1 url=$2 out
    shift 2
    wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d "${WARMUP}s" "$@" "$url" >/dev/null
    out=$(wrk "${wrk_args[@]}" "$@" "$url")
    if grep -q 'Non-2xx or 3xx responses' <<<"$out"; then
        echo "$out" >&2
        die "$name answered with errors (see wrk's output above)"
    fi
    if grep -q 'Socket errors' <<<"$out"; then
        echo "# $name: $(grep 'Socket errors' <<<"$out" | sed 's/^ *//')" >&2
    fi
    awk '/^Requests\/sec:/ {rps = $2}
         $1 == "50%" {p50 = $2}
         $1 == "99%" {p99 = $2}
         END {if (rps == "") exit 1; print rps, p50, p99}' <<<"$out"
}

median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo "offlinefiles benchmark: GET $item_path vs nginx serving the same $body_bytes-byte JSON as a static file"
echo "machine: $NPROC CPUs${cpu:+ ($cpu)}, $(uname -sr)"
echo "versions: $("$bin" --version), $("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //'), $(wrk -v 2>&1 | awk 'NR == 1 {print $1, $2}')"
echo "load: wrk $WRK_THREADS threads, $CONNECTIONS connections, ${DURATION}s per run after ${WARMUP}s warm-up;" \
    "$RUNS runs each, alternating; nginx $NGINX_WORKERS workers; our daemon with its default thread pool"
echo "response: $body_bytes body bytes each; headers ours $ours_head bytes, nginx $nginx_head bytes"
echo

ours_runs=()
nginx_runs=()
for ((r = 1; r <= RUNS; r++)); do
    read -r rps p50 p99 < <(measure ours "$ours_url" -H "$auth") || die "wrk failed on ours"
    ours_runs+=("$rps")
    printf 'run %d  ours   %10.0f req/s   p50 %-8s p99 %s\n' "$r" "$rps" "$p50" "$p99"
    read -r rps p50 p99 < <(measure nginx "$nginx_url") || die "wrk failed on nginx"
    nginx_runs+=("$rps")
    printf 'run %d  nginx  %10.0f req/s   p50 %-8s p99 %s\n' "$r" "$rps" "$p50" "$p99"
done

ours_median=$(printf '%s\n' "${ours_runs[@]}" | median)
nginx_median=$(printf '%s\n' "${nginx_runs[@]}" | median)
ratio=$(awk -v a="$ours_median" -v b="$nginx_median" 'BEGIN {printf "%.3f", (b > 0 ? a / b : 0)}')
echo
printf 'median ours   %10.0f req/s\n' "$ours_median"
printf 'median nginx  %10.0f req/s\n' "$nginx_median"
echo "ratio ours/nginx: $ratio"
echo
echo "reproduce: RUNS=$RUNS DURATION=$DURATION WARMUP=$WARMUP CONNECTIONS=$CONNECTIONS WRK_THREADS=$WRK_THREADS NGINX_WORKERS=$NGINX_WORKERS bench/items.sh"
echo "wrk, ours:  wrk ${wrk_args[*]} -H 'Authorization: Bearer \$TOKEN' http://127.0.0.1:PORT$item_path"
echo "wrk, nginx: wrk ${wrk_args[*]} http://127.0.0.1:PORT/item.json"
echo "RESULT ours_median=$ours_median nginx_median=$nginx_median ratio=$ratio"

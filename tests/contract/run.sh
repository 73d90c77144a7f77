#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Contract check of the HTTP API: lint openapi/openapi.yaml with Redocly,
# start the real daemon on a free 127.0.0.1 port with a scratch data dir,
# drive every operation of the spec with check.mjs and validate every answer
# against the spec, then stop the daemon.
#
# Usage: tests/contract/run.sh path/to/offlinefilesd
# Exits non-zero on any failure; the last line is "N passed, M failed".
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 path/to/offlinefilesd" >&2
    exit 2
fi
bin=$(realpath "$1")
if [ ! -x "$bin" ]; then
    echo "run.sh: $1 is not an executable" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
spec="$here/../../openapi/openapi.yaml"
cd "$here"

export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
if [ ! -d node_modules ]; then
    npm ci --no-audit --no-fund
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/of-contract.XXXXXX")
pid=
lint_failed=0
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# (a) Lint.
echo "== lint openapi.yaml"
if ! node_modules/.bin/redocly lint --config redocly.yaml "$spec"; then
    lint_failed=1
fi

# (b) Start the daemon: port 0 lets the kernel pick a free port, read back from the log.
echo "== start $bin"
mkdir -p "$work/data" "$work/web"
"$bin" --listen 127.0.0.1:0 --data-dir "$work/data" --web-dir "$work/web" --log-level info \
    >"$work/daemon.log" 2>&1 &
pid=$!
port=
for _ in $(seq 1 100); do
    port=$(sed -n 's/.*listening on .*(port \([0-9]*\)).*/\1/p' "$work/daemon.log" | head -n1)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$port" ] || [ ! -s "$work/data/admin.token" ]; then
    echo "run.sh: the daemon did not start:" >&2
    cat "$work/daemon.log" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
# A second, non-admin token, for the 403 cases.
"$bin" token create --user bob --data-dir "$work/data" >"$work/user.token"

# (c) Drive every operation and validate every answer.
echo "== check http://127.0.0.1:$port against the spec"
set +e
node check.mjs --base "http://127.0.0.1:$port" --spec "$spec" \
    --admin-token "$work/data/admin.token" --user-token "$work/user.token" --work "$work" \
    >"$work/check.out"
check_rc=$?
set -e

# (d) Stop the daemon; it must stop cleanly.
stop_failed=0
kill -TERM "$pid"
for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
    echo "run.sh: the daemon did not stop within 15 s of SIGTERM" >&2
    stop_failed=1
    kill -KILL "$pid" 2>/dev/null || true
fi
daemon_rc=0
wait "$pid" || daemon_rc=$?
pid=
if [ "$stop_failed" = 0 ] && [ "$daemon_rc" != 0 ]; then
    echo "run.sh: the daemon exited with status $daemon_rc" >&2
    stop_failed=1
fi

# The checks' own output, then the totals with lint and shutdown counted as checks.
summary=$(tail -n1 "$work/check.out")
sed '$d' "$work/check.out"
if [ "$check_rc" != 0 ] && ! printf '%s\n' "$summary" | grep -Eq '^[0-9]+ passed, [0-9]+ failed$'; then
    echo "run.sh: check.mjs failed (status $check_rc):" >&2
    printf '%s\n' "$summary" >&2
    summary="0 passed, 1 failed"
fi
if [ "$check_rc" != 0 ] || [ "$stop_failed" != 0 ] || [ "$lint_failed" != 0 ]; then
    echo "== daemon log (warnings and errors)"
    grep -Ev ' (info|debug) ' "$work/daemon.log" || true
fi
passed=${summary%% passed*}
failed=${summary#*, }
failed=${failed%% failed*}
for r in "$lint_failed" "$stop_failed"; do
    if [ "$r" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "lint: $([ "$lint_failed" = 0 ] && echo ok || echo FAIL), daemon stop: $([ "$stop_failed" = 0 ] && echo ok || echo FAIL)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

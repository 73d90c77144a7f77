#!/usr/bin/env bash
# Sets up and runs offlinefiles on its embedded default: data in ./demo/data,
# a demo share //demo/files over ./demo/files with a few sample files.
# Prints the dashboard URL and the admin token; Ctrl-C stops the daemon.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
port=${OFFLINEFILES_PORT:-7780}
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DOF_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
mkdir -p demo/data demo/files/reports
[ -f demo/files/README.txt ] || {
  printf 'Welcome to offlinefiles.\nThese files stay readable when the share is offline.\n' > demo/files/README.txt
  printf 'quarter,revenue\nQ1,120\nQ2,135\nQ3,150\n' > demo/files/reports/q3.csv
  printf '# Notes\n- pin what you need offline\n- edit offline, sync later\n' > demo/files/notes.md
}
cat > demo/config.json <<JSON
{
  "listen": "127.0.0.1:$port",
  "dataDir": "$top/demo/data",
  "webDir": "$top/web",
  "shares": [
    {"server": "demo", "share": "files", "remote": "file://$top/demo/files", "cachingMode": "auto"}
  ]
}
JSON
build/daemon/offlinefilesd --config demo/config.json &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' INT TERM EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break
  kill -0 $pid 2>/dev/null || { echo "the daemon did not start" >&2; exit 1; }
  sleep 0.1
done
token=$(cat demo/data/admin.token)
cat <<MSG

  offlinefiles is running with the demo share //demo/files ($top/demo/files)
  dashboard:   http://127.0.0.1:$port/#token=$token
  admin token: $token   (also in demo/data/admin.token)
  try:         curl -H "Authorization: Bearer $token" http://127.0.0.1:$port/api/v1/files/demo/files

  Ctrl-C stops it.
MSG
wait $pid

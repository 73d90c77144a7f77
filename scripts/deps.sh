#!/usr/bin/env bash
# Installs the Debian 12 packages offlinefiles needs, only those missing.
# usage: scripts/deps.sh [build|test]   (test adds what the test suite needs)
set -euo pipefail
want=(build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev
      libsqlite3-dev libssl-dev libcmocka-dev libexpat1-dev curl)
if [ "${1:-build}" = test ]; then
  want+=(chromium sqlite3 apache2 nginx-light libnginx-mod-http-dav-ext rclone)
  # The image may ship its own Node.js (with npm) instead of Debian's: use it if present.
  command -v npm >/dev/null 2>&1 || want+=(nodejs npm)
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

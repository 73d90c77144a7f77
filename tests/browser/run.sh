#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the dashboard's browser test (dashboard.mjs) in headless Chromium.
#   tests/browser/run.sh [/path/to/offlinefilesd]
# Needs node >= 20 and /usr/bin/chromium (Debian package chromium); installs
# playwright-core from package-lock.json when node_modules is missing. It
# never downloads a browser.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-${OFFLINEFILESD:-$here/../../build/daemon/offlinefilesd}}
if [[ ! -x $bin ]]; then
    echo "run.sh: no daemon binary at $bin (pass its path as the first argument)" >&2
    exit 2
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
if [[ ! -x ${CHROMIUM:-/usr/bin/chromium} ]]; then
    echo "run.sh: ${CHROMIUM:-/usr/bin/chromium} is missing (apt-get install chromium)" >&2
    exit 2
fi
cd "$here"
if [[ ! -d node_modules ]]; then
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
exec node dashboard.mjs "$bin"

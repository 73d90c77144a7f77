#!/usr/bin/env bash
# Sets up and runs every test: unit and integration tests (ctest) in a normal
# build and again under AddressSanitizer + UndefinedBehaviorSanitizer, the
# OpenAPI contract check, the dashboard in headless Chromium, and the
# container files as far as a machine without a Docker engine can check them.
# The last line is "N passed, M failed" over all suites.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
scripts/deps.sh test || exit 1
passed=0
failed=0
record() { # name rc
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "== $1: ok"
  else failed=$((failed + 1)); echo "== $1: FAILED ($2)"; fi
}
build() { # dir extra-cmake-args...
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null && cmake --build "$dir" -j"$jobs" 2>&1 | grep -E "error|warning" ; return "${PIPESTATUS[0]}"
}

build build; rc=$?
record "build" $rc
if [ $rc -eq 0 ]; then
  (cd build && ctest --output-on-failure -j"$jobs"); record "ctest" $?
  if [ -d tests/contract ]; then
    bash tests/contract/run.sh build/daemon/offlinefilesd; record "openapi contract" $?
  fi
  if [ -d tests/browser ]; then
    bash tests/browser/run.sh build/daemon/offlinefilesd; record "dashboard (chromium)" $?
  fi
fi

bash docker/check.sh; record "container files" $?

build build-asan -DOF_SANITIZE=ON; rc=$?
record "build (asan+ubsan)" $rc
if [ $rc -eq 0 ]; then
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j"$jobs")
  record "ctest (asan+ubsan)" $?
fi

echo
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

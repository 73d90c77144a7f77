#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Checks the container files as far as a machine without a Docker engine can:
#
#  1. syntax of the shell scripts (bash -n; shellcheck when installed);
#  2. the Dockerfile's shape: a debian:12 build stage, a slim runtime stage,
#     a non-root user, VOLUME /data, EXPOSE 7780, the entrypoint it copies;
#     its apt packages exist in Debian 12 (when this host is Debian 12) and
#     the runtime packages provide every library the binary links;
#  3. the build context: the files the .dockerignore lets through are copied
#     to a temp dir and the build stage's commands run there (cmake Release,
#     install with DESTDIR, --strip), so a file the build needs but the
#     context lacks fails here;
#  4. the entrypoint, run with that binary against temp dirs on 127.0.0.1:
#     the config it writes from OFFLINEFILES_SHARES is accepted, the daemon
#     serves the shares, their files and the dashboard, the image's
#     HEALTHCHECK command passes, SIGTERM stops it, a restart keeps the
#     shares, bad input is refused, "token create" works;
#  5. compose.yaml parses and points at the Dockerfile (docker compose config
#     when the plugin exists).
#
# With a reachable Docker engine it also builds the image and runs it once;
# without one that step is reported as skipped: the image build itself is
# then NOT tested.
#
#   docker/check.sh            # exit status 0 when every check passed
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/of-docker-check.XXXXXX")
daemon_pid=
passed=0
failed=0
skipped=0

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -TERM "$daemon_pid" 2>/dev/null || true
        wait "$daemon_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ok() {
    passed=$((passed + 1))
    echo "ok     $*"
}
bad() {
    failed=$((failed + 1))
    echo "FAILED $*"
}
skip() {
    skipped=$((skipped + 1))
    echo "skip   $*"
}
check() { # description command...
    local what=$1
    shift
    if "$@" >"$tmp/last.log" 2>&1; then ok "$what"; else
        bad "$what"
        sed 's/^/       /' "$tmp/last.log" | tail -n 15
    fi
}

dockerfile=$here/Dockerfile
entrypoint=$here/entrypoint.sh

# ---------------------------------------------------------------- 1. scripts

for s in "$entrypoint" "$here/check.sh"; do
    check "bash -n ${s#"$root"/}" bash -n "$s"
done
if command -v shellcheck >/dev/null; then
    for s in "$entrypoint" "$here/check.sh"; do
        check "shellcheck ${s#"$root"/}" shellcheck "$s"
    done
else
    skip "shellcheck (not installed: apt-get install shellcheck)"
fi
check "entrypoint.sh is executable (COPY --chmod sets it in the image too)" test -x "$entrypoint"

# ---------------------------------------------------------------- 2. Dockerfile shape

# Instructions with continuation lines joined and comments dropped.
df_lines() { sed -e '/^[[:space:]]*#/d' "$dockerfile" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta'; }
df_has() { df_lines | grep -E "$1" >/dev/null; } # no -q: an early exit would SIGPIPE df_lines
check "build stage is debian:12" grep -Eq '^FROM debian:12 AS build$' "$dockerfile"
check "runtime stage is debian:12-slim" grep -Eq '^FROM debian:12-slim AS runtime$' "$dockerfile"
check "two stages, the runtime one last" bash -c "[[ \$(grep -c '^FROM ' '$dockerfile') == 2 && \$(grep '^FROM ' '$dockerfile' | tail -n1) == *' AS runtime' ]]"
check "build stage builds Release without tests" df_has 'cmake .*-DCMAKE_BUILD_TYPE=Release.*-DOF_TESTS=OFF'
check "runs as a non-root user" bash -c "[[ \$(grep -E '^USER ' '$dockerfile' | tail -n1) =~ ^USER\ offlinefiles ]]"
check "VOLUME /data" grep -Eq '^VOLUME \["/data"\]' "$dockerfile"
check "EXPOSE 7780" grep -Eq '^EXPOSE 7780$' "$dockerfile"
check "dashboard copied to /usr/share/offlinefiles/web" grep -Eq '^COPY web/ /usr/share/offlinefiles/web/' "$dockerfile"
check "ENTRYPOINT is the copied entrypoint.sh" \
    bash -c "grep -q 'docker/entrypoint.sh /usr/local/bin/offlinefiles-entrypoint' '$dockerfile' &&
             grep -q '^ENTRYPOINT \[\"/usr/local/bin/offlinefiles-entrypoint\"\]' '$dockerfile'"
check "entrypoint defaults: --listen 0.0.0.0:7780 --data-dir /data" \
    bash -c "grep -q 'listen=\${OFFLINEFILES_LISTEN:-0.0.0.0:7780}' '$entrypoint' &&
             grep -q 'data_dir=\${OFFLINEFILES_DATA_DIR:-/data}' '$entrypoint'"

# apt packages of each stage: the words after "apt-get install ... --no-install-recommends".
stage_pkgs() { # stage name
    df_lines | awk -v st="$1" '/^FROM /{cur = $NF} cur == st && /apt-get install/' |
        sed 's/.*--no-install-recommends//; s/&&.*//' | tr -s ' \t' '\n' | sed '/^$/d'
}
build_pkgs=$(stage_pkgs build | tr '\n' ' ')
runtime_pkgs=$(stage_pkgs runtime | tr '\n' ' ')
echo "#      build packages:   $build_pkgs"
echo "#      runtime packages: $runtime_pkgs"
for p in libmicrohttpd12 libjansson4 libcurl4 libsqlite3-0 libssl3; do
    check "runtime stage installs $p" grep -qw -- "$p" <<<"$runtime_pkgs"
done
# shellcheck source=/dev/null
if [[ -r /etc/os-release ]] && (. /etc/os-release && [[ ${ID:-} == debian && ${VERSION_ID:-} == 12 ]]) &&
    command -v apt-cache >/dev/null; then
    for p in $build_pkgs $runtime_pkgs; do
        check "Debian 12 has the package $p" bash -c "apt-cache show '$p' 2>/dev/null | grep -q '^Package: '"
    done
else
    skip "package names (this host is not Debian 12)"
fi

# ---------------------------------------------------------------- 3. build context and build stage

# The files .dockerignore lets through, by Docker's rules: patterns are
# matched in order against the path and its parents, the last match wins,
# "!" re-includes, "**" spans directories.
cat >"$tmp/ctx.py" <<'EOF'
import os, re, sys
root, out = sys.argv[1], sys.argv[2]
pats = []
for line in open(os.path.join(root, '.dockerignore')):
    line = line.strip()
    if not line or line.startswith('#'):
        continue
    neg = line.startswith('!')
    p = os.path.normpath(line[1:] if neg else line).lstrip('/')
    rx = ''
    i = 0
    while i < len(p):
        if p.startswith('**/', i):
            rx += '(.*/)?'; i += 3
        elif p.startswith('**', i):
            rx += '.*'; i += 2
        elif p[i] == '*':
            rx += '[^/]*'; i += 1
        elif p[i] == '?':
            rx += '[^/]'; i += 1
        else:
            rx += re.escape(p[i]); i += 1
    pats.append((re.compile(rx + r'\Z'), neg))
def excluded(rel):
    parts = rel.split('/')
    ex = False
    for rx, neg in pats:
        for n in range(1, len(parts) + 1):
            if rx.match('/'.join(parts[:n])):
                ex = not neg
                break
    return ex
n = 0
for dirpath, dirs, files in os.walk(root):
    for f in files:
        full = os.path.join(dirpath, f)
        rel = os.path.relpath(full, root)
        if excluded(rel):
            continue
        dst = os.path.join(out, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(full, 'rb') as a, open(dst, 'wb') as b:
            b.write(a.read())
        os.chmod(dst, os.stat(full).st_mode & 0o777)
        n += 1
print(n)
EOF
ctx=$tmp/context
if command -v python3 >/dev/null && nfiles=$(python3 "$tmp/ctx.py" "$root" "$ctx"); then
    ok "build context per .dockerignore: $nfiles files, $(du -sh "$ctx" | cut -f1)"
    check "context has no .git, build trees, tokens or databases" \
        bash -c "! find '$ctx' \\( -name .git -o -name CMakeCache.txt -o -name 'admin.token' -o -name '*.db' -o -name node_modules \\) | grep -q ."
    check "context has what the image copies: web/, docker/entrypoint.sh" \
        bash -c "test -f '$ctx/web/index.html' && test -f '$ctx/docker/entrypoint.sh'"
else
    bad "build context per .dockerignore (python3 needed)"
    ctx=
fi

stage=$tmp/stage
bin=
if [[ -n $ctx ]]; then
    # The build stage's RUN, with its paths moved under the temp dir.
    if (cmake -S "$ctx" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release -DOF_TESTS=OFF &&
        cmake --build "$tmp/build" -j"$(nproc)" &&
        DESTDIR=$stage cmake --install "$tmp/build" --prefix /usr/local --strip &&
        "$stage/usr/local/bin/offlinefilesd" --version) >"$tmp/build.log" 2>&1; then
        bin=$stage/usr/local/bin/offlinefilesd
        ok "build stage from the context: $("$bin" --version), installed at /usr/local/bin (stripped)"
    else
        bad "build stage from the context"
        tail -n 25 "$tmp/build.log" | sed 's/^/       /'
    fi
fi

if [[ -n $bin ]] && command -v dpkg >/dev/null && command -v objdump >/dev/null; then
    # Every library the binary links must come from a runtime package or libc6.
    missing=
    for so in $(objdump -p "$bin" | awk '/NEEDED/ {print $2}'); do
        path=$(ldconfig -p | awk -v so="$so" '$1 == so && !p {p = $NF} END {print p}')
        pkg=
        # dpkg knows a file by the path its package ships (/lib or /usr/lib after usrmerge).
        for cand in "$path" "$(readlink -f "$path")" "${path#/usr}" "/usr$path"; do
            [[ -n $path ]] || break
            pkg=$(dpkg -S "$cand" 2>/dev/null | awk -F: 'NR == 1 {print $1}') && [[ -n $pkg ]] && break
        done
        if [[ -z $pkg ]]; then
            missing+=" $so(no package)"
        elif [[ $pkg != libc6 ]] && ! grep -qw -- "$pkg" <<<"$runtime_pkgs"; then
            missing+=" $so($pkg)"
        fi
    done
    check "runtime packages provide every linked library ($(objdump -p "$bin" | awk '/NEEDED/ {printf "%s ", $2}'))${missing:+, missing:$missing}" test -z "$missing"
else
    skip "linked libraries against runtime packages (needs the binary, dpkg and objdump)"
fi

if command -v dpkg >/dev/null && command -v pkg-config >/dev/null; then
    # Every pkg-config module the CMake files require (outside the tests) must
    # come from a package the build stage installs: a library added to the
    # build without its -dev package in the image fails only in docker build.
    missing=
    mods=$(grep -ho 'pkg_check_modules([A-Z_]* REQUIRED IMPORTED_TARGET [a-z0-9]*' \
        "$root/CMakeLists.txt" "$root"/engine/CMakeLists.txt "$root"/api/CMakeLists.txt \
        "$root"/daemon/CMakeLists.txt 2>/dev/null | awk '{print $NF}' | grep -vx cmocka | sort -u)
    mods=${mods//$'\n'/ } # cmocka is for the tests, which the image does not build
    for m in $mods; do
        pc=$(pkg-config --path "$m" 2>/dev/null)
        pkg=$([[ -n $pc ]] && dpkg -S "$pc" 2>/dev/null | awk -F: 'NR == 1 {print $1}')
        if [[ -z $pkg ]]; then
            missing+=" $m(no package here)"
        elif ! grep -qw -- "$pkg" <<<"$build_pkgs"; then
            missing+=" $m($pkg)"
        fi
    done
    check "build packages provide every pkg-config module CMake requires ($mods)${missing:+, missing:$missing}" test -z "$missing"
else
    skip "pkg-config modules against build packages (needs dpkg and pkg-config)"
fi

# ---------------------------------------------------------------- 4. entrypoint simulation

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_health() { # port pid
    local i
    for ((i = 0; i < 100; i++)); do
        curl -fsS -o /dev/null "http://127.0.0.1:$1/api/v1/health" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# A remote holding a quote and a backslash must come out of the JSON as it went in.
escape_test() { # data dir
    local d=$1 remote='/mnt/a"b\c'
    mkdir -p "$d"
    OFFLINEFILES_DATA_DIR=$d OFFLINEFILES_BIN=true OFFLINEFILES_SHARES="q/s=$remote:auto" "$entrypoint" || return 1
    python3 - "$d/offlinefiles.json" "file://$remote" <<'PY'
import json, sys
got = json.load(open(sys.argv[1]))['shares'][0]['remote']
assert got == sys.argv[2], (got, sys.argv[2])
PY
}

if [[ -n $bin ]]; then
    sim=$tmp/sim
    mkdir -p "$sim/shares/files/sub" "$sim/shares/docs"
    echo "hello from the container share" >"$sim/shares/files/hello.txt"
    echo "b" >"$sim/shares/files/sub/b.txt"
    echo "# docs" >"$sim/shares/docs/README.md"
    spec="demo/files=$sim/shares/files:auto,demo/docs=$sim/shares/docs"
    # Below the kernel's ephemeral range (32768 and up), where outgoing connections take ports.
    pick_port() {
        local p i
        for ((i = 0; i < 50; i++)); do
            p=$((20000 + RANDOM % 12000))
            port_free "$p" && { echo "$p"; return 0; }
        done
        return 1
    }
    export OFFLINEFILES_BIN=$bin OFFLINEFILES_DATA_DIR=$sim/data \
        OFFLINEFILES_WEB_DIR=$ctx/web OFFLINEFILES_SHARES=$spec
    start_sim() {
        "$entrypoint" >>"$sim/daemon.log" 2>&1 &
        daemon_pid=$!
        wait_health "$port" "$daemon_pid"
    }
    # The first start, on a free port; if another process takes it before the
    # daemon binds, again on another, from an empty data dir and log.
    start_first() {
        local attempt
        for ((attempt = 0; attempt < 5; attempt++)); do
            port=$(pick_port) || return 1
            export OFFLINEFILES_LISTEN=127.0.0.1:$port
            rm -rf "$sim/data"
            : >"$sim/daemon.log"
            start_sim && return 0
            grep -q "Address already in use" "$sim/daemon.log" || return 1
            wait "$daemon_pid" 2>/dev/null || true
            daemon_pid=
        done
        return 1
    }
    if start_first; then
        ok "entrypoint starts the daemon on 127.0.0.1:$port with the generated config"
        base=http://127.0.0.1:$port/api/v1
        check "the generated config is valid JSON with 2 shares" \
            python3 -c "import json,sys; c=json.load(open('$sim/data/offlinefiles.json')); sys.exit(len(c['shares']) != 2)"
        check "the entrypoint says where the admin token is" grep -q "admin token to $sim/data/admin.token" "$sim/daemon.log"
        check "the daemon wrote the admin token (mode 0600)" bash -c "[[ \$(stat -c %a '$sim/data/admin.token') == 600 ]]"
        tok=$(cat "$sim/data/admin.token" 2>/dev/null || true)
        auth="Authorization: Bearer $tok"
        check "the exec'd daemon is the entrypoint's process (PID 1 in the container)" \
            bash -c "[[ \$(readlink -f /proc/$daemon_pid/exe) == \$(readlink -f '$bin') ]]"
        curl -fsS -H "$auth" "$base/shares" >"$tmp/shares.json" 2>&1 || true
        check "GET /shares lists //demo/files (auto) and //demo/docs (manual)" python3 -c "
import json, sys
s = {x['path']: x for x in json.load(open('$tmp/shares.json'))['shares']}
assert s['//demo/files']['cachingMode'] == 'auto', s
assert s['//demo/docs']['cachingMode'] == 'manual', s
assert s['//demo/files']['remote'] == 'file://$sim/shares/files', s
assert s['//demo/files']['connection']['state'] == 'online', s"
        check "the share's folder is listed" bash -c "curl -fsS -H '$auth' '$base/files/demo/files' | grep -q '\"name\":\"hello.txt\"'"
        check "the share's file is served" \
            bash -c "[[ \$(curl -fsS -H '$auth' '$base/files/demo/files/hello.txt') == 'hello from the container share' ]]"
        check "the dashboard is served from the web dir" \
            bash -c "curl -fsS 'http://127.0.0.1:$port/' | grep -q '<title>Offline Files</title>' &&
                     curl -fsS -o /dev/null 'http://127.0.0.1:$port/web/app.js'"
        # The image's HEALTHCHECK command, pointed at this port.
        hc=$(df_lines | sed -n 's/^HEALTHCHECK .*CMD \(\[.*\]\)$/\1/p')
        if [[ -n $hc ]]; then
            mapfile -t hc_argv < <(python3 -c "import json,sys; [print(a.replace('7780', sys.argv[2])) for a in json.loads(sys.argv[1])]" "$hc" "$port")
            check "the image's HEALTHCHECK command passes" "${hc_argv[@]}"
        else
            bad "the Dockerfile has a HEALTHCHECK in exec form"
        fi
        kill -TERM "$daemon_pid"
        rc=0
        for ((i = 0; i < 150; i++)); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
        wait "$daemon_pid" || rc=$?
        daemon_pid=
        check "SIGTERM stops it cleanly (exit $rc)" test "$rc" -eq 0
        if start_sim; then
            curl -fsS -H "$auth" "$base/shares" >"$tmp/shares2.json" 2>&1 || true
            check "a restart with the same environment keeps the 2 shares and the token" python3 -c "
import json, sys; sys.exit(len(json.load(open('$tmp/shares2.json'))['shares']) != 2)"
            check "the restart logged no errors" bash -c "! grep -E ' error ' '$sim/daemon.log'"
            check "the restart names the existing token" grep -q "admin token: $sim/data/admin.token" "$sim/daemon.log"
            kill -TERM "$daemon_pid"
            wait "$daemon_pid" || true
            daemon_pid=
        else
            bad "a restart with the same environment"
            tail -n 10 "$sim/daemon.log" | sed 's/^/       /'
        fi
    else
        bad "entrypoint starts the daemon (127.0.0.1:$port)"
        tail -n 15 "$sim/daemon.log" | sed 's/^/       /'
    fi
    check "a bad share entry is refused before the daemon starts" \
        bash -c "! OFFLINEFILES_SHARES='demo=/x' '$entrypoint' && ! OFFLINEFILES_SHARES='demo/files=/x:fast' '$entrypoint' &&
                 ! OFFLINEFILES_SHARES='demo/files=relative/dir' '$entrypoint'"
    check "a remote with quotes and backslashes is escaped in the JSON" escape_test "$sim/odd"
    check "'token create' makes a token in the data dir" \
        bash -c "'$entrypoint' token create --user bob | grep -Eq '^of_[0-9a-f]+$'"
    check "arguments with '-' reach the daemon" \
        bash -c "OFFLINEFILES_BIN=echo '$entrypoint' --log-level debug | grep -q -- '--listen 127.0.0.1:$port --data-dir $sim/data .*--log-level debug'"
    unset OFFLINEFILES_BIN OFFLINEFILES_LISTEN OFFLINEFILES_DATA_DIR OFFLINEFILES_WEB_DIR OFFLINEFILES_SHARES
else
    skip "entrypoint simulation (no binary)"
fi

# ---------------------------------------------------------------- 5. compose

if python3 -c 'import yaml' 2>/dev/null; then
    check "compose.yaml: builds docker/Dockerfile from the repo root, /data volume, port on 127.0.0.1" python3 -c "
import os, yaml
c = yaml.safe_load(open('$here/compose.yaml'))
s = c['services']['offlinefiles']
ctx = os.path.normpath(os.path.join('$here', s['build']['context']))
assert ctx == '$root', ctx
assert os.path.isfile(os.path.join(ctx, s['build']['dockerfile']))
assert any(str(v).endswith(':/data') for v in s['volumes']), s['volumes']
assert all(str(p).startswith('127.0.0.1:') and str(p).endswith(':7780') for p in s['ports']), s['ports']
assert '=/shares/' in s['environment']['OFFLINEFILES_SHARES']"
else
    skip "compose.yaml structure (python3-yaml not installed)"
fi
if docker compose version >/dev/null 2>&1; then
    check "docker compose config" docker compose -f "$here/compose.yaml" config -q
else
    skip "docker compose config (no compose plugin)"
fi

# ---------------------------------------------------------------- image (needs an engine)

if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    img=offlinefiles-check:$$
    if docker build -f "$dockerfile" -t "$img" "$root" >"$tmp/docker-build.log" 2>&1; then
        ok "docker build"
        cid=$(docker run -d -p 127.0.0.1::7780 -e OFFLINEFILES_SHARES="demo/files=/shares/files:auto" \
            --mount "type=bind,src=$sim/shares/files,dst=/shares/files,readonly" "$img")
        hp=$(docker port "$cid" 7780/tcp | awk -F: 'NR == 1 {print $NF}')
        for ((i = 0; i < 100; i++)); do curl -fsS -o /dev/null "http://127.0.0.1:$hp/api/v1/health" 2>/dev/null && break; sleep 0.2; done
        t=$(docker exec "$cid" cat /data/admin.token)
        check "the container serves the mounted share" \
            bash -c "curl -fsS -H 'Authorization: Bearer $t' 'http://127.0.0.1:$hp/api/v1/files/demo/files' | grep -q hello.txt"
        check "the container runs as a non-root user" bash -c "[[ \$(docker exec '$cid' id -u) != 0 ]]"
        docker rm -f "$cid" >/dev/null
        docker rmi "$img" >/dev/null || true
    else
        bad "docker build"
        tail -n 25 "$tmp/docker-build.log" | sed 's/^/       /'
    fi
else
    skip "docker build and run: no Docker engine here, so THE IMAGE BUILD ITSELF IS NOT TESTED"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]

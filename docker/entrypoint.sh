#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Container entrypoint: writes the daemon's JSON config from the environment,
# says where the admin token is, and execs offlinefilesd (PID 1; it stops
# cleanly on SIGTERM).
#
# Environment:
#   OFFLINEFILES_SHARES     shares to add, separated by spaces or commas:
#                           SERVER/SHARE=REMOTE[:MODE], e.g.
#                           "demo/files=/shares/files:auto nas/team=https://dav.example.com/team"
#                           REMOTE is a path in the container (mount the share
#                           at /shares/NAME) or a URL; MODE is manual (the
#                           default), auto, autoPrograms or noCaching. A share
#                           the daemon already knows is left as it is (change
#                           it with PATCH /api/v1/shares/SERVER/SHARE).
#   OFFLINEFILES_CONFIG     a JSON config file of your own, used as it is
#                           instead of a generated one (not with _SHARES)
#   OFFLINEFILES_LOG_LEVEL  error, warn, info (default) or debug
#   OFFLINEFILES_LISTEN     default 0.0.0.0:7780 (the port the image exposes)
#   OFFLINEFILES_DATA_DIR   default /data (the volume)
#   OFFLINEFILES_WEB_DIR    default /usr/share/offlinefiles/web
#   OFFLINEFILES_BIN        default offlinefilesd
# Arguments starting with "-" go to the daemon (e.g. --log-level debug);
# "token create --user NAME [--admin]" makes an API token in the data dir;
# any other command runs instead of the daemon.
set -euo pipefail

bin=${OFFLINEFILES_BIN:-offlinefilesd}
listen=${OFFLINEFILES_LISTEN:-0.0.0.0:7780}
data_dir=${OFFLINEFILES_DATA_DIR:-/data}
web_dir=${OFFLINEFILES_WEB_DIR:-/usr/share/offlinefiles/web}
log_level=${OFFLINEFILES_LOG_LEVEL:-info}
shares_spec=${OFFLINEFILES_SHARES:-}
user_config=${OFFLINEFILES_CONFIG:-}

say() { echo "offlinefiles-entrypoint: $*" >&2; }
die() {
    say "$*"
    exit 2
}

if [[ $# -ge 2 && $1 == token && $2 == create ]]; then
    exec "$bin" token create --data-dir "$data_dir" "${@:3}"
fi
if [[ $# -gt 0 && $1 != -* ]]; then
    exec "$@"
fi

# A JSON string literal for $1; control characters other than tab/CR/LF are refused.
json_str() {
    local s=$1
    s=${s//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\t'/\\t}
    s=${s//$'\r'/\\r}
    s=${s//$'\n'/\\n}
    [[ $s =~ [[:cntrl:]] ]] && return 1
    printf '"%s"' "$s"
}

valid_mode() {
    case $1 in
    manual | auto | autoPrograms | noCaching) return 0 ;;
    *) return 1 ;;
    esac
}

# SERVER/SHARE=REMOTE[:MODE] -> one JSON object for the "shares" array.
share_json() {
    local entry=$1 name remote mode=manual server share tail
    [[ $entry == *=* ]] || die "OFFLINEFILES_SHARES: '$entry' is not SERVER/SHARE=REMOTE[:MODE]"
    name=${entry%%=*}
    remote=${entry#*=}
    server=${name%%/*}
    share=${name#*/}
    [[ $name == */* && -n $server && -n $share && $share != */* ]] ||
        die "OFFLINEFILES_SHARES: '$name' must be SERVER/SHARE (two names, one slash)"
    # A last ":word" without a slash is the caching mode (a URL's ":8443" port is not).
    if [[ $remote == *:* ]]; then
        tail=${remote##*:}
        if [[ $tail != */* && ! $tail =~ ^[0-9]+$ ]]; then
            valid_mode "$tail" ||
                die "OFFLINEFILES_SHARES: '$entry': caching mode '$tail' is not manual, auto, autoPrograms or noCaching"
            mode=$tail
            remote=${remote%:*}
        fi
    fi
    [[ -n $remote ]] || die "OFFLINEFILES_SHARES: '$entry' has no remote"
    if [[ $remote == /* ]]; then
        [[ -d $remote ]] || say "warning: //$server/$share: $remote is not a directory here (mount the share there)"
        remote=file://$remote
    elif [[ ! $remote =~ ^[A-Za-z][A-Za-z0-9+.-]*:// ]]; then
        die "OFFLINEFILES_SHARES: '$entry': the remote must be an absolute path or a URL"
    fi
    local js jsh jr
    if ! js=$(json_str "$server") || ! jsh=$(json_str "$share") || ! jr=$(json_str "$remote"); then
        die "OFFLINEFILES_SHARES: '$entry' has control characters"
    fi
    printf '{"server": %s, "share": %s, "remote": %s, "cachingMode": "%s"}' "$js" "$jsh" "$jr" "$mode"
}

write_config() { # path
    local out=$1 tmp entries=() objs=() e sep
    read -ra entries <<<"${shares_spec//,/ }"
    for e in "${entries[@]}"; do
        objs+=("$(share_json "$e")")
    done
    tmp=$out.tmp.$$
    {
        printf '{\n'
        printf '  "listen": %s,\n' "$(json_str "$listen")"
        printf '  "dataDir": %s,\n' "$(json_str "$data_dir")"
        printf '  "webDir": %s,\n' "$(json_str "$web_dir")"
        printf '  "logLevel": %s,\n' "$(json_str "$log_level")"
        printf '  "shares": ['
        sep=
        for e in "${objs[@]}"; do
            printf '%s\n    %s' "$sep" "$e"
            sep=,
        done
        [[ ${#objs[@]} -gt 0 ]] && printf '\n  '
        printf ']\n}\n'
    } >"$tmp" || { rm -f "$tmp"; die "cannot write $out"; }
    mv -f "$tmp" "$out"
    say "config $out: ${#objs[@]} share(s) from OFFLINEFILES_SHARES"
}

mkdir -p "$data_dir" 2>/dev/null || true
if [[ ! -w $data_dir ]]; then
    die "the data dir $data_dir is not writable by uid $(id -u); for a bind mount: chown $(id -u):$(id -g) DIR on the host"
fi

if [[ -n $user_config ]]; then
    [[ -z $shares_spec ]] || die "set OFFLINEFILES_CONFIG or OFFLINEFILES_SHARES, not both"
    [[ -r $user_config ]] || die "OFFLINEFILES_CONFIG: cannot read $user_config"
    config=$user_config
    say "config $config (yours, used as it is)"
else
    config=$data_dir/offlinefiles.json
    write_config "$config"
fi

token_file=$data_dir/admin.token
if [[ -f $token_file ]]; then
    say "admin token: $token_file (docker exec CONTAINER cat $token_file)"
else
    say "first start: the daemon writes the admin token to $token_file (docker exec CONTAINER cat $token_file)"
fi
say "dashboard: http://HOST:PORT/#token=TOKEN (the port published for ${listen##*:})"

exec "$bin" --config "$config" --listen "$listen" --data-dir "$data_dir" --web-dir "$web_dir" \
    --log-level "$log_level" "$@"

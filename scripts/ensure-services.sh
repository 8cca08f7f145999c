#!/usr/bin/env bash
# Ensure the PostgreSQL and Redis servers needed by Regal POS are answering.
#
# Usage: scripts/ensure-services.sh [DATABASE]
#
#   PGHOST/PGPORT            default 127.0.0.1 / 5432
#   REDIS_HOST/REDIS_PORT    default 127.0.0.1 / 6379
#   ENSURE_SERVICES_TIMEOUT  seconds to wait for each server (default 30)
#
# For each server: if it already answers, leave it alone.  Otherwise, if it is
# installed, start it; if it is not installed, install it from the Debian
# packages (root only) and start it.  Then make sure the `postgres` role can
# connect over TCP without a password (adds `trust` lines for 127.0.0.1 and
# ::1 at the top of pg_hba.conf if needed, root + local cluster only) and, when
# DATABASE is given, create it (owned by postgres) unless it exists.
#
# Idempotent, non-interactive (never reads stdin), never stops a server.
# Prints a single "... ok ..." line on stdout when everything is fine;
# progress and errors go to stderr.

set -euo pipefail

PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
REDIS_HOST="${REDIS_HOST:-127.0.0.1}"
REDIS_PORT="${REDIS_PORT:-6379}"
WAIT_SECS="${ENSURE_SERVICES_TIMEOUT:-30}"
DB_NAME="${1:-}"

PROG="ensure-services"
APT_UPDATED=0
HBA_MARKER="# added by scripts/ensure-services.sh (Regal POS): local TCP without password"

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: ERROR: %s\n' "$PROG" "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [[ "${EUID}" -eq 0 ]]; }

# A host we could start a server for ourselves.
is_local_host() {
    case "$1" in
        127.0.0.1 | localhost | ::1 | /*) return 0 ;;
        *) return 1 ;;
    esac
}

# Plain TCP connect probe (used when the client tool is missing).
tcp_open() {
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" >/dev/null 2>&1
}

# Run a command as the postgres OS user.
as_postgres() {
    if [[ "$(id -un)" == postgres ]]; then
        "$@"
    elif have runuser && is_root; then
        runuser -u postgres -- "$@"
    else
        su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
}

wait_for() { # wait_for DESCRIPTION PROBE_FUNCTION
    local what="$1" probe="$2" deadline=$((SECONDS + WAIT_SECS))
    until "$probe"; do
        if ((SECONDS >= deadline)); then
            return 1
        fi
        sleep 0.5
    done
    log "$what is up"
}

# ---------------------------------------------------------------- packages ---

apt_install() { # apt_install PKG...
    is_root || die "must be root to install packages ($*); run: sudo apt-get install -y --no-install-recommends $*"
    have apt-get || die "apt-get not found; install $* manually"
    # Make a freshly created PostgreSQL cluster UTF-8 even in a bare container.
    local lc="${LC_ALL:-${LC_CTYPE:-${LANG:-}}}" loc_env=()
    if [[ "$lc" != *[Uu][Tt][Ff]*8* ]]; then
        loc_env=(LANG=C.UTF-8 LC_ALL=C.UTF-8)
    fi
    if ((APT_UPDATED == 0)); then
        log "apt-get update"
        apt-get -q -o DPkg::Lock::Timeout=300 update </dev/null >&2 ||
            die "apt-get update failed"
        APT_UPDATED=1
    fi
    log "installing: $*"
    env "${loc_env[@]}" DEBIAN_FRONTEND=noninteractive \
        apt-get -q -y -o DPkg::Lock::Timeout=300 install --no-install-recommends "$@" </dev/null >&2 ||
        die "apt-get install $* failed"
}

# ---------------------------------------------------------------- postgres ---

pg_probe() { # 0 = accepting connections
    if have pg_isready; then
        pg_isready -q -t 3 -h "$PGHOST" -p "$PGPORT" </dev/null >/dev/null 2>&1
    else
        tcp_open "$PGHOST" "$PGPORT"
    fi
}

pg_server_installed() {
    have pg_ctlcluster && have pg_createcluster && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

# Prints "VERSION NAME STATUS" of the (newest) local cluster configured for
# $PGPORT, or nothing.
pg_find_cluster() {
    have pg_lsclusters || return 0
    pg_lsclusters -h 2>/dev/null | awk -v port="$PGPORT" '$3 == port { c = $1 " " $2 " " $4 } END { if (c != "") print c }'
}

pg_start() {
    local cluster ver name status
    cluster="$(pg_find_cluster)"
    if [[ -z "$cluster" ]]; then
        ver="$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)"
        [[ -n "$ver" ]] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
        if [[ -d "/etc/postgresql/$ver/main" ]]; then
            die "no PostgreSQL cluster is configured for port $PGPORT (existing clusters:
$(pg_lsclusters 2>&1)
)"
        fi
        is_root || die "no PostgreSQL cluster exists; as root run: pg_createcluster --port $PGPORT $ver main"
        log "creating PostgreSQL $ver cluster 'main' on port $PGPORT"
        pg_createcluster --port "$PGPORT" --locale C.UTF-8 "$ver" main </dev/null >&2 ||
            die "pg_createcluster $ver main failed"
        cluster="$ver main down"
    fi
    read -r ver name status <<<"$cluster"
    if [[ "$status" == online* ]]; then
        log "PostgreSQL $ver/$name is already running but not answering yet; waiting"
        return 0
    fi
    # Without systemd-tmpfiles (containers) the socket directory may be missing.
    if is_root && [[ ! -d /var/run/postgresql ]] && id postgres >/dev/null 2>&1; then
        install -d -m 2775 -o postgres -g postgres /var/run/postgresql
    fi
    log "starting PostgreSQL $ver/$name on port $PGPORT"
    if ! pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start </dev/null >&2; then
        # Another invocation may have started it concurrently; then just wait.
        read -r _ _ status <<<"$(pg_find_cluster)"
        if [[ "$status" != online* ]]; then
            is_root || die "could not start PostgreSQL $ver/$name; as root run: pg_ctlcluster $ver $name start"
            die "could not start PostgreSQL $ver/$name (see /var/log/postgresql/postgresql-$ver-$name.log)"
        fi
    fi
}

ensure_postgres() {
    pg_probe && return 0
    if have pg_isready; then
        # Exit status 1 = server is there but rejecting connections (starting up).
        local rc=0
        pg_isready -q -t 3 -h "$PGHOST" -p "$PGPORT" </dev/null >/dev/null 2>&1 || rc=$?
        if ((rc == 1)); then
            log "PostgreSQL at $PGHOST:$PGPORT is starting; waiting"
            wait_for "PostgreSQL at $PGHOST:$PGPORT" pg_probe ||
                die "PostgreSQL at $PGHOST:$PGPORT still rejects connections after ${WAIT_SECS}s"
            return 0
        fi
    fi
    is_local_host "$PGHOST" ||
        die "PostgreSQL does not answer at $PGHOST:$PGPORT (remote host: start it there)"
    if ! pg_server_installed; then
        is_root || die "PostgreSQL is not installed and does not answer at $PGHOST:$PGPORT.
Install it with:  sudo apt-get install -y --no-install-recommends postgresql postgresql-contrib
(or start a server on $PGHOST:$PGPORT), then re-run."
        apt_install postgresql postgresql-contrib
        pg_server_installed || die "PostgreSQL still not found after installation"
        # The package may have created and started the cluster already.
        pg_probe && { log "PostgreSQL is up"; return 0; }
    fi
    pg_start
    wait_for "PostgreSQL at $PGHOST:$PGPORT" pg_probe ||
        die "PostgreSQL does not answer at $PGHOST:$PGPORT after ${WAIT_SECS}s (see /var/log/postgresql/)"
}

psql_pg() { # psql as role postgres over $PGHOST:$PGPORT, never prompting
    psql -X -q -w -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres "$@" </dev/null
}

# Insert the trust lines at the top of FILE unless they are already there.
hba_prepend_trust() {
    local hba="$1" first tmp
    first="$(grep -Ev '^[[:space:]]*(#|$)' "$hba" | head -n 2 | tr -s ' \t' ' ' | sed 's/ *$//' || true)"
    if [[ "$first" == $'host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' ]]; then
        return 1 # already in place
    fi
    tmp="$(mktemp)" || die "mktemp failed"
    {
        printf '%s\n' "$HBA_MARKER"
        printf 'host    all             all             127.0.0.1/32            trust\n'
        printf 'host    all             all             ::1/128                 trust\n'
        printf '\n'
        cat "$hba"
    } >"$tmp" || die "could not write $tmp"
    cat "$tmp" >"$hba" || die "could not rewrite $hba" # in place: keeps owner and mode
    rm -f "$tmp"
}

ensure_pg_trust() {
    if ! have psql; then
        if is_root && have apt-get; then
            apt_install postgresql-client
        else
            [[ -z "$DB_NAME" ]] || die "psql not found (install postgresql-client); needed to create database $DB_NAME"
            log "warning: psql not found (install postgresql-client); not checking password-less access"
            return 0
        fi
    fi
    local err
    if err="$(psql_pg -tAc 'select 1' 2>&1 >/dev/null)"; then
        return 0
    fi
    if ! grep -Eqi 'password|authentication|pg_hba' <<<"$err"; then
        die "cannot connect to PostgreSQL at $PGHOST:$PGPORT as postgres: $err"
    fi
    local cluster ver name status hba
    cluster="$(pg_find_cluster)"
    if ! is_local_host "$PGHOST" || [[ -z "$cluster" ]] || ! is_root; then
        die "PostgreSQL at $PGHOST:$PGPORT asks for a password for user postgres ($err).
Either set PGPASSWORD, or (as root) add these lines at the top of the cluster's pg_hba.conf and reload:
  host all all 127.0.0.1/32 trust
  host all all ::1/128 trust"
    fi
    read -r ver name status <<<"$cluster"
    hba="$(pg_conftool -s "$ver" "$name" show hba_file 2>/dev/null || true)"
    [[ -n "$hba" ]] || hba="/etc/postgresql/$ver/$name/pg_hba.conf"
    [[ -f "$hba" ]] || die "pg_hba.conf not found at $hba"
    if hba_prepend_trust "$hba"; then
        log "added trust lines for 127.0.0.1/::1 at the top of $hba; reloading PostgreSQL $ver/$name"
    fi
    pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload </dev/null >&2 ||
        as_postgres psql -X -q -p "$PGPORT" -d postgres -c 'select pg_reload_conf()' </dev/null >/dev/null ||
        die "could not reload PostgreSQL $ver/$name"
    local i
    for ((i = 0; i < 20; i++)); do
        err="$(psql_pg -tAc 'select 1' 2>&1 >/dev/null)" && return 0
        sleep 0.5
    done
    die "still cannot connect as postgres to $PGHOST:$PGPORT without a password: $err"
}

ensure_database() {
    local db="$1" exists
    exists="$(printf '%s\n' "select 1 from pg_database where datname = :'db';" |
        psql -X -q -w -tA -v ON_ERROR_STOP=1 -v db="$db" -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres)" ||
        die "could not query databases on $PGHOST:$PGPORT"
    [[ "$exists" == 1 ]] && return 0
    log "creating database $db"
    if ! printf '%s\n' 'create database :"db" owner postgres;' |
        psql -X -q -w -v ON_ERROR_STOP=1 -v db="$db" -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres >&2; then
        # A concurrent run may have created it in the meantime.
        exists="$(printf '%s\n' "select 1 from pg_database where datname = :'db';" |
            psql -X -q -w -tA -v db="$db" -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres || true)"
        [[ "$exists" == 1 ]] || die "could not create database $db"
    fi
}

# ------------------------------------------------------------------- redis ---

REDIS_LAST=""
REDIS_LOG=""

redis_probe() { # 0 = answering
    if have redis-cli; then
        REDIS_LAST="$(timeout 5 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping </dev/null 2>&1 || true)"
        case "$REDIS_LAST" in
            PONG) return 0 ;;
            *NOAUTH* | *WRONGPASS*)
                log "note: Redis at $REDIS_HOST:$REDIS_PORT requires a password (set REDISCLI_AUTH to check it)"
                return 0
                ;;
            *) return 1 ;;
        esac
    else
        tcp_open "$REDIS_HOST" "$REDIS_PORT"
    fi
}

redis_start() {
    local dir bind=127.0.0.1 args
    [[ "$REDIS_HOST" == ::1 ]] && bind=::1
    if [[ -d /var/lib/redis && -w /var/lib/redis ]]; then
        dir=/var/lib/redis
    else
        dir="${TMPDIR:-/tmp}"
    fi
    args=(--daemonize yes --bind "$bind" --port "$REDIS_PORT" --save "" --appendonly no --dir "$dir")
    # Log/pid files only where we can actually write them (shared /tmp).
    local logf="$dir/redis-$REDIS_PORT.log" pidf="$dir/redis-$REDIS_PORT.pid"
    if [[ -w "$logf" || (! -e "$logf" && -w "$dir") ]]; then args+=(--logfile "$logf"); else logf=""; fi
    if [[ -w "$pidf" || (! -e "$pidf" && -w "$dir") ]]; then args+=(--pidfile "$pidf"); fi
    log "starting redis-server on $bind:$REDIS_PORT (dir $dir)"
    redis-server "${args[@]}" </dev/null >&2 || die "redis-server failed to start${logf:+ (see $logf)}"
    REDIS_LOG="$logf"
}

ensure_redis() {
    redis_probe && return 0
    REDIS_LOG=""
    if tcp_open "$REDIS_HOST" "$REDIS_PORT"; then
        # Something listens but does not answer PING yet (e.g. loading data).
        log "Redis at $REDIS_HOST:$REDIS_PORT is not ready yet; waiting"
    else
        is_local_host "$REDIS_HOST" ||
            die "Redis does not answer at $REDIS_HOST:$REDIS_PORT (remote host: start it there)"
        if ! have redis-server; then
            is_root || die "Redis is not installed and does not answer at $REDIS_HOST:$REDIS_PORT.
Install it with:  sudo apt-get install -y --no-install-recommends redis-server
(or start a server on $REDIS_HOST:$REDIS_PORT), then re-run."
            apt_install redis-server
            have redis-server || die "redis-server still not found after installation"
            # The package's init script may have started it already.
            redis_probe && { log "Redis is up"; return 0; }
        fi
        redis_start
    fi
    wait_for "Redis at $REDIS_HOST:$REDIS_PORT" redis_probe ||
        die "Redis does not answer at $REDIS_HOST:$REDIS_PORT after ${WAIT_SECS}s${REDIS_LAST:+: $REDIS_LAST}${REDIS_LOG:+ (see $REDIS_LOG)}"
}

# -------------------------------------------------------------------- main ---

main() {
    [[ "$WAIT_SECS" =~ ^[0-9]+$ ]] || die "ENSURE_SERVICES_TIMEOUT must be a number of seconds"
    [[ $# -le 1 ]] || die "usage: $0 [DATABASE]"

    # Install everything that is missing in one apt-get run.
    if is_root; then
        local pkgs=()
        if ! pg_probe && is_local_host "$PGHOST" && ! pg_server_installed; then
            pkgs+=(postgresql postgresql-contrib)
        fi
        if ! redis_probe && ! tcp_open "$REDIS_HOST" "$REDIS_PORT" &&
            is_local_host "$REDIS_HOST" && ! have redis-server; then
            pkgs+=(redis-server)
        fi
        if ((${#pkgs[@]})); then
            apt_install "${pkgs[@]}"
        fi
    fi

    ensure_postgres
    ensure_redis
    ensure_pg_trust
    if [[ -n "$DB_NAME" ]]; then
        ensure_database "$DB_NAME"
    fi
    echo "postgres ok at $PGHOST:$PGPORT, redis ok at $REDIS_HOST:$REDIS_PORT"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi

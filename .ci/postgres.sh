# A throwaway PostgreSQL server for the PostgreSQL store's tests: on 127.0.0.1 and a
# socket in a temporary folder, trust authentication, stopped and removed on exit.
# Sourced by .ci/run; sets QABOT_TEST_DATABASE_URL.

postgres_bin() {
    local found
    found=$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)
    [ -n "$found" ] && dirname "$(readlink -f "$found")"
}

start_postgres() {
    local bin port run
    bin=$(postgres_bin || true)
    if [ -z "$bin" ]; then
        echo "installing PostgreSQL from Debian's packages"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        bin=$(postgres_bin)
    fi
    PG_DIR=$(mktemp -d)
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    run="'$bin/initdb' -D '$PG_DIR/data' -A trust -U qabot >'$PG_DIR/initdb.log' 2>&1 \
        && '$bin/pg_ctl' -D '$PG_DIR/data' -o \"-k '$PG_DIR' -h 127.0.0.1 -p $port\" -l '$PG_DIR/server.log' -w start >/dev/null"
    if [ "$(id -u)" = 0 ]; then  # the server refuses to run as root
        chown postgres "$PG_DIR"
        su postgres -s /bin/sh -c "$run"
    else
        sh -c "$run"
    fi
    PG_CTL="$bin/pg_ctl"
    export QABOT_TEST_DATABASE_URL="postgresql://qabot@127.0.0.1:$port/postgres"
    echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port for the store tests"
}

stop_postgres() {
    [ -n "${PG_DIR:-}" ] || return 0
    if [ "$(id -u)" = 0 ]; then
        su postgres -s /bin/sh -c "'$PG_CTL' -D '$PG_DIR/data' -m fast -w stop" >/dev/null 2>&1 || true
    else
        "$PG_CTL" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_DIR"
}

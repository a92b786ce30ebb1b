#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL server for the tests: its own data folder, loopback only, port 55432,
# trust authentication. Debian's postgresql package provides the binaries (deploy/install-deps.sh --test).
#   scripts/test-postgres.sh start   → prints the URL tests use (FT_TEST_POSTGRES_URL)
#   scripts/test-postgres.sh stop
set -euo pipefail
port=${FT_TEST_POSTGRES_PORT:-55432}
data=${FT_TEST_POSTGRES_DIR:-/tmp/ft-test-postgres}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "error: PostgreSQL is not installed (deploy/install-deps.sh --test installs it)" >&2; exit 1; }
as_postgres=()
if [ "$(id -u)" -eq 0 ]; then as_postgres=(runuser -u postgres --); fi

case "${1:-start}" in
start)
    if ! "${as_postgres[@]}" "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        if [ ! -f "$data/PG_VERSION" ]; then
            rm -rf "$data"
            mkdir -p "$data"
            [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$data"
            "${as_postgres[@]}" "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
        fi
        "${as_postgres[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
            -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start >/dev/null
    fi
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    "${as_postgres[@]}" "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac

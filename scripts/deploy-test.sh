#!/usr/bin/env bash
# The system deployed on several hosts, each a Linux network namespace with its own address, joined by veth pairs to
# a bridge (in a namespace of its own, so the machine's own network is untouched):
#
#   db      10.77.0.10   PostgreSQL 15 (the Producer service's shared state)
#   host-a  10.77.0.11   producer-service #1, assistance-service
#   host-b  10.77.0.12   producer-service #2, marketplace-info-service and its live events
#   office  10.77.0.20   ftadmin, and the load of a field office (rpc-bench load)
#
# Each host is set up as deploy/ tells an operator: the same /etc/fairtrade/fairtrade.env on every host, the
# instance's own arguments in /etc/fairtrade/<service>.env (FT_ARGS), the keys in /etc/fairtrade/keys (a service's
# secret key only on its own host), every service bound to its host's address and speaking CURVE. `ip netns exec`
# gives each host its own /etc/fairtrade (it binds /etc/netns/<host>/fairtrade over /etc/fairtrade).
#
# It loads the example data from the office, runs a capacity report, an import and a market follow across hosts;
# then, under a steady load from the office, breaks things in turn — (a) producer #1 killed and started again,
# (b) producer #2 frozen 10 s, (c) host-b cut off 10 s, (d) PostgreSQL restarted — and after each reads every
# acknowledged write back from PostgreSQL. It prints a table and fails on any write lost or doubled, an instance
# that does not take calls again once healed, or a step that fails. Everything it made (namespaces, links,
# processes, files) is removed when it ends, also when it fails. Needs root (network namespaces); says so without.
#
#   scripts/deploy-test.sh [BIN]     BIN: the built executables (default .build/debug)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=$(cd "${1:-.build/debug}" && pwd)

if [ "$(id -u)" -ne 0 ]; then
    echo "error: the deploy test builds hosts as network namespaces, which needs root: run it as root (CI does)" >&2
    exit 1
fi
for tool in ip runuser python3; do
    command -v $tool >/dev/null || { echo "error: $tool is missing (deploy/install-deps.sh --test installs it)" >&2; exit 1; }
done
pg=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)
[ -n "$pg" ] || { echo "error: PostgreSQL 15 is missing (deploy/install-deps.sh --test installs it)" >&2; exit 1; }
for executable in producer-service assistance-service marketplace-info-service ftadmin rpc-bench; do
    [ -x "$bin/$executable" ] || { echo "error: $bin/$executable is not built (swift build)" >&2; exit 1; }
done

run_id=$$
work=$(mktemp -d /tmp/ft-deploy.XXXXXX)
chmod 755 "$work"
hosts=(db host-a host-b office)
declare -A address=([db]=10.77.0.10 [host-a]=10.77.0.11 [host-b]=10.77.0.12 [office]=10.77.0.20)
ns() { echo "ft$run_id-$1"; }
declare -A pid=()
created_etc=0
status=1

log() { printf '\n== %s\n' "$*"; }

cleanup() {
    set +e
    for name in "${!pid[@]}"; do kill -CONT "${pid[$name]}" 2>/dev/null; kill -KILL "${pid[$name]}" 2>/dev/null; done
    if [ -f "$work/pg/PG_VERSION" ]; then
        ip netns exec "$(ns db)" runuser -u postgres -- "$pg/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1
    fi
    if [ $status -ne 0 ]; then
        echo "--- the last lines each service logged ---"
        for file in "$work"/logs/*.log; do
            [ -f "$file" ] && { echo "# $(basename "$file")"; tail -n 15 "$file"; }
        done
    fi
    for host in "${hosts[@]}" switch; do
        ip netns pids "$(ns $host)" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
        ip netns del "$(ns $host)" 2>/dev/null
        rm -rf "/etc/netns/$(ns $host)"
    done
    [ $created_etc = 1 ] && rmdir /etc/fairtrade 2>/dev/null
    rm -rf "$work"
    [ $status -eq 0 ] && echo "deploy test passed; namespaces, links, processes and files removed" \
        || echo "deploy test FAILED; namespaces, links, processes and files removed" >&2
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "error: $*" >&2; exit 1; }

# --- hosts -------------------------------------------------------------------------------------------------------
log "hosts: ${hosts[*]} on a bridge, 10.77.0.0/24"
ip netns add "$(ns switch)"
ip -n "$(ns switch)" link add br0 type bridge
ip -n "$(ns switch)" link set br0 up
i=0
for host in "${hosts[@]}"; do
    i=$((i + 1))
    ip netns add "$(ns $host)"
    ip link add "v$run_id-$i" type veth peer name eth0 netns "$(ns $host)"
    ip link set "v$run_id-$i" netns "$(ns switch)"
    ip -n "$(ns switch)" link set "v$run_id-$i" master br0 up
    ip -n "$(ns $host)" addr add "${address[$host]}/24" dev eth0
    ip -n "$(ns $host)" link set eth0 up
    ip -n "$(ns $host)" link set lo up
done

# --- the database host -------------------------------------------------------------------------------------------
log "db: PostgreSQL 15 on ${address[db]}:5432"
mkdir -p "$work/pg" "$work/pgsock"
chown postgres:postgres "$work/pg" "$work/pgsock"
runuser -u postgres -- "$pg/initdb" -D "$work/pg" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >/dev/null
echo "host all all 10.77.0.0/24 scram-sha-256" >>"$work/pg/pg_hba.conf"
pg_start() {
    ip netns exec "$(ns db)" runuser -u postgres -- "$pg/pg_ctl" -D "$work/pg" -l "$work/pg/server.log" -w -t 60 \
        -o "-c listen_addresses=${address[db]} -p 5432 -k $work/pgsock -c max_connections=300" start >/dev/null
}
pg_start
password="deploy-$run_id-secret"
ip netns exec "$(ns db)" runuser -u postgres -- psql -q -h "$work/pgsock" -U postgres -d postgres \
    -c "CREATE ROLE fairtrade LOGIN PASSWORD '$password'" -c "CREATE DATABASE producer OWNER fairtrade" >/dev/null

# --- keys and /etc/fairtrade on each host, as docs/OPERATIONS.md makes them ---------------------------------------
log "keys and /etc/fairtrade on each host"
keys="$work/keys"
for service in producer-service assistance-service marketplace-info-service; do
    "$bin/ftadmin" keys generate $service --role service --out "$keys" >/dev/null
done
"$bin/ftadmin" keys generate office-admin --role admin --out "$keys" >/dev/null
"$bin/ftadmin" keys generate field-office --role editor --out "$keys" >/dev/null
mkdir -p "$keys/authorized" && cp "$keys"/*.key "$keys/authorized/"
if [ ! -e /etc/fairtrade ]; then mkdir /etc/fairtrade && created_etc=1; fi
producer_url="postgres://fairtrade:$password@${address[db]}:5432/producer"
for host in host-a host-b office; do
    etc="/etc/netns/$(ns $host)/fairtrade"
    mkdir -p "$etc/keys/authorized"
    # The same file on every host (deploy/fairtrade.env.example, with this installation's addresses).
    cat >"$etc/fairtrade.env" <<EOF
FT_PRODUCER_ENDPOINTS=tcp://${address[host-a]}:7101,tcp://${address[host-b]}:7101
FT_ASSISTANCE_ENDPOINTS=tcp://${address[host-a]}:7102
FT_MARKETPLACE_INFO_ENDPOINTS=tcp://${address[host-b]}:7103
FT_MARKETPLACE_INFO_EVENTS_ENDPOINTS=tcp://${address[host-b]}:7113
FT_PRODUCER_DATABASE_URL=$producer_url
FT_LOG_LEVEL=info
FT_AUTHORIZED_KEYS_DIR=/etc/fairtrade/keys/authorized
FT_PRODUCER_PUBLIC_KEY=/etc/fairtrade/keys/producer-service.key
FT_ASSISTANCE_PUBLIC_KEY=/etc/fairtrade/keys/assistance-service.key
FT_MARKETPLACE_INFO_PUBLIC_KEY=/etc/fairtrade/keys/marketplace-info-service.key
EOF
    chmod 600 "$etc/fairtrade.env"
    cp "$keys"/*-service.key "$etc/keys/"
    cp "$keys/authorized/"* "$etc/keys/authorized/"
done
install_service() { # host service: its secret key and its own arguments, on its host only
    local etc="/etc/netns/$(ns $1)/fairtrade" port
    install -m 600 "$keys/$2.key_secret" "$etc/keys/$2.key_secret"
    case $2 in
    producer-service) port=7101 ;;
    assistance-service) port=7102 ;;
    marketplace-info-service) port=7103 ;;
    esac
    local args="--endpoint tcp://${address[$1]}:$port --metrics-endpoint ${address[$1]}:$((port + 2000))"
    [ $2 = marketplace-info-service ] && args="$args --events-endpoint tcp://${address[$1]}:7113"
    echo "FT_ARGS=\"$args\"" >"$etc/$2.env"
}
install_service host-a producer-service
install_service host-a assistance-service
install_service host-b producer-service
install_service host-b marketplace-info-service
for who in office-admin field-office; do
    install -m 600 "$keys/$who.key_secret" "/etc/netns/$(ns office)/fairtrade/keys/$who.key_secret"
done

# As the systemd unit runs a service: both environment files, its key, its data folder, FT_ARGS.
start() { # host service
    mkdir -p "$work/data/$1/$2" "$work/logs"
    ip netns exec "$(ns $1)" bash -c "set -a; . /etc/fairtrade/fairtrade.env; . /etc/fairtrade/$2.env; set +a
        export FT_KEY_FILE=/etc/fairtrade/keys/$2.key_secret FT_DATA_DIR='$work/data/$1/$2'
        exec '$bin/$2' \$FT_ARGS" >>"$work/logs/$1-$2.log" 2>&1 &
    pid[$1/$2]=$!
    disown
}
# ftadmin (and the load) in the office, with the office's environment file and a key of its own.
office() { # who, then the command
    local who=$1
    shift
    ip netns exec "$(ns office)" bash -c 'set -a; . /etc/fairtrade/fairtrade.env; set +a
        export FT_KEY_FILE=/etc/fairtrade/keys/'"$who"'.key_secret; exec "$@"' office "$@"
}

log "services: producer #1 and assistance on host-a, producer #2 and marketplace-info on host-b"
start host-a producer-service
start host-b producer-service
start host-a assistance-service
start host-b marketplace-info-service
wait_serving() {
    for _ in $(seq 60); do
        office office-admin "$bin/ftadmin" health >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    office office-admin "$bin/ftadmin" health || true
    fail "not every instance serves"
}
wait_serving
office office-admin "$bin/ftadmin" health

# --- the field's work across hosts -------------------------------------------------------------------------------
log "example data, loaded from the office"
office field-office "$bin/ftadmin" examples load
bolga=$(office field-office "$bin/ftadmin" producer list --name "Bolga Basket Weavers" --output json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["groups"][0]["id"])')
log "capacity report of the Bolga basket weavers ($bolga): the three services, across hosts"
report=$(office field-office "$bin/ftadmin" report capacity "$bolga")
echo "$report" | head -n 12
echo "$report" | grep -q "unavailable" && fail "a section of the report is unavailable"
log "an import from the office"
office field-office "$bin/ftadmin" producer import "$root/docs/examples/producer-groups.csv" --mode add | tail -n 2
log "a market follow from the office, and a demand posted while it listens"
office field-office "$bin/ftadmin" market follow --craft baskets >"$work/follow.txt" 2>"$work/follow.err" &
pid[office/follow]=$!
disown
sleep 2
office field-office "$bin/ftadmin" market post-demand --buyer "Deploy Test Imports" --product baskets \
    --quantity 300 --needed-by 2027-09-01 --country GH >/dev/null
for _ in $(seq 20); do grep -q "Deploy Test Imports" "$work/follow.txt" && break; sleep 0.5; done
grep -q "Deploy Test Imports" "$work/follow.txt" || { cat "$work/follow.err"; fail "the follower on the office saw no demand"; }
head -n 1 "$work/follow.txt"
kill "${pid[office/follow]}" && unset 'pid[office/follow]'

# --- faults under load -------------------------------------------------------------------------------------------
# The calls producer #2 (host-b) has served, from its metrics endpoint: it takes calls again once healed.
served_b() {
    office office-admin python3 -c '
import urllib.request
text = urllib.request.urlopen("http://'"${address[host-b]}"':9101/metrics", timeout=5).read().decode()
print(int(sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
    if line.startswith("rpc_server_calls_total{service=\"fairtrade.producer.v1.ProducerService\""))))'
}
fault() { # label, description, then the commands that break and heal (run 5 s into the load)
    local label=$1 what=$2
    shift 2
    log "fault ($label): $what, under load"
    office field-office "$bin/rpc-bench" load --duration 26 --rate 200 --clients 8 --label "f$label$run_id" \
        --verify-database "$producer_url" --result "$work/fault-$label.json" >"$work/fault-$label.txt" 2>&1 &
    local load=$!
    sleep 5
    "$@"
    sleep 4
    local before=$(served_b)
    sleep 4
    local after=$(served_b)
    wait $load || { cat "$work/fault-$label.txt"; fail "the load of fault ($label) failed"; }
    cat "$work/fault-$label.txt"
    [ "$after" -gt "$before" ] || fail "producer #2 took no calls after fault ($label) healed ($before → $after)"
    python3 - "$work/fault-$label.json" "$label" "$what" >>"$work/table.txt" <<'EOF'
import json, sys
result = json.load(open(sys.argv[1]))
errors = ", ".join(f"{code} {count}" for code, count in result["errors"].items()) or "none"
print(f"| ({sys.argv[2]}) {sys.argv[3]} | {result['writes_acknowledged']} | {result['found']} | {result['lost']} "
      f"| {result['doubled']} | {errors} | {result['longest_gap_seconds']:.2f} s | {result['write_max_ms'] / 1000:.2f} s |")
if result["lost"] or result["doubled"] or result["writes_acknowledged"] == 0:
    sys.exit(f"fault ({sys.argv[2]}): {result['lost']} lost, {result['doubled']} doubled: {result['problems'][:5]}")
EOF
}
kill_and_restart_producer_1() {
    kill -KILL "${pid[host-a/producer-service]}"
    sleep 3
    start host-a producer-service
}
freeze_producer_2() {
    kill -STOP "${pid[host-b/producer-service]}"
    sleep 10
    kill -CONT "${pid[host-b/producer-service]}"
}
cut_host_b() {
    ip -n "$(ns host-b)" link set eth0 down
    sleep 10
    ip -n "$(ns host-b)" link set eth0 up
}
restart_postgres() {
    ip netns exec "$(ns db)" runuser -u postgres -- "$pg/pg_ctl" -D "$work/pg" -m fast stop >/dev/null
    sleep 2
    pg_start
}
fault a "producer #1 killed (SIGKILL), started again 3 s later" kill_and_restart_producer_1
fault b "producer #2 frozen (SIGSTOP) for 10 s" freeze_producer_2
fault c "host-b's link down for 10 s" cut_host_b
fault d "PostgreSQL restarted (pg_ctl stop -m fast, start)" restart_postgres
wait_serving

log "faults under load: every acknowledged write read back from PostgreSQL"
echo "| fault | writes acknowledged | found once | lost | doubled | errors the clients saw | longest gap without a successful call | slowest successful write |"
echo "|---|---|---|---|---|---|---|---|"
cat "$work/table.txt"
status=0

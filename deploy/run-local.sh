#!/usr/bin/env bash
# Runs the three services on localhost in the foreground until Ctrl-C, then stops them all gracefully.
# Endpoints: FT_PRODUCER_ENDPOINTS, FT_ASSISTANCE_ENDPOINTS, FT_MARKETPLACE_INFO_ENDPOINTS (defaults :7101-7103).
set -euo pipefail
bin=${1:-.build/debug}
pids=()
stop() {
    trap - INT TERM
    echo "stopping services..."
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM
for service in producer-service assistance-service marketplace-info-service; do
    "$bin/$service" &
    pids+=($!)
done
sleep 1
"$bin/ftadmin" health || true
# The field's own examples (idempotent: loading again changes nothing). FT_EXAMPLES=0 skips them.
if [ "${FT_EXAMPLES:-1}" != 0 ]; then
    "$bin/ftadmin" examples load && echo "example data loaded: try $bin/ftadmin producer list, or the report above" || true
fi
echo "services running; try: $bin/ftadmin services    (Ctrl-C stops them)"
wait "${pids[@]}"

#!/usr/bin/env bash
# Checks deploy/systemd's units with `systemd-analyze verify`: syntax, known keys, and that the executables they
# start exist. The units name /opt/fairtrade/bin and /etc/fairtrade/fairtrade.env; here they point at the build
# (first argument, default .build/debug) and at deploy/fairtrade.env.example. Any complaint fails the check.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$root/.build/debug}" && pwd)
command -v systemd-analyze >/dev/null || { echo "error: systemd-analyze is missing (apt package systemd)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for unit in "$root"/deploy/systemd/*; do
    sed -e "s|/opt/fairtrade/bin|$bin|g" -e "s|/etc/fairtrade/fairtrade.env|$root/deploy/fairtrade.env.example|g" \
        "$unit" >"$work/$(basename "$unit")"
done
units=(fairtrade-backup.service fairtrade-backup.timer)
for service in producer-service assistance-service marketplace-info-service; do
    cp "$work/fairtrade@.service" "$work/fairtrade@$service.service"
    units+=("fairtrade@$service.service")
done
if ! output=$(cd "$work" && systemd-analyze verify "${units[@]}" 2>&1) || [ -n "$output" ]; then
    echo "error: deploy/systemd does not verify:" >&2
    echo "$output" >&2
    exit 1
fi
echo "deploy/systemd units verified"

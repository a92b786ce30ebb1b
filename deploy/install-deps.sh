#!/usr/bin/env bash
# Installs what building, running and testing the system needs on Debian, and nothing that is already there.
#   build:    libzmq3-dev, libprotobuf-c-dev (the C libraries), pkg-config
#   generate: protobuf-c-compiler, protobuf-compiler, python3-protobuf (scripts/generate.sh and its check)
# The Swift toolchain itself is expected on PATH (swift 6.1 or later).
set -euo pipefail
packages=(libzmq3-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler python3-protobuf pkg-config)
if [ "${1:-}" = "--test" ]; then
    # The protocol test drives a server from Python, written from docs/PROTOCOL.md alone; storage tests run
    # against a real PostgreSQL server that scripts/test-postgres.sh starts; scripts/check-units.sh verifies the
    # systemd units with systemd-analyze; the metrics test parses the metrics endpoint with prometheus_client;
    # the deploy test (scripts/deploy-test.sh) builds hosts as network namespaces with iproute2; the report pages
    # are opened, printed and photographed by headless Chromium, with a font to draw their text; IATI files are
    # checked with xmllint against IATI's schema, and by Tests/IATI/check_iati.py (lxml) against codelists and rules.
    packages+=(python3-zmq python3-prometheus-client postgresql systemd iproute2 chromium fonts-dejavu-core
        libxml2-utils python3-lxml)
fi
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    sudo_cmd=()
    [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "error: swift is not on PATH; install Swift 6.1 or later (swift.org)" >&2; exit 1; }

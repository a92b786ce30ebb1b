#!/usr/bin/env bash
# Regenerates all code derived from the .proto files in Shared/Schema/proto:
#   Shared/CSchema/generated/*.pb-c.{c,h}   protoc-c (C structs, descriptors, pack/unpack)
#   Shared/CSchema/include/registry.h        descriptor accessors           (scripts/protoc-gen-ftswift)
#   Shared/Schema/Generated/*.swift           Swift value types and registry (scripts/protoc-gen-ftswift)
#   Shared/API/Generated/*.swift              typed clients and handler protocols (scripts/protoc-gen-ftswift)
#   docs/ACCESS.md                            which roles may call each method (scripts/protoc-gen-ftswift)
#   docs/LIMITS.md                            the bounds on every field of every request (scripts/protoc-gen-ftswift)
#   Services/FTAdmin/Generated/ExampleFiles.swift  the example files of docs/examples, for `examples load`
#   Shared/Domain/Generated/DACSector.swift   the DAC purpose codes, from IATI's Sector codelist (scripts/dac-sectors.py)
# With --check, generates into a scratch folder and fails if the committed files differ (CI runs this).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
proto_dir="$root/Shared/Schema/proto"
check=0
[ "${1:-}" = "--check" ] && check=1

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/c" "$out/swift"
cd "$proto_dir"
protos=$(ls *.proto | sort)
protoc-c --proto_path=. --c_out="$out/c" $protos
protoc --proto_path=. --plugin=protoc-gen-ftswift="$root/scripts/protoc-gen-ftswift" --ftswift_out="$out/swift" $protos

sync_dir() { # $1 generated folder, $2 committed folder
    if [ $check = 1 ]; then
        if ! diff -r "$1" "$2" >/dev/null 2>&1; then
            echo "error: generated code in ${2#$root/} is stale: run scripts/generate.sh and commit the result" >&2
            diff -r "$1" "$2" | head -20 >&2
            exit 1
        fi
    else
        rm -rf "$2" && mkdir -p "$2" && cp -r "$1"/. "$2"/
    fi
}
sync_file() { # $1 generated file, $2 committed file
    if [ $check = 1 ]; then
        if ! diff "$1" "$2" >/dev/null 2>&1; then
            echo "error: generated ${2#$root/} is stale: run scripts/generate.sh and commit the result" >&2
            diff "$1" "$2" | head -20 >&2
            exit 1
        fi
    else
        cp "$1" "$2"
    fi
}
mkdir -p "$out/registry" && mv "$out/swift/CSchema/registry.h" "$out/registry/registry.h"
cp "$root/Shared/CSchema/include/CSchema.h" "$out/registry/CSchema.h"
sync_dir "$out/c" "$root/Shared/CSchema/generated"
sync_dir "$out/registry" "$root/Shared/CSchema/include"
sync_dir "$out/swift/Schema" "$root/Shared/Schema/Generated"
sync_dir "$out/swift/API" "$root/Shared/API/Generated"
sync_file "$out/swift/Docs/ACCESS.md" "$root/docs/ACCESS.md"
sync_file "$out/swift/Docs/LIMITS.md" "$root/docs/LIMITS.md"
python3 "$root/scripts/embed-examples.py" "$root/docs/examples" > "$out/ExampleFiles.swift"
sync_file "$out/ExampleFiles.swift" "$root/Services/FTAdmin/Generated/ExampleFiles.swift"
python3 "$root/scripts/dac-sectors.py" "$root/Tests/IATI/reference/codelists/Sector.xml" > "$out/DACSector.swift"
sync_file "$out/DACSector.swift" "$root/Shared/Domain/Generated/DACSector.swift"
[ $check = 1 ] && echo "generated code is up to date"
exit 0

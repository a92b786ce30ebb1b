#!/usr/bin/env bash
# Formats every Swift file we write by hand with `swift format` and the root .swift-format (4 spaces, 120
# columns); generated files are left as scripts/generate.sh writes them.
# With --check, changes nothing and fails naming each file that `swift format` would change (make test runs this).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.swift' | grep -v '/Generated/')
if [ "${1:-}" != "--check" ]; then
    swift format --in-place "${files[@]}"
    exit 0
fi
status=0
for file in "${files[@]}"; do
    if ! swift format "$file" | cmp -s - "$file"; then
        echo "not formatted: $file (scripts/format.sh formats it)" >&2
        status=1
    fi
done
[ $status -eq 0 ] && echo "Swift files are formatted"
exit $status

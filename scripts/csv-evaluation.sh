#!/usr/bin/env bash
# Measures the CSV libraries of the package mirror against what the project's imports promise (Tools/CSVEvaluation);
# not part of `make test`: it prints which behaviour each library lacks, as docs/DESIGN.md reports.
set -euo pipefail
cd "$(dirname "$0")/../Tools/CSVEvaluation"
swift build -q --scratch-path ../../.build-csv-evaluation
exec ../../.build-csv-evaluation/debug/csv-evaluation

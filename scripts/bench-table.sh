#!/usr/bin/env bash
# Runs the lab's main measurement and writes results/ (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p results
pin=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then pin=(taskset -c 1); fi
"${pin[@]}" go test -run '^$' -bench BenchmarkServers -benchtime 2s -count 1 ./internal/conformance | tee results/bench-table.txt

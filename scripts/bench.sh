#!/usr/bin/env bash
# The lab's main job (make bench): run the whole scenario catalog with the
# binaries in bin/, then publish the run as results/latest.{md,json} and
# results/charts/. Extra arguments go to `loadgen suite` (e.g. -quick).
set -euo pipefail
cd "$(dirname "$0")/.."
out=results/run
rm -rf "$out"
status=0
bin/loadgen suite -out "$out" "$@" || status=$?
if [ ! -f "$out/results.json" ]; then
  echo "bench: the suite wrote no results (exit $status)" >&2
  exit "${status:-1}"
fi
# Publish atomically enough for a reader: the report and its charts together.
rm -rf results/charts
cp -r "$out/charts" results/charts 2>/dev/null || mkdir -p results/charts
cp "$out/results.json" results/latest.json.tmp && mv results/latest.json.tmp results/latest.json
cp "$out/report.md" results/latest.md.tmp && mv results/latest.md.tmp results/latest.md
echo "bench: results/latest.md, results/latest.json, results/charts/ (suite exit $status)"
exit "$status"

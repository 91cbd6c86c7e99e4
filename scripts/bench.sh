#!/usr/bin/env bash
# The lab's main job (make bench): run the whole scenario catalog with the
# binaries in bin/, then publish the run as results/latest.{md,json} and
# results/charts/. Extra arguments go to `loadgen suite` (e.g. -quick).
#
# results/latest.* is the committed reference run: it is replaced only by a
# full run (no -quick, no -scenarios subset) from a clean git tree. Any other
# run is written to results/quick/ (gitignored) and says so; set
# BENCH_OUT=DIR to write elsewhere. loadgen/suite/bench_test.go checks this
# with a fake bin/loadgen in a throwaway repository.
set -euo pipefail
cd "$(dirname "$0")/.."
publish=1
for a in "$@"; do
  case "$a" in -quick|--quick|-scenarios|--scenarios|-scenarios=*|--scenarios=*|-targets|--targets|-targets=*|--targets=*) publish=0 ;; esac
done
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  if [ "$publish" = 1 ]; then
    echo "bench: the git tree has uncommitted changes, so this run is not published as results/latest.*; it goes to results/quick/" >&2
  fi
  publish=0
fi
if [ -n "${BENCH_OUT:-}" ]; then
  publish=0
fi
if [ "$publish" = 1 ]; then out=results/run; else out=${BENCH_OUT:-results/quick}; fi
rm -rf "$out"
status=0
bin/loadgen suite -out "$out" "$@" || status=$?
if [ ! -f "$out/results.json" ]; then
  echo "bench: the suite wrote no results (exit $status)" >&2
  exit "${status:-1}"
fi
if [ "$publish" = 0 ]; then
  echo "bench: $out/report.md, $out/results.json (not published: results/latest.* is only replaced by a full run from a clean tree; suite exit $status)"
  exit "$status"
fi
# Publish atomically enough for a reader: the report and its charts together.
rm -rf results/charts
cp -r "$out/charts" results/charts 2>/dev/null || mkdir -p results/charts
for f in results.json:latest.json report.md:latest.md report.html:latest.html; do
  src=${f%%:*} dst=${f##*:}
  [ -f "$out/$src" ] || continue
  cp "$out/$src" "results/$dst.tmp" && mv "results/$dst.tmp" "results/$dst"
done
echo "bench: results/latest.md, results/latest.json, results/charts/ (suite exit $status)"
exit "$status"

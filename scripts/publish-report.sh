#!/usr/bin/env bash
# Shared last step of the container benches (compose-bench.sh, swarm-bench.sh):
# check that the suite wrote its report, warn about skipped scenarios, and
# copy the report one directory up (results/<name>-latest.md) with its
# relative links (charts) prefixed by the run's folder.
#
#   scripts/publish-report.sh NAME RUN_DIR OUT [LATEST]
#     NAME     who speaks in messages ("compose bench")
#     RUN_DIR  the results directory holding OUT/
#     OUT      the run's folder name under RUN_DIR (results.json, report.md)
#     LATEST   where the copy goes; empty: no copy
set -uo pipefail
[ $# -ge 3 ] || { echo "usage: $0 NAME RUN_DIR OUT [LATEST]" >&2; exit 2; }
name=$1 dir=$2 out=$3 latest=${4:-}
say() { echo "$name: $*" >&2; }

report="$dir/$out/report.md"
[ -s "$report" ] || { say "the suite succeeded but wrote no $report"; exit 1; }
# The suite goes on when a scenario cannot run (a target never answered):
# say so here, where it is easy to miss in the progress output.
if grep -q '"skipped":' "$dir/$out/results.json" 2>/dev/null; then
  say "WARNING: scenarios skipped:"
  grep '"skipped":' "$dir/$out/results.json" | sed 's/^ */  /' >&2
fi
if [ -n "$latest" ]; then
  sed -E -e "s#(\]\()([^)#/:][^):]*\))#\1$out/\2#g" \
         -e "s#(src=\")([^\"#/:][^\":]*\")#\1$out/\2#g" "$report" >"$latest"
  say "report: $report, copied to $latest"
else
  say "report: $report"
fi

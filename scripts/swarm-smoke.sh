#!/usr/bin/env bash
# swarm smoke test (owner: H): a quick distributed suite on a single-node
# Docker Swarm, end to end. Where a Docker engine answers: builds the images,
# runs scripts/swarm-bench.sh with -quick on plaintext and io-wait, 2 load
# replicas per measurement, a temporary results directory and its own stack
# name; then checks
#   - every measured repetition ran on exactly 2 replicas, and the merged
#     request count equals the sum of the replicas' counts (and errors too);
#   - no service, container or network is left, the swarm is in the state
#     it was found (inactive stays inactive), and so are the node's labels.
# Where no engine runs, it says so in one line and exits 0.
#
# Bounded: every docker call has a timeout; `make images` gets
# LAB_SMOKE_BUILD_TIMEOUT seconds (600; LAB_SMOKE_SKIP_BUILD=1 skips it),
# the suite LAB_SMOKE_TIMEOUT (600). LAB_SMOKE_TARGETS picks the servers
# (eventloop-async,blocking-goroutine).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

if ! command -v docker >/dev/null 2>&1 || ! timeout 30 docker info >/dev/null 2>&1; then
  echo "swarm smoke: SKIPPED — no Docker engine on this machine"
  exit 0
fi
fail() { echo "swarm smoke: FAIL — $*" >&2; exit 1; }
d() { timeout -k 5 60 docker "$@"; }

stack=serverlab-smoke-$$
scenarios=plaintext,io-wait
tmp=$(mktemp -d "${TMPDIR:-/tmp}/swarm-smoke.XXXXXX") || fail "mktemp"
start=$SECONDS

# The state to restore: swarm membership, containers, networks, services.
snapshot() {
  echo "swarm: $(d info --format '{{.Swarm.LocalNodeState}}')"
  echo "containers: $(d ps -aq --no-trunc | sort | tr '\n' ' ')"
  echo "networks: $(d network ls -q --no-trunc | sort | tr '\n' ' ')"
  if [ "$(d info --format '{{.Swarm.LocalNodeState}}')" = active ]; then
    echo "services: $(d service ls -q | sort | tr '\n' ' ')"
    echo "labels: $(d node inspect "$(d info --format '{{.Swarm.NodeID}}')" --format '{{json .Spec.Labels}}')"
  fi
}
before=$(snapshot)

if [ "${LAB_SMOKE_SKIP_BUILD:-}" != 1 ]; then
  echo "swarm smoke: building the images"
  timeout -k 10 "${LAB_SMOKE_BUILD_TIMEOUT:-600}" make --no-print-directory images ||
    fail "make images failed (exit $?)"
fi

echo "swarm smoke: quick suite ($scenarios), 2 load replicas, stack $stack"
LAB_STACK=$stack LAB_REPLICAS=2 LAB_RESULTS_DIR=$tmp LAB_SWARM_OUT=smoke LAB_SWARM_LATEST="" LAB_SKIP_IMAGES=1 \
  LAB_TARGETS=${LAB_SMOKE_TARGETS:-eventloop-async,blocking-goroutine} LAB_SWARM_TIMEOUT=${LAB_SMOKE_TIMEOUT:-600} \
  scripts/swarm-bench.sh -quick -reps 1 -scenarios "$scenarios"
rc=$?

# Whatever happened, swarm-bench.sh has undone what it did: check.
after=$(snapshot)
if [ "$before" != "$after" ]; then
  fail "the engine is not as it was found (exit $rc). Before:
$before
After:
$after"
fi
[ "$rc" = 0 ] || fail "the swarm suite failed (exit $rc); see above. Results, if any: $tmp/smoke"

json=$tmp/smoke/results.json
[ -s "$json" ] || fail "no results.json in $tmp/smoke"
for s in ${scenarios//,/ }; do
  jq -e --arg s "$s" '[.scenarios[] | select(.name == $s) | .rows[].reps[]] | length > 0' "$json" >/dev/null ||
    fail "no measured repetition of scenario $s in $json"
done
# Every repetition: 2 replicas, and counts that add up exactly.
bad=$(jq -r '.scenarios[].rows[] | . as $r | .reps[] |
  select((.replicas | length) != 2
    or ([.replicas[].requests] | add) != .requests
    or ([.replicas[].errors] | add) != .errors) |
  "\($r.scenario) \($r.config) \($r.point.label): requests \(.requests), replicas \([.replicas[]?.requests])"' "$json")
[ -z "$bad" ] || fail "merged counts do not add up (or not 2 replicas):
$bad"
echo "swarm smoke: merged rows beside their replicas (requests, rps, p99 ms, loadgen CPU):"
jq -r '.scenarios[].rows[] | . as $r | .reps[] |
  "  \($r.scenario) \($r.config) \($r.point.label)  merged: \(.requests) req, \(.rps | floor) rps, p99 \(.p99_ms)",
  (.replicas[] | "      \(.agent): \(.requests) req, \(.rps | floor) rps, p99 \(.p99_ms), cpu \(.loadgen_cpu_util * 100 | floor)%")' "$json"
echo "swarm smoke: PASS — $(jq '[.scenarios[].rows[].reps[]] | length' "$json") repetitions merged exactly from 2 replicas, engine restored, $((SECONDS - start))s"
rm -rf "$tmp"

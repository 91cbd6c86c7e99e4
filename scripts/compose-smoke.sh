#!/usr/bin/env bash
# compose smoke test: a quick `loadgen suite` in containers, end to end.
# Where a Docker engine answers: builds the images, runs the suite with
# -quick on a couple of scenarios through scripts/compose-bench.sh (its own
# project name and a temporary results directory), then checks that the
# report was written and that no container, network or volume of the project
# is left. Where no engine runs, it says so in one line and exits 0.
#
# Bounded: `make images` gets LAB_SMOKE_BUILD_TIMEOUT seconds (600), the suite
# LAB_SMOKE_TIMEOUT (900). LAB_SMOKE_SCENARIOS picks the scenarios
# (plaintext,fanout: a server ceiling and the dependency across containers).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

if ! command -v docker >/dev/null 2>&1 || ! timeout 30 docker info >/dev/null 2>&1; then
  echo "compose smoke: SKIPPED — no Docker engine on this machine"
  exit 0
fi
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
  echo "compose smoke: SKIPPED — a Docker engine answers, but neither 'docker compose' nor 'docker-compose' is installed"
  exit 0
fi

fail() { echo "compose smoke: FAIL — $*" >&2; exit 1; }

project=serverlab-smoke-$$
scenarios=${LAB_SMOKE_SCENARIOS:-plaintext,fanout}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/compose-smoke.XXXXXX") || fail "mktemp"
start=$SECONDS

echo "compose smoke: building the images"
timeout -k 10 "${LAB_SMOKE_BUILD_TIMEOUT:-600}" make --no-print-directory images ||
  fail "make images failed (exit $?)"

echo "compose smoke: quick suite (${scenarios}) in project ${project}"
COMPOSE_PROJECT_NAME=$project LAB_RESULTS_DIR=$tmp LAB_COMPOSE_OUT=smoke LAB_COMPOSE_LATEST="" \
  LAB_COMPOSE_TIMEOUT=${LAB_SMOKE_TIMEOUT:-900} \
  scripts/compose-bench.sh -quick -reps 1 -scenarios "$scenarios"
rc=$?

# Whatever happened, compose-bench.sh has taken the project down: check.
mapfile -t left < <(docker ps -aq --filter "label=com.docker.compose.project=$project")
mapfile -t nets < <(docker network ls -q --filter "label=com.docker.compose.project=$project")
mapfile -t vols < <(docker volume ls -q --filter "label=com.docker.compose.project=$project")
if [ "$((${#left[@]} + ${#nets[@]} + ${#vols[@]}))" -gt 0 ]; then
  [ "${#left[@]}" = 0 ] || docker rm -f "${left[@]}" >/dev/null 2>&1
  [ "${#nets[@]}" = 0 ] || docker network rm "${nets[@]}" >/dev/null 2>&1
  [ "${#vols[@]}" = 0 ] || docker volume rm "${vols[@]}" >/dev/null 2>&1
  fail "project $project left containers [${left[*]}] networks [${nets[*]}] volumes [${vols[*]}] behind (removed now)"
fi
[ "$rc" = 0 ] || fail "the compose suite failed (exit $rc); see above. Results, if any: $tmp/smoke"

# The suite exits 0 even when it skips a scenario (a target never answered):
# check that every scenario was measured. results.json is indented JSON.
report=$tmp/smoke/report.md json=$tmp/smoke/results.json
[ -s "$report" ] || fail "no report at $report"
[ -s "$json" ] || fail "no results.json in $tmp/smoke"
grep -q '"complete": true' "$json" || fail "results.json says the run is incomplete ($json)"
if grep -q '"skipped":' "$json"; then
  fail "a scenario was skipped: $(grep '"skipped":' "$json" | head -3 | tr -s ' ') ($json)"
fi
for s in ${scenarios//,/ }; do
  grep -q "\"scenario\": \"$s\"" "$json" || fail "no measurement of scenario $s in $json"
  grep -q -- "$s" "$report" || fail "the report does not mention scenario $s ($report)"
done
echo "compose smoke: PASS — report $(wc -c <"$report") bytes, scenarios $scenarios, nothing left of $project, $((SECONDS - start))s"
rm -rf "$tmp"

#!/usr/bin/env bash
# Runs `loadgen suite` in containers (docker-compose.yml) against every server
# service, then takes the whole project down again, also on failure or ^C.
# Expects the images (`make images`; `make compose-bench` does both).
#
#   scripts/compose-bench.sh [loadgen suite flags, e.g. -quick -scenarios plaintext,fanout]
#
# Writes $LAB_RESULTS_DIR/$LAB_COMPOSE_OUT/{results.json,report.md} and copies
# the report to $LAB_COMPOSE_LATEST. Environment (all optional):
#   COMPOSE_PROJECT_NAME  compose project                    (serverlab)
#   LAB_RESULTS_DIR       host directory mounted at /results (results)
#   LAB_COMPOSE_OUT       subdirectory the suite writes      (compose)
#   LAB_COMPOSE_LATEST    copy of the report; empty: none    (results/compose-latest.md)
#   LAB_TARGETS           services to measure, comma-separated (every server service)
#   LAB_COMPOSE_TIMEOUT   seconds the suite may run          (7200)
#   LAB_SERVER_CPUS, LAB_LOAD_CPUS, LAB_NOFILE, LAB_IMAGE_TAG: see docker-compose.yml
#   LAB_COMPOSE           the compose command                (docker compose, else docker-compose)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "compose bench: $*" >&2; }

export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-serverlab}
export LAB_IMAGE_TAG=${LAB_IMAGE_TAG:-local}
results_dir=${LAB_RESULTS_DIR:-results}
out=${LAB_COMPOSE_OUT:-compose}
latest=${LAB_COMPOSE_LATEST-results/compose-latest.md}
limit=${LAB_COMPOSE_TIMEOUT:-7200}

if ! command -v docker >/dev/null 2>&1; then
  say "no Docker engine: the docker CLI is not installed"; exit 1
fi
if ! timeout 30 docker info >/dev/null 2>&1; then
  say "no Docker engine answers (docker info failed)"; exit 1
fi

# The compose command: the v2 plugin where it exists, else docker-compose v1.
if [ -n "${LAB_COMPOSE:-}" ]; then
  read -r -a compose <<<"$LAB_COMPOSE"
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  say "neither 'docker compose' nor 'docker-compose' is installed"; exit 1
fi
dc() { "${compose[@]}" --profile bench "$@"; }

# Cpusets: servers on one CPU, load and dependency on another. An engine with
# one CPU cannot do that; share CPU 0 and say so rather than fail to start.
ncpu=$(docker info --format '{{.NCPU}}' 2>/dev/null || echo 0)
if [ "${ncpu:-0}" -lt 2 ] && [ -z "${LAB_SERVER_CPUS:-}${LAB_LOAD_CPUS:-}" ]; then
  say "the engine has ${ncpu} CPU(s): servers and load share cpuset 0 (numbers will be pessimistic)"
  export LAB_SERVER_CPUS=0 LAB_LOAD_CPUS=0
fi

for b in blocking prefork eventloop loadgen; do
  docker image inspect "serverlab/$b:$LAB_IMAGE_TAG" >/dev/null 2>&1 ||
    { say "image serverlab/$b:$LAB_IMAGE_TAG is missing: run 'make images' first"; exit 1; }
done

# Targets: every service but the dependency and the load generator, each by
# its service name on the compose network (the names are the catalog's).
if [ -n "${LAB_TARGETS:-}" ]; then
  IFS=, read -r -a services <<<"$LAB_TARGETS"
else
  mapfile -t services < <(dc config --services | grep -v -x -e loadgen -e dependency)
fi
targets=
for s in "${services[@]}"; do targets+="${targets:+,}$s=http://$s:8080"; done
[ -n "$targets" ] || { say "no server services found in docker-compose.yml"; exit 1; }

# Run as the invoking user, so that the results belong to them; the
# container has no .git, so the report's commit comes from here.
export LAB_UID=${LAB_UID:-$(id -u)} LAB_GID=${LAB_GID:-$(id -g)}
if [ -z "${LAB_GIT_COMMIT:-}" ] && LAB_GIT_COMMIT=$(git rev-parse HEAD 2>/dev/null); then
  LAB_GIT_DIRTY=false
  [ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || LAB_GIT_DIRTY=true
  export LAB_GIT_COMMIT LAB_GIT_DIRTY
fi
mkdir -p "$results_dir/$out"
export LAB_RESULTS_DIR
LAB_RESULTS_DIR=$(cd "$results_dir" && pwd)
rm -f "$LAB_RESULTS_DIR/$out/report.md" "$LAB_RESULTS_DIR/$out/results.json"

teardown() {
  # --timeout: the servers drain on SIGTERM; idle ones stop at once.
  dc down --volumes --remove-orphans --timeout 20 >/dev/null 2>&1 || dc down --volumes --remove-orphans --timeout 20 || true
  local left
  mapfile -t left < <(docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")
  if [ "${#left[@]}" -gt 0 ]; then
    say "removing containers compose left behind: ${left[*]}"
    docker rm -f "${left[@]}" >/dev/null 2>&1 || true
  fi
}
child=
finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$child" ]; then # interrupted: stop the compose client first
    kill -TERM "$child" 2>/dev/null
    wait "$child" 2>/dev/null
  fi
  if [ "$rc" != 0 ]; then
    say "failed (exit $rc); last server logs:"
    dc logs --no-color --tail 15 2>&1 | tail -n 80 >&2 || true
  fi
  say "taking project $COMPOSE_PROJECT_NAME down"
  teardown
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

teardown # leftovers of an interrupted earlier run

say "project $COMPOSE_PROJECT_NAME, ${compose[*]}, servers on cpuset ${LAB_SERVER_CPUS:-0}, load on cpuset ${LAB_LOAD_CPUS:-1}, nofile ${LAB_NOFILE:-20000}"
say "loadgen suite -targets $targets -out /results/$out $*"
# Start the dependency and the targets only (a missing image fails here, at
# once), then the suite in the loadgen container; it waits until every target
# answers. -T: no TTY, as in CI.
set +e
timeout -k 10 300 "${compose[@]}" up -d --no-build dependency "${services[@]}"
rc=$?
if [ "$rc" = 0 ]; then
  # In the background, so that a signal to this script is handled at once.
  timeout -k 30 "$limit" "${compose[@]}" --profile bench run --rm -T --no-deps loadgen \
    suite -targets "$targets" -out "/results/$out" "$@" &
  child=$!
  wait "$child"
  rc=$?
  child=
else
  say "could not start the servers (exit $rc)"
fi
set -e
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
  say "the suite ran past ${limit}s (LAB_COMPOSE_TIMEOUT) and was stopped"; exit "$rc"
fi
[ "$rc" = 0 ] || { say "loadgen suite exited $rc"; exit "$rc"; }

scripts/publish-report.sh "compose bench" "$LAB_RESULTS_DIR" "$out" "$latest" || exit $?

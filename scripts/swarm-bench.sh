#!/usr/bin/env bash
# Runs `loadgen suite` on a Docker Swarm cluster (deploy/stack.yml): the
# servers on nodes labelled lab.role.server=true, N load agents (and the
# dependency) on nodes labelled lab.role.load=true, every load point
# measured by the N agents at once and merged exactly (loadgen/swarm).
# Owner: H. `make swarm-bench` runs it.
#
#   scripts/swarm-bench.sh [loadgen suite flags, e.g. -quick -scenarios plaintext]
#
# What it does, and undoes (also on failure or ^C):
#   - checks that a Docker engine answers;
#   - no active swarm: `docker swarm init --advertise-addr 127.0.0.1` (a
#     single-node swarm), and `docker swarm leave --force` at the end;
#     an active swarm (you joined real hosts): used as it is, left as it is;
#   - a single-node swarm: labels the node with both roles, removes the
#     labels it added at the end;
#   - builds the images (`make images`; LAB_SKIP_IMAGES=1: use those there);
#   - deploys the stack, waits for every service, runs the suite in a
#     container attached to the stack's overlay network (it is the
#     rendezvous, alias coord:9000), then removes the stack and checks that
#     no service, container or network of it is left.
#
# Writes $LAB_RESULTS_DIR/$LAB_SWARM_OUT/{results.json,report.md} and copies
# the report to $LAB_SWARM_LATEST. Environment (all optional):
#   LAB_STACK          stack name                                 (serverlab)
#   LAB_REPLICAS       load agents per measurement                (2)
#   LAB_RESULTS_DIR    host directory mounted at /results         (results)
#   LAB_SWARM_OUT      subdirectory the suite writes              (swarm)
#   LAB_SWARM_LATEST   copy of the report; empty: none            (results/swarm-latest.md)
#   LAB_TARGETS        services to measure, comma-separated       (every server service)
#   LAB_SWARM_TIMEOUT  seconds the suite may run                  (7200)
#   LAB_REPLICA_SERIES e.g. "1 2 1 2": one suite per entry against the same
#                      servers, alternating replica counts (see below)
#   LAB_SERVER_CPUS, LAB_LOAD_CPUS  -cpus of servers / of load and dependency
#                      (single node with 2+ CPUs: 0 and 1; a cluster: all, i.e. not pinned)
#   LAB_NOFILE, LAB_IMAGE_TAG: see deploy/stack.yml
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "swarm bench: $*" >&2; }
d() { timeout -k 5 "${DT:-60}" docker "$@"; } # every docker call is bounded

stack=${LAB_STACK:-serverlab}
export LAB_IMAGE_TAG=${LAB_IMAGE_TAG:-local}
export LAB_REPLICAS=${LAB_REPLICAS:-2}
export LAB_NOFILE=${LAB_NOFILE:-20000}
results_dir=${LAB_RESULTS_DIR:-results}
out=${LAB_SWARM_OUT:-swarm}
latest=${LAB_SWARM_LATEST-results/swarm-latest.md}
limit=${LAB_SWARM_TIMEOUT:-7200}
suite_name=$stack-suite

if ! command -v docker >/dev/null 2>&1; then
  say "no Docker engine: the docker CLI is not installed"; exit 1
fi
if ! timeout 30 docker info >/dev/null 2>&1; then
  say "no Docker engine answers (docker info failed): start dockerd, or run where one runs"; exit 1
fi

created_swarm=
added_labels=()
node=
nets_before=$(d network ls --format '{{.Name}}' | sort | tr '\n' ' ')
child=

# undo: everything this script created, in reverse; safe to run twice.
undo() {
  if [ -n "$child" ]; then # interrupted: stop the suite client and its container
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
    child=
  fi
  remove_stack
  local l
  for l in "${added_labels[@]}"; do
    d node update --label-rm "$l" "$node" >/dev/null 2>&1 || true
  done
  added_labels=()
  if [ -n "$created_swarm" ]; then
    say "leaving the single-node swarm this script created"
    d swarm leave --force >/dev/null || true
    created_swarm=
    # Leaving keeps docker_gwbridge (and sometimes ingress): remove the
    # networks that were not there before.
    local n
    for n in $(d network ls --format '{{.Name}}'); do
      case " $nets_before " in *" $n "*) ;; *) d network rm "$n" >/dev/null 2>&1 || true ;; esac
    done
  fi
}
# remove_stack: the suite container and the stack, waiting until no task
# container or network of it is left.
remove_stack() {
  d rm -f "$suite_name" >/dev/null 2>&1 || true
  if d stack ls --format '{{.Name}}' 2>/dev/null | grep -qx "$stack"; then
    say "removing stack $stack"
    d stack rm "$stack" >/dev/null || true
  fi
  # stack rm returns before the tasks and the network are gone: wait.
  local i
  for i in $(seq 1 60); do
    [ -z "$(d ps -aq --filter "label=com.docker.stack.namespace=$stack")" ] &&
      [ -z "$(d network ls -q --filter "label=com.docker.stack.namespace=$stack")" ] && break
    sleep 1
  done
}
finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$rc" != 0 ] && d stack ls --format '{{.Name}}' 2>/dev/null | grep -qx "$stack"; then
    say "failed (exit $rc); the stack's tasks:"
    d stack ps "$stack" --no-trunc --format '  {{.Name}} {{.CurrentState}} {{.Error}}' 2>&1 | head -40 >&2 || true
    d service logs --tail 10 "${stack}_agent" 2>&1 | tail -20 >&2 || true
  fi
  undo
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The swarm: use an active one as it is; create a single-node one if none.
state=$(d info --format '{{.Swarm.LocalNodeState}}')
case "$state" in
  inactive)
    say "no swarm: initialising a single-node swarm (docker swarm init --advertise-addr 127.0.0.1)"
    d swarm init --advertise-addr 127.0.0.1 >/dev/null
    created_swarm=1 ;;
  active)
    [ "$(d info --format '{{.Swarm.ControlAvailable}}')" = true ] ||
      { say "this node is in a swarm but is not a manager: run this on a manager"; exit 1; } ;;
  *) say "the swarm is '$state': fix it (docker info) before running"; exit 1 ;;
esac

# Roles. One node: it plays both. A cluster: the labels are yours to set.
node=$(d info --format '{{.Swarm.NodeID}}')
nodes=$(d node ls -q | wc -l)
if [ "$nodes" = 1 ]; then
  for l in lab.role.server lab.role.load; do
    if [ "$(d node inspect "$node" --format "{{index .Spec.Labels \"$l\"}}")" != true ]; then
      d node update --label-add "$l=true" "$node" >/dev/null
      added_labels+=("$l")
    fi
  done
  ncpu=$(d info --format '{{.NCPU}}')
  if [ "${ncpu:-1}" -ge 2 ]; then
    export LAB_SERVER_CPUS=${LAB_SERVER_CPUS:-0} LAB_LOAD_CPUS=${LAB_LOAD_CPUS:-1}
  else
    say "the node has ${ncpu} CPU: servers and load share it (numbers will be pessimistic)"
  fi
else
  for l in lab.role.server lab.role.load; do
    n=$(d node ls -q | xargs docker node inspect --format "{{index .Spec.Labels \"$l\"}}" | grep -cx true || true)
    [ "$n" -gt 0 ] || { say "no node of this $nodes-node swarm is labelled $l=true: docker node update --label-add $l=true NODE"; exit 1; }
  done
fi
export LAB_SERVER_CPUS=${LAB_SERVER_CPUS:-all} LAB_LOAD_CPUS=${LAB_LOAD_CPUS:-all}

if [ "${LAB_SKIP_IMAGES:-}" != 1 ]; then
  say "building the images (make images)"
  timeout -k 10 1200 make --no-print-directory images IMAGE_TAG="$LAB_IMAGE_TAG" >&2
fi
for b in blocking prefork eventloop loadgen; do
  d image inspect "serverlab/$b:$LAB_IMAGE_TAG" >/dev/null 2>&1 ||
    { say "image serverlab/$b:$LAB_IMAGE_TAG is missing here: run 'make images' (on every node of a cluster)"; exit 1; }
done

# Targets: every server service of the stack file, by service name.
if [ -n "${LAB_TARGETS:-}" ]; then
  IFS=, read -r -a services <<<"$LAB_TARGETS"
else
  mapfile -t services < <(awk '/^[^ #]/ { in_services = ($0 == "services:") }
    in_services && /^  [a-z0-9-]+:$/ { sub(":", ""); print $1 }' deploy/stack.yml | grep -v -x -e dependency -e agent)
fi
targets=
for s in "${services[@]}"; do targets+="${targets:+,}$s=http://$s:8080"; done
[ -n "$targets" ] || { say "no server services found in deploy/stack.yml"; exit 1; }

export LAB_UID=${LAB_UID:-$(id -u)} LAB_GID=${LAB_GID:-$(id -g)}
if [ -z "${LAB_GIT_COMMIT:-}" ] && LAB_GIT_COMMIT=$(git rev-parse HEAD 2>/dev/null); then
  LAB_GIT_DIRTY=false
  [ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || LAB_GIT_DIRTY=true
fi
mkdir -p "$results_dir/$out"
results_abs=$(cd "$results_dir" && pwd)
rm -f "$results_abs/$out/report.md" "$results_abs/$out/results.json"

if d stack ls --format '{{.Name}}' | grep -qx "$stack"; then
  say "a stack $stack is already deployed: removing it first"; remove_stack
fi
say "deploying stack $stack: ${LAB_REPLICAS} load agents, servers -cpus $LAB_SERVER_CPUS, load -cpus $LAB_LOAD_CPUS, nofile $LAB_NOFILE"
DT=180 d stack deploy --resolve-image never --prune -c deploy/stack.yml "$stack" >&2

# Wait until every service runs all its replicas (Swarm restarts failed
# tasks; the agents retry the rendezvous, so their order does not matter).
deadline=$((SECONDS + ${LAB_SWARM_READY:-180}))
while :; do
  pending=$(d stack services "$stack" --format '{{.Name}} {{.Replicas}}' | awk '{split($2, r, "/"); if (r[1] != r[2]) print $1 " " $2}')
  [ -z "$pending" ] && break
  if [ "$SECONDS" -ge "$deadline" ]; then
    say "services not running after ${LAB_SWARM_READY:-180}s: $(echo $pending)"; exit 1
  fi
  sleep 2
done
for s in "${services[@]}"; do # their start-up lines: address, GOMAXPROCS, nofile
  d service logs --raw "${stack}_$s" 2>&1 | head -1 | sed 's/^/  /' >&2 || true
done
say "every service runs; suite: -replicas $LAB_REPLICAS -targets $targets $*"

cpuset=()
[ "$LAB_LOAD_CPUS" = all ] || cpuset=(--cpuset-cpus "$LAB_LOAD_CPUS")
# run_suite N DIR: the suite with N replicas per measurement, into
# /results/DIR, in the background (so that a signal is handled at once).
run_suite() {
  local n=$1 dir=$2
  shift 2
  set +e
  DT=$((limit + 60)) d run --rm --name "$suite_name" --network "${stack}_lab" --network-alias coord \
    --init "${cpuset[@]}" --ulimit "nofile=$LAB_NOFILE:$LAB_NOFILE" --user "$LAB_UID:$LAB_GID" --tmpfs /tmp \
    -e LAB_GIT_COMMIT="${LAB_GIT_COMMIT:-}" -e LAB_GIT_DIRTY="${LAB_GIT_DIRTY:-}" \
    -v "$results_abs:/results" "serverlab/loadgen:$LAB_IMAGE_TAG" \
    suite -targets "$targets" -replicas "$n" -rendezvous :9000 -out "/results/$dir" "$@" &
  child=$!
  wait "$child"
  rc=$?
  child=
  set -e
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    say "the suite ran past ${limit}s (LAB_SWARM_TIMEOUT) and was stopped"; exit "$rc"
  fi
  [ "$rc" = 0 ] || { say "loadgen suite exited $rc"; exit "$rc"; }
}

# LAB_REPLICA_SERIES="1 2 1 2": one suite per entry, alternating, against
# the same deployed servers (LAB_REPLICAS must be the largest entry), each
# into $out/rN-K; then a table of every row's rps per replica count. No
# latest copy is made.
if [ -n "${LAB_REPLICA_SERIES:-}" ]; then
  k=0
  for n in $LAB_REPLICA_SERIES; do
    [ "$n" -le "$LAB_REPLICAS" ] || { say "LAB_REPLICA_SERIES entry $n exceeds LAB_REPLICAS=$LAB_REPLICAS"; exit 2; }
    k=$((k + 1))
    say "series $k: $n replica(s)"
    run_suite "$n" "$out/r$n-$k" "$@"
  done
  say "rps by replica count (scenario config point: one column per run, in order $LAB_REPLICA_SERIES):"
  for f in "$results_abs/$out"/r*-*/results.json; do
    jq -r --arg run "$(basename "$(dirname "$f")")" '.scenarios[].rows[] | "\(.scenario) \(.config) \(.point.label) \($run) \([.reps[].rps | floor])"' "$f"
  done | sort -k1,3 -s >&2
  exit 0
fi
run_suite "$LAB_REPLICAS" "$out" "$@"

scripts/publish-report.sh "swarm bench" "$results_abs" "$out" "$latest" || exit $?

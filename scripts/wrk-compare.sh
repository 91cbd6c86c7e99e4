#!/usr/bin/env bash
# wrk-compare.sh: plaintext throughput of several servers with wrk, the
# independent cross-check, alternating A B A B in one run so that the ratios
# share the machine's state. Each server runs pinned to SERVER_CPU, wrk to
# LOAD_CPU. Loopback only; every run is bounded by DURATION.
#
#   scripts/wrk-compare.sh [-r ROUNDS] [-d DURATION] [-c CONNS] [-p PIPELINE] [-t PATH] name='cmd {addr}' ...
#
#   -r ROUNDS rounds (default 3), -d DURATION each run (default 5s),
#   -c CONNS connections (default 64), -p PIPELINE depth (default 1),
#   -t PATH request path (default /plaintext), -h this help.
#   Example: scripts/wrk-compare.sh eventloop='bin/eventloop -addr {addr}' stripped='bin/stripped -addr {addr}'
#
# {addr} in a command is replaced by the 127.0.0.1:port it must listen on.
# Prints one line per run and a summary with each server's median and its
# ratio to the first server.
set -euo pipefail
rounds=3 dur=5s conns=64 pipe=1 path=/plaintext
SERVER_CPU=${SERVER_CPU:-0} LOAD_CPU=${LOAD_CPU:-1}
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while getopts r:d:c:p:t:h o; do
  case $o in
    r) rounds=$OPTARG;; d) dur=$OPTARG;; c) conns=$OPTARG;; p) pipe=$OPTARG;; t) path=$OPTARG;;
    h) usage; exit 0;;
    *) echo "Run '$0 -h' for the options." >&2; exit 2;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-r N] [-d DUR] [-c N] [-p P] [-t PATH] name='cmd {addr}' ...; '$0 -h' for more" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk-compare: wrk is not installed (Debian package wrk)" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
lua=()
[ "$pipe" -gt 1 ] && lua=(-s "$here/pipeline.lua" -- "$pipe")
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill -TERM -- -"$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
port=$((20000 + RANDOM % 20000))
names=() addrs=()
for spec in "$@"; do
  name=${spec%%=*} cmd=${spec#*=} addr=127.0.0.1:$port; port=$((port + 1))
  setsid taskset -c "$SERVER_CPU" bash -c "exec ${cmd//\{addr\}/$addr}" >"$tmp/$name.log" 2>&1 &
  pids+=($!) names+=("$name") addrs+=("$addr")
done
for a in "${addrs[@]}"; do
  for _ in $(seq 100); do curl -sf "http://$a/plaintext" >/dev/null 2>&1 && break; sleep 0.05; done
  curl -sf "http://$a/plaintext" >/dev/null || { echo "server at $a did not start" >&2; cat "$tmp"/*.log >&2; exit 1; }
done
for r in $(seq "$rounds"); do
  for i in "${!names[@]}"; do
    out=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$conns" -d"$dur" "http://${addrs[$i]}$path" "${lua[@]}" 2>&1)
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    errs=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
    echo "round $r ${names[$i]}: $rps rps $errs"
    echo "$rps" >>"$tmp/${names[$i]}.rps"
  done
done
echo "--- median rps over $rounds rounds (c=$conns, pipeline=$pipe, $dur each, server CPU $SERVER_CPU, wrk CPU $LOAD_CPU)"
base=""
for n in "${names[@]}"; do
  med=$(sort -n "$tmp/$n.rps" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
  [ -z "$base" ] && base=$med
  printf '%-24s %10.0f rps  %.3f× %s\n' "$n" "$med" "$(awk -v a="$med" -v b="$base" 'BEGIN{print a/b}')" "${names[0]}"
done

#!/usr/bin/env bash
# cpu-compare.sh: what one request costs the load generator (loadgen's fast
# engine against wrk) and the server, side by side. For each server and each
# connection count it alternates loadgen and wrk, A B A B, against the same
# running server pinned to SERVER_CPU, with the load on LOAD_CPU, and reads
# every process's CPU time from /proc: the server's from /proc/PID/stat
# before and after each run, the load generator's from the cutime/cstime of
# the shell that waited for it (/proc/PID/stat of that shell), so nothing
# is sampled and nothing is missed. Loopback only; every run is bounded by
# DURATION. Hold the measurement lock: flock /tmp/lab/measure.lock ...
#
# Usage:
#   scripts/cpu-compare.sh [-r ROUNDS] [-d DURATION] [-c CONNS,...] [-p PIPELINE] [-t PATH] [name='cmd {addr}' ...]
#
#   -r ROUNDS      A B rounds per (server, conns) (default 3)
#   -d DURATION    each run, wrk syntax: 5s (default 5s)
#   -c LIST        connection counts, comma-separated (default 64,1000)
#   -p PIPELINE    requests in flight per connection (default 1)
#   -t PATH        request path (default /plaintext)
#   -l NAME=CMD    an extra load generator to alternate with, repeatable;
#                  its rows are named NAME. CMD is a loadgen build (before
#                  and after comparisons) or anything that takes loadgen's
#                  "run -url -c -d -pipeline -loops -json" and writes its
#                  rps and latency_ms.p50 there, with its own arguments
#                  (split on spaces, after "run"): -l 'epoll=bin/loadgen
#                  -io epoll', or -l 'uring=bin/ioclient -io uring'
#                  (benchref/ioclient, the I/O backend experiment)
#   -h             this help
#
# Servers default to eventloop='bin/eventloop -addr {addr}'; {addr} is
# replaced by the 127.0.0.1:port it must listen on. For the benchref
# responders: stripped='bin/stripped -addr {addr}' (make build first).
# LOADGEN (default: built from ./loadgen into a temporary folder) and WRK
# (default: wrk on PATH) pick the binaries; SERVER_CPU (0) and LOAD_CPU (1)
# the CPUs.
#
# Output: one line per run, then per (server, conns) the medians: rps, p50,
# the load generator's CPU µs per request, the server's CPU µs per request,
# and loadgen's ratios to wrk (CPU per request: the goal is <= 0.8; p50: the
# cross-check wants |Δ| <= max(2 %, 50 µs)), and the per-round (paired) ratios
# of CPU per request, which cancel the drift between rounds on a shared VM.
set -euo pipefail
rounds=3 dur=5s conns_list=64,1000 pipe=1 path=/plaintext
SERVER_CPU=${SERVER_CPU:-0} LOAD_CPU=${LOAD_CPU:-1}
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
extra=()
while getopts r:d:c:p:t:l:h o; do
  case $o in
    r) rounds=$OPTARG;; d) dur=$OPTARG;; c) conns_list=$OPTARG;; p) pipe=$OPTARG;; t) path=$OPTARG;;
    l) extra+=("$OPTARG");;
    h) usage; exit 0;;
    *) echo "Run '$0 -h' for the options." >&2; exit 2;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || set -- "eventloop=bin/eventloop -addr {addr}"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
WRK=${WRK:-$(command -v wrk || true)}
[ -n "$WRK" ] || { echo "cpu-compare: wrk is not installed (Debian package wrk)" >&2; exit 1; }
PY=/usr/bin/python3
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill -TERM -- -"$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
if [ -z "${LOADGEN:-}" ]; then
  (cd "$root" && go build -o "$tmp/loadgen" ./loadgen) || { echo "cpu-compare: cannot build loadgen" >&2; exit 1; }
  LOADGEN=$tmp/loadgen
fi
tck=$(getconf CLK_TCK)
lua=()
[ "$pipe" -gt 1 ] && lua=(-s "$here/pipeline.lua" -- "$pipe")

# cpu_ticks PID: utime+stime of PID, in clock ticks.
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

# run1 OUT CMD...: runs CMD pinned to LOAD_CPU, then reads its own
# children's CPU (cutime + cstime, fields 16-17 of /proc/PID/stat, counted
# once the child has been waited for) into OUT.cpu, in clock ticks.
cat >"$tmp/run1" <<'EOF'
out=$1; shift
taskset -c "$LOAD_CPU" "$@" >"$out.txt" 2>&1 || true
awk '{ sub(/^.*\) /, ""); print $14 + $15 }' /proc/$$/stat >"$out.cpu"
EOF

# Tools, in the order they alternate: loadgen, the extra builds, wrk.
declare -A bin=([loadgen]=$LOADGEN)
tools=(loadgen)
for e in "${extra[@]}"; do bin[${e%%=*}]=${e#*=}; tools+=("${e%%=*}"); done
tools+=(wrk)

# measure TOOL ADDR CONNS OUT: one run of TOOL; output in OUT.*.
measure() {
  local tool=$1 addr=$2 conns=$3 out=$4
  local url="http://$addr$path"
  case $tool in
    wrk) LOAD_CPU=$LOAD_CPU bash "$tmp/run1" "$out" "$WRK" -t1 -c"$conns" -d"$dur" --latency "$url" "${lua[@]}";;
    *) local cmd; read -ra cmd <<<"${bin[$tool]}"
       LOAD_CPU=$LOAD_CPU bash "$tmp/run1" "$out" "${cmd[0]}" run "${cmd[@]:1}" -url "$url" -c "$conns" -d "$dur" -pipeline "$pipe" -loops 1 -json "$out.json";;
  esac
}

# parse TOOL OUT: prints "rps p50_us" from a run's output.
parse() {
  case $1 in
    wrk) : ;;
    *) $PY -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["rps"], (r["latency_ms"]["p50"] or 0)*1000, r["errors"])' "$2.json"; return;;
  esac
  $PY - "$2.txt" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
m = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", t, re.M)
p50 = float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)] if m else 0
errs = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", t))
m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
errs += sum(int(x) for x in m.groups()) if m else 0
print(rps, p50, errs)
EOF
}

secs=$($PY -c 'import re,sys; m=re.fullmatch(r"([\d.]+)(ms|s|m)?", sys.argv[1]); print(float(m.group(1))*{"ms":1e-3,"s":1,"m":60,None:1}[m.group(2)])' "$dur")
port=$((20000 + RANDOM % 20000))
echo "# cpu-compare: server CPU $SERVER_CPU, load CPU $LOAD_CPU, $dur per run, pipeline $pipe, path $path, $rounds rounds"
echo "# loadgen: $LOADGEN (-loops 1); wrk: $WRK (-t1)"
printf '%-12s %6s %-8s %5s %11s %9s %11s %11s %6s\n' server conns tool round rps p50_us lg_us/req srv_us/req errors
for spec in "$@"; do
  name=${spec%%=*} cmd=${spec#*=} addr=127.0.0.1:$port; port=$((port + 1))
  (cd "$root" && exec setsid taskset -c "$SERVER_CPU" bash -c "exec ${cmd//\{addr\}/$addr}") >"$tmp/$name.log" 2>&1 &
  spid=$!; pids+=("$spid")
  for _ in $(seq 100); do curl -sf "http://$addr/plaintext" >/dev/null 2>&1 && break; sleep 0.05; done
  curl -sf "http://$addr/plaintext" >/dev/null || { echo "server $name at $addr did not start:" >&2; cat "$tmp/$name.log" >&2; exit 1; }
  # The server process itself (setsid bash execs the command).
  IFS=, read -ra conns_arr <<<"$conns_list"
  for conns in "${conns_arr[@]}"; do
    for r in $(seq "$rounds"); do
      for tool in "${tools[@]}"; do
        out="$tmp/$name-$conns-$tool-$r"
        s0=$(cpu_ticks "$spid")
        measure "$tool" "$addr" "$conns" "$out"
        s1=$(cpu_ticks "$spid")
        read -r rps p50 errs < <(parse "$tool" "$out") || { echo "cannot parse $tool output:" >&2; cat "$out.txt" >&2; exit 1; }
        lcpu=$(cat "$out.cpu")
        $PY - "$name" "$conns" "$tool" "$r" "$rps" "$p50" "$lcpu" "$((s1 - s0))" "$tck" "$secs" "$errs" <<'EOF' | tee -a "$tmp/rows"
import sys
name, conns, tool, r, rps, p50, lt, st, tck, secs, errs = sys.argv[1:]
rps, p50, tck, secs = float(rps), float(p50), float(tck), float(secs)
n = max(rps * secs, 1)
print(f"{name:<12} {conns:>6} {tool:<8} {r:>5} {rps:>11.0f} {p50:>9.0f} {int(lt)/tck*1e6/n:>11.2f} {int(st)/tck*1e6/n:>11.2f} {errs:>6}")
EOF
      done
    done
  done
  kill -TERM -- -"$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
done
echo "# medians (lg: the load generator; ratio: loadgen ÷ wrk)"
$PY - "$tmp/rows" "${tools[@]}" <<'EOF'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1])]
keys = []
for r in rows:
    if (r[0], r[1]) not in keys:
        keys.append((r[0], r[1]))
print(f"{'server':<12} {'conns':>6} {'tool':<8} {'rps':>11} {'p50_us':>9} {'lg_us/req':>10} {'srv_us/req':>10}")
for name, conns in keys:
    med = {}
    for tool in sys.argv[2:]:
        sel = [r for r in rows if r[0] == name and r[1] == conns and r[2] == tool]
        med[tool] = [st.median(float(r[i]) for r in sel) for i in (4, 5, 6, 7)]
        m = med[tool]
        print(f"{name:<12} {conns:>6} {tool:<8} {m[0]:>11.0f} {m[1]:>9.0f} {m[2]:>10.2f} {m[3]:>10.2f}")
    b = med["wrk"]
    for tool in sys.argv[2:-1]:
        a = med[tool]
        dp50 = a[1] - b[1]
        ok = abs(dp50) <= max(0.02 * b[1], 50)
        print(f"{name:<12} {conns:>6} {tool[:5]+'/wrk':<8} {a[0]/b[0]:>11.3f} {'Δ%+.0fus' % dp50:>9} {a[2]/b[2]:>10.3f} {a[3]/b[3]:>10.3f}   "
              f"cpu/req goal <= 0.8: {'met' if a[2]/b[2] <= 0.8 else 'NOT met'}; p50 within max(2 %, 50 µs): {'yes' if ok else 'no'}")
        # Paired: each round's ratio (the two ran back to back), which
        # cancels the drift between rounds that the medians above keep.
        by = lambda t: {r[3]: float(r[6]) for r in rows if r[0] == name and r[1] == conns and r[2] == t}
        ta, tb = by(tool), by("wrk")
        pr = sorted(ta[k] / tb[k] for k in ta if k in tb and tb[k] > 0)
        if pr:
            print(f"{'':<12} {'':>6} {'paired':<8} lg_us/req per round {' '.join('%.3f' % x for x in pr)}: median {st.median(pr):.3f} [{pr[0]:.3f}-{pr[-1]:.3f}]")
EOF

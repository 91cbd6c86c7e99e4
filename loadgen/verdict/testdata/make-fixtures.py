#!/usr/bin/env python3
"""Builds the adversarial fixtures from the committed run (results/latest.json).

base.json is that run, its raw engine results dropped, doctored only so
that each targeted claim has a clean decision: the fixtures below then each
change one thing and must flip that claim (fixtures_test.go). Run from the
repository root: /usr/bin/python3 loadgen/verdict/testdata/make-fixtures.py
"""
import copy, json, os

HERE = os.path.dirname(os.path.abspath(__file__))
src = json.load(open(os.path.join(HERE, "../../../results/latest.json")))


def rng(med, lo, hi, n=3):
    return {"median": med, "min": lo, "max": hi, "n": n, "lo": lo, "hi": hi, "kind": "range"}


def row(f, scn, cfg, label):
    for s in f["scenarios"]:
        if s["name"] == scn:
            for r in s["rows"]:
                if r["config"] == cfg and r["point"]["label"] == label:
                    return r
    raise KeyError((scn, cfg, label))


base = copy.deepcopy(src)
for s in base["scenarios"]:
    for r in s["rows"]:
        for rp in r.get("reps", []):
            rp.pop("engine", None)
            rp.pop("errors_by_class", None)
            if "canary" in rp:
                c = rp["canary"]
                rp["canary"] = {"responses": c.get("responses"), "duration_s": c.get("duration_s")}

# Claim 4: the inline row's window long enough for its latency (L = c).
r = row(base, "blocking-in-loop", "eventloop-inline", "c=100")
r["concurrency"] = rng(100, 99, 101)
# Claim 8: c=5000 held, the load generator's ceiling above its bound.
base["calibration"]["loadgen_ceiling_rps"] = 200000
r = row(base, "io-wait", "eventloop-async", "c=5000")
r["rps"] = rng(95000, 94500, 95500)
r["little_fraction"] = rng(0.95, 0.945, 0.955)
# Claim 9: two workers that used two cores and served twice one worker.
r = row(base, "cpu", "prefork-2", "2 core(s)")
p1 = row(base, "cpu", "prefork-1", "2 core(s)")["rps"]["median"]
r["rps"] = rng(2 * p1, 1.98 * p1, 2.02 * p1)
r["server"]["cpu_util"] = rng(1.95, 1.94, 1.97)


def rounded(x):
    if isinstance(x, float):
        return float("%.6g" % x)
    if isinstance(x, dict):
        return {k: rounded(v) for k, v in x.items()}
    if isinstance(x, list):
        return [rounded(v) for v in x]
    return x


def write(name, f, scenarios=None):
    """Writes f, keeping only the scenarios the fixture's claim reads."""
    f = copy.deepcopy(f)
    if scenarios:
        f["scenarios"] = [s for s in f["scenarios"] if s["name"] in scenarios]
    with open(os.path.join(HERE, name), "w") as out:
        json.dump(rounded(f), out, separators=(",", ":"), sort_keys=True)
        out.write("\n")


write("base.json", base)

# 50 % errors: half of eventloop-async's io-wait answers at c ≥ 1000 are 503.
f = copy.deepcopy(base)
for label in ("c=1000", "c=5000"):
    r = row(f, "io-wait", "eventloop-async", label)
    for rp in r["reps"]:
        n = rp["requests"]
        rp["errors"] = n // 2
        rp["status"] = {"200": n - n // 2, "503": n // 2}
    r["error_rate"] = rng(0.5, 0.5, 0.5)
write("errors-50pct.json", f, ["io-wait"])

# Overlapping intervals: async on one core 1.1× the best other, spread 1.0–1.2×.
f = copy.deepcopy(base)
r = row(f, "cpu", "eventloop-async", "1 core(s)")
p = row(f, "cpu", "prefork-1", "1 core(s)")["rps"]["median"]
r["rps"] = rng(1.1 * p, 1.0 * p, 1.2 * p)
write("overlapping-intervals.json", f, ["cpu"])

# L < 0.9 c: the inline loop's window cut short (the committed run's own 28.7).
f = copy.deepcopy(base)
row(f, "blocking-in-loop", "eventloop-inline", "c=100")["concurrency"] = rng(28.7, 28.6, 28.7)
write("window-too-short.json", f, ["blocking-in-loop"])

# A one-core "parallel" run: two workers, twice the throughput claimed, one core used.
f = copy.deepcopy(base)
row(f, "cpu", "prefork-2", "2 core(s)")["server"]["cpu_util"] = rng(1.0, 0.99, 1.01)
write("one-core-parallel.json", f, ["cpu"])

# A bracket that only overlaps: every server fails c=1000 (p99 > 2× the wait),
# so "100–200 in parallel" gets [100, 1000).
f = copy.deepcopy(base)
for s in f["scenarios"]:
    if s["name"] == "io-wait":
        for r in s["rows"]:
            if r["point"]["conns"] >= 1000:
                r["p99_ms"] = rng(300, 290, 310)
write("bracket-overlaps.json", f, ["io-wait", "idle-connections"])

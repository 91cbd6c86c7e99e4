#!/usr/bin/python3
"""One process holding N concurrent outbound calls (claim 10).

The seed's METRICS rows ("Python asyncio + aiohttp 1000–10000", "Thread-based
(e.g., requests) ~100–500") count outbound client connections from one
process. This client makes N calls at once to the dependency's /io?ms=M,
which holds each for M ms, and reports how many it really held at the same
time:

  --client threads   requests, one thread per call (requests.get: a new
                     connection each), as the seed's "requests" row; the
                     calls begin once every thread is started
  --client async     aiohttp, one task per call on one asyncio loop, one
                     ClientSession; --limit is its connector's cap (aiohttp's
                     default is 100; 0 here: no cap)

It prints one JSON object on stdout: wanted, held_max (the most TCP
connections established to the dependency at once, sampled from
/proc/net/tcp every 20 ms: any process's, so run nothing else against the
dependency meanwhile), in_flight_max (calls started and not finished), ok,
errors by kind, elapsed_s, rss_peak_bytes (VmHWM), threads_peak, and the
settings. Bounded: after --deadline seconds it reports what it has and
exits, whatever is still running.

  /usr/bin/python3 stacks/clients/outbound.py --client async -n 1000 --ms 2000 \\
      --dependency 127.0.0.1:8081
"""

import argparse
import asyncio
import collections
import json
import os
import sys
import threading
import time


class Tally:
    """Counters shared by the calls and the sampler; every field under lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.in_flight = 0
        self.in_flight_max = 0
        self.ok = 0
        self.errors = collections.Counter()
        self.done = 0

    def start(self):
        with self.lock:
            self.in_flight += 1
            self.in_flight_max = max(self.in_flight_max, self.in_flight)

    def end(self, err=None):
        with self.lock:
            self.in_flight -= 1
            self.done += 1
            if err is None:
                self.ok += 1
            else:
                self.errors[err] += 1


def established_to(port_hex):
    """Connections in state ESTABLISHED whose remote port is the dependency's."""
    n = 0
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    fields = line.split(None, 4)
                    if fields[3] == "01" and fields[2].endswith(port_hex):
                        n += 1
        except OSError:
            pass
    return n


def own_status():
    """(threads, VmHWM bytes) of this process."""
    threads = hwm = 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                threads = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) * 1024
    return threads, hwm


class Sampler(threading.Thread):
    """Samples connections to the dependency and this process's threads."""

    def __init__(self, dep_port):
        super().__init__(daemon=True)
        self.port_hex = ":%04X" % dep_port
        self.held_max = 0
        self.threads_peak = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(0.02)

    def sample(self):
        self.held_max = max(self.held_max, established_to(self.port_hex))
        self.threads_peak = max(self.threads_peak, own_status()[0])


def run_threads(args, url, tally, deadline):
    import requests

    go = threading.Event()  # every call waits until all threads are started

    def call():
        go.wait()
        tally.start()
        try:
            r = requests.get(url, timeout=args.timeout)
            tally.end(None if r.status_code == 200 else "status_%d" % r.status_code)
        except Exception as e:  # a failed call is a result, by kind
            tally.end(type(e).__name__)

    threads = []
    for _ in range(args.n):
        t = threading.Thread(target=call, daemon=True)
        try:
            t.start()
        except RuntimeError:  # "can't start new thread"
            with tally.lock:
                tally.errors["thread_start"] += 1
            continue
        threads.append(t)
    go.set()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))


def run_async(args, url, tally, deadline):
    import aiohttp

    async def main():
        connector = aiohttp.TCPConnector(limit=args.limit)
        timeout = aiohttp.ClientTimeout(total=args.timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

            async def call():
                tally.start()
                try:
                    async with session.get(url) as r:
                        await r.read()
                        tally.end(None if r.status == 200 else "status_%d" % r.status)
                except Exception as e:  # a failed call is a result, by kind
                    tally.end(type(e).__name__)

            tasks = [asyncio.ensure_future(call()) for _ in range(args.n)]
            await asyncio.wait(tasks, timeout=max(0.0, deadline - time.monotonic()))

    asyncio.run(main())


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--client", choices=("threads", "async"), required=True)
    p.add_argument("-n", type=int, required=True, help="concurrent calls to make (1..20000)")
    p.add_argument("--ms", type=int, default=2000, help="the dependency's wait per call (0..10000)")
    p.add_argument("--dependency", required=True, help="host:port of the dependency")
    p.add_argument("--limit", type=int, default=0, help="async: aiohttp connector limit (0: none; aiohttp's default 100)")
    p.add_argument("--timeout", type=float, default=15, help="seconds per call")
    p.add_argument("--deadline", type=float, default=60, help="seconds for the whole run, then report and exit")
    args = p.parse_args(argv)
    if not 1 <= args.n <= 20000 or not 0 <= args.ms <= 10000 or args.limit < 0 or not 0 < args.deadline <= 600:
        p.error("out of range: -n 1..20000, --ms 0..10000, --limit >= 0, --deadline (0, 600]")
    host, _, port = args.dependency.rpartition(":")
    if not host or not port.isdigit():
        p.error("--dependency must be host:port")

    url = "http://%s/io?ms=%d" % (args.dependency, args.ms)
    tally = Tally()
    sampler = Sampler(int(port))
    sampler.start()
    start = time.monotonic()
    deadline = start + args.deadline
    (run_threads if args.client == "threads" else run_async)(args, url, tally, deadline)
    elapsed = time.monotonic() - start
    sampler.stop.set()
    sampler.join()
    sampler.sample()
    threads_now, hwm = own_status()
    with tally.lock:
        out = {
            "client": "threads (requests, one thread per call)" if args.client == "threads" else "async (aiohttp, one loop)",
            "wanted": args.n,
            "ms": args.ms,
            "held_max": sampler.held_max,
            "in_flight_max": tally.in_flight_max,
            "ok": tally.ok,
            "errors": dict(tally.errors),
            "unfinished": args.n - tally.done - tally.errors["thread_start"],
            "elapsed_s": round(elapsed, 3),
            "rss_peak_bytes": hwm,
            "threads_peak": max(sampler.threads_peak, threads_now),
            "limit": args.limit if args.client == "async" else None,
            "timeout_s": args.timeout,
            "deadline_s": args.deadline,
        }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()
    os._exit(0)  # daemon threads still blocked past the deadline must not hold the exit


if __name__ == "__main__":
    main(sys.argv[1:])

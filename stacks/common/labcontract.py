"""The lab's endpoint contract for the Python stacks.

The one copy of the contract is Go's internal/contract; this module mirrors
it for the Django and FastAPI apps, byte for byte: the bounds, the bodies,
the /cpu SHA-256 chain and the error messages. It holds no mutable state and
imports no web framework, so every app (sync or async) shares it.

Fan-out's dependency calls live in each app, in its own idiom (requests in
sync code, aiohttp in async code); this module only parses their parameters
and builds their answers.
"""

import hashlib
import json
import os

MAX_IO_MS = 10_000
MAX_CPU_WORK = 1_000_000
MIN_FANOUT_CALLS = 1
MAX_FANOUT_CALLS = 100

CONTENT_TYPE_TEXT = "text/plain; charset=utf-8"
CONTENT_TYPE_JSON = "application/json"
ALLOWED_METHODS = "GET, HEAD"

PLAINTEXT = b"Hello, World!"
JSON_BODY = b'{"message":"Hello, World!"}'

# The dependency (host:port, empty: none) and the bound on one call, from
# the environment the launcher sets (stacks/README.md).
DEPENDENCY = os.environ.get("LAB_DEPENDENCY", "")
DEPENDENCY_TIMEOUT_S = float(os.environ.get("LAB_DEPENDENCY_TIMEOUT", "15"))


class ContractError(Exception):
    """A refusal with the contract's status and {"error":"…"} body."""

    def __init__(self, status, msg):
        super().__init__(msg)
        self.status = status
        self.msg = msg

    def body(self):
        return error_body(self.msg)


def error_body(msg):
    return json.dumps({"error": msg}, separators=(",", ":")).encode()


# Refusals, as (status, message). Raise ContractError(*X): a fresh exception
# each time, since a raised instance carries its traceback along.
NOT_FOUND = (404, "not found")
METHOD = (405, "method not allowed: use GET or HEAD")
NO_DEPENDENCY = (503, "no dependency configured: start the server with -dependency host:port")
DEPENDENCY_FAILED = (502, "dependency call failed")
DEPENDENCY_TIMEOUT = (504, "dependency did not answer within the dependency timeout")

MSG_IO = "parameter ms must be an integer in [0, 10000]"
MSG_WORK = "parameter work must be an integer in [0, 1000000]"
MSG_CALLS = "parameter calls must be an integer in [1, 100]"
MSG_MODE = "parameter mode must be seq or par"
MSG_WAIT_LIST = ("parameter ms must be one integer or a comma-separated list of 1 to 100 integers, "
                 "each in [0, 10000]")
MSG_CALLS_MISMATCH = "parameter calls must equal the number of waits in ms"
MSG_CONN = "parameter conn must be keep or new"
MSG_MISSING = {
    "ms": "missing parameter ms",
    "work": "missing parameter work",
    "calls": "missing parameter calls",
    "mode": "missing parameter mode (seq or par)",
}
# What each parameter must be, for a framework's own validation errors.
MSG_BAD = {"ms": MSG_IO, "work": MSG_WORK, "calls": MSG_CALLS, "mode": MSG_MODE, "conn": MSG_CONN}


def bad(msg):
    return ContractError(400, msg)


def bounded(value, lo, hi):
    """Go's parseBounded: 1 to 9 ASCII digits, no sign, within [lo, hi]; else None."""
    if not value or len(value) > 9 or not (value.isascii() and value.isdigit()):
        return None
    n = int(value)
    return n if lo <= n <= hi else None


def io_ms(value):
    """/io's ms, or ContractError(400)."""
    if value is None:
        raise bad(MSG_MISSING["ms"])
    n = bounded(value, 0, MAX_IO_MS)
    if n is None:
        raise bad(MSG_IO)
    return n


def cpu_work(value):
    """/cpu's work, or ContractError(400)."""
    if value is None:
        raise bad(MSG_MISSING["work"])
    n = bounded(value, 0, MAX_CPU_WORK)
    if n is None:
        raise bad(MSG_WORK)
    return n


class Fanout:
    """A validated /fanout request: one wait per call, the mode and conn."""

    __slots__ = ("waits", "mode", "new_conn")

    def __init__(self, waits, mode, new_conn):
        self.waits = waits        # list of ms, one per call
        self.mode = mode          # "seq" or "par"
        self.new_conn = new_conn  # conn=new: a fresh connection per call


def fanout(calls, ms, mode, conn):
    """Validates /fanout's raw values (None when absent) in the order Go's
    parseFanout does, so the first error reported is the same."""
    n_calls = None
    if calls is not None:
        n_calls = bounded(calls, MIN_FANOUT_CALLS, MAX_FANOUT_CALLS)
        if n_calls is None:
            raise bad(MSG_CALLS)
    if ms is None:
        raise bad(MSG_MISSING["ms"])
    if "," not in ms:
        if n_calls is None:
            raise bad(MSG_MISSING["calls"])
        w = bounded(ms, 0, MAX_IO_MS)
        if w is None:
            raise bad(MSG_IO)
        waits = [w] * n_calls
    else:
        items = ms.split(",")
        if len(items) > MAX_FANOUT_CALLS:
            raise bad(MSG_WAIT_LIST)
        waits = [bounded(i, 0, MAX_IO_MS) for i in items]
        if None in waits:
            raise bad(MSG_WAIT_LIST)
        if n_calls is not None and n_calls != len(waits):
            raise bad(MSG_CALLS_MISMATCH)
    if mode is None:
        raise bad(MSG_MISSING["mode"])
    if mode not in ("seq", "par"):
        raise bad(MSG_MODE)
    if conn is not None and conn not in ("keep", "new"):
        raise bad(MSG_CONN)
    return Fanout(waits, mode, conn == "new")


def io_body(ms):
    return b'{"waited_ms":%d}' % ms


# The fixed 32-byte seed of the /cpu chain: SHA-256 of this phrase.
CPU_SEED = hashlib.sha256(b"server-model comparison lab /cpu seed").digest()


def cpu_digest(work):
    """work rounds of SHA-256 chained over the seed; work = 0 is the seed."""
    d = CPU_SEED
    sha256 = hashlib.sha256
    for _ in range(work):
        d = sha256(d).digest()
    return d


def cpu_body(work):
    return b'{"work":%d,"digest":"%s"}' % (work, cpu_digest(work).hex().encode())


def fanout_body(calls, mode, elapsed_s):
    """{"calls":K,"mode":"…","elapsed_ms":E}, E from whole microseconds, 3 decimals (as Go)."""
    us = int(elapsed_s * 1_000_000)
    return b'{"calls":%d,"mode":"%s","elapsed_ms":%.3f}' % (calls, mode.encode(), us / 1000)


def dependency_url(ms):
    """The URL of one fan-out call: the dependency's /io with this wait."""
    return "http://%s/io?ms=%d" % (DEPENDENCY, ms)

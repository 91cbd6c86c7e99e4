"""Fan-out's dependency calls for the Python stacks, in the two idioms the
lab compares: blocking calls with requests (sync code) and awaited calls with
aiohttp (async code). Each call is GET http://<dependency>/io?ms=N.

Errors follow the contract: a call that times out is 504, any other failure
(refused, reset, a non-200 answer) is 502, no dependency configured is 503.

Blocking (requests):
  - conn=keep: one requests.Session per thread (threading.local), so each
    request thread keeps its own keep-alive connection; mode=par runs the
    calls on a ThreadPoolExecutor made for the request (the sync idiom),
    sharing the request thread's Session (urllib3's pool is thread-safe).
  - conn=new: requests.get, which makes a Session, connects, and closes it.
  - The timeout (LAB_DEPENDENCY_TIMEOUT, 15 s) is requests' connect and
    read timeout: it bounds the connect and each read, not the whole call.
  - Go cancels the other calls of a par fan-out on the first failure; a
    blocking requests call cannot be cancelled, so here they run to their end.

Async (aiohttp):
  - One ClientSession per event loop for conn=keep, and one whose connector
    closes every connection (force_close) for conn=new.
  - TCPConnector(limit=0): no cap on connections. aiohttp's default cap is
    100 per session, which would hold a fan-out at c=400 to 100 calls at a
    time; stacks/clients/outbound.py measures that cap (-limit 100).
  - ClientTimeout(total=LAB_DEPENDENCY_TIMEOUT) bounds each call as a whole.
  - mode=par is asyncio.gather; on the first failure the other calls are
    cancelled, as Go's errgroup does.
"""

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import aiohttp
import requests

import labcontract as lab
from labcontract import ContractError

# ---- blocking: requests ------------------------------------------------

_local = threading.local()


def thread_session():
    """The calling thread's requests.Session (keep-alive), made at first use."""
    s = getattr(_local, "session", None)
    if s is None:
        s = _local.session = requests.Session()
    return s


def call_blocking(session, ms):
    """One blocking call; session None means a fresh connection (conn=new)."""
    get = session.get if session is not None else requests.get
    try:
        r = get(lab.dependency_url(ms), timeout=lab.DEPENDENCY_TIMEOUT_S)
    except requests.Timeout:
        raise ContractError(*lab.DEPENDENCY_TIMEOUT) from None
    except requests.RequestException:
        raise ContractError(*lab.DEPENDENCY_FAILED) from None
    if r.status_code != 200:
        raise ContractError(*lab.DEPENDENCY_FAILED)


def fanout_blocking(f):
    """Runs a validated fan-out with blocking calls; returns the body."""
    if not lab.DEPENDENCY:
        raise ContractError(*lab.NO_DEPENDENCY)
    session = None if f.new_conn else thread_session()
    start = time.perf_counter()
    if f.mode == "seq":
        for ms in f.waits:
            call_blocking(session, ms)
    else:
        with ThreadPoolExecutor(max_workers=len(f.waits)) as pool:
            for _ in pool.map(lambda ms: call_blocking(session, ms), f.waits):
                pass
    return lab.fanout_body(len(f.waits), f.mode, time.perf_counter() - start)


# ---- async: aiohttp -----------------------------------------------------


def new_session(new_conn=False):
    """An aiohttp session for the running loop (see the module doc)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, force_close=new_conn),
        timeout=aiohttp.ClientTimeout(total=lab.DEPENDENCY_TIMEOUT_S),
    )


class LoopSessions:
    """The two sessions (keep, new) of a process whose one event loop lives
    as long as the server (uvicorn). Made at first use, on that loop; only
    used from it. close() at shutdown."""

    def __init__(self):
        self._keep = None
        self._new = None

    def get(self, new_conn):
        if new_conn:
            if self._new is None:
                self._new = new_session(True)
            return self._new
        if self._keep is None:
            self._keep = new_session(False)
        return self._keep

    async def close(self):
        for s in (self._keep, self._new):
            if s is not None:
                await s.close()


async def call_async(session, ms):
    """One awaited call."""
    try:
        async with session.get(lab.dependency_url(ms)) as r:
            await r.read()
            status = r.status
    except asyncio.TimeoutError:
        raise ContractError(*lab.DEPENDENCY_TIMEOUT) from None
    except aiohttp.ClientError:
        raise ContractError(*lab.DEPENDENCY_FAILED) from None
    if status != 200:
        raise ContractError(*lab.DEPENDENCY_FAILED)


async def fanout_async(f, session):
    """Runs a validated fan-out with awaited calls on session; returns the body."""
    if not lab.DEPENDENCY:
        raise ContractError(*lab.NO_DEPENDENCY)
    start = time.perf_counter()
    if f.mode == "seq":
        for ms in f.waits:
            await call_async(session, ms)
    else:
        tasks = [asyncio.ensure_future(call_async(session, ms)) for ms in f.waits]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for t in tasks:
                t.cancel()
            raise
    return lab.fanout_body(len(f.waits), f.mode, time.perf_counter() - start)

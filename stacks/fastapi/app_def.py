"""FastAPI with def endpoints: FastAPI runs each one in anyio's worker
threads (run_in_threadpool), at most 40 at once (anyio's default
CapacityLimiter). Waits are time.sleep and fan-out is requests, blocking the
worker thread, never the loop.

Configuration fastapi-def:
  /usr/bin/python3 -m uvicorn app_def:app --app-dir stacks/fastapi \\
      --host 127.0.0.1 --port 8000 --loop uvloop --http httptools \\
      --no-access-log --log-level warning
"""

import time

from fastapi import Query

import labclient
import labcontract as lab
from common import create_app, json_response, route, text_response

app = create_app()


@route(app, "/plaintext")
def plaintext():
    return text_response(lab.PLAINTEXT)


@route(app, "/json")
def json_message():
    return json_response(lab.JSON_BODY)


@route(app, "/io")
def io(ms: int = Query(ge=0, le=lab.MAX_IO_MS)):
    time.sleep(ms / 1000)
    return json_response(lab.io_body(ms))


@route(app, "/cpu")
def cpu(work: int = Query(ge=0, le=lab.MAX_CPU_WORK)):
    return json_response(lab.cpu_body(work))


@route(app, "/fanout")
def fanout(calls: str = None, ms: str = None, mode: str = None, conn: str = None):
    f = lab.fanout(calls, ms, mode, conn)
    return json_response(labclient.fanout_blocking(f))

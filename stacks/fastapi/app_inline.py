"""The pitfall: async def endpoints that call blocking code. time.sleep and
requests run on the event loop itself, so while one request waits no other
request on this worker is served.

Configuration fastapi-inline:
  /usr/bin/python3 -m uvicorn app_inline:app --app-dir stacks/fastapi \\
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
async def plaintext():
    return text_response(lab.PLAINTEXT)


@route(app, "/json")
async def json_message():
    return json_response(lab.JSON_BODY)


@route(app, "/io")
async def io(ms: int = Query(ge=0, le=lab.MAX_IO_MS)):
    time.sleep(ms / 1000)  # blocks the loop
    return json_response(lab.io_body(ms))


@route(app, "/cpu")
async def cpu(work: int = Query(ge=0, le=lab.MAX_CPU_WORK)):
    return json_response(lab.cpu_body(work))


@route(app, "/fanout")
async def fanout(calls: str = None, ms: str = None, mode: str = None, conn: str = None):
    f = lab.fanout(calls, ms, mode, conn)
    return json_response(labclient.fanout_blocking(f))  # blocks the loop

"""FastAPI with async def and await: waits are asyncio.sleep, fan-out is
aiohttp on the one event loop (stacks/common/labclient.py). /cpu runs on the
loop, as any CPU work in async def does.

Configurations fastapi-async (1 worker) and uvicorn-workers-2:
  /usr/bin/python3 -m uvicorn app_async:app --app-dir stacks/fastapi \\
      --host 127.0.0.1 --port 8000 --loop uvloop --http httptools \\
      --no-access-log --log-level warning [--workers 2]
"""

import asyncio

from fastapi import Query

import labclient
import labcontract as lab
from common import create_app, json_response, route, text_response

app = create_app()
sessions = labclient.LoopSessions()  # this worker's aiohttp sessions, on its loop


@app.on_event("shutdown")
async def close_sessions():
    await sessions.close()


@route(app, "/plaintext")
async def plaintext():
    return text_response(lab.PLAINTEXT)


@route(app, "/json")
async def json_message():
    return json_response(lab.JSON_BODY)


@route(app, "/io")
async def io(ms: int = Query(ge=0, le=lab.MAX_IO_MS)):
    await asyncio.sleep(ms / 1000)
    return json_response(lab.io_body(ms))


@route(app, "/cpu")
async def cpu(work: int = Query(ge=0, le=lab.MAX_CPU_WORK)):
    return json_response(lab.cpu_body(work))


@route(app, "/fanout")
async def fanout(calls: str = None, ms: str = None, mode: str = None, conn: str = None):
    f = lab.fanout(calls, ms, mode, conn)
    return json_response(await labclient.fanout_async(f, sessions.get(f.new_conn)))

"""Async views: async def with await (asyncio.sleep, aiohttp gather).

On ASGI (uvicorn) they run on the server's one event loop and share one
aiohttp session per process. On WSGI (gunicorn) Django runs each one with
async_to_sync: a new event loop per request, in a thread made for it, so the
aiohttp session lives for one request only (a session cannot outlive its
loop) and every request opens its own connections to the dependency."""

import asyncio

from django.core.handlers.asgi import ASGIRequest

import labclient
import labcontract as lab

from .contract import contract_view, json_response, text_response

# The ASGI process's sessions, on its one loop (made at first use).
_sessions = labclient.LoopSessions()


@contract_view
async def plaintext(request):
    return text_response(lab.PLAINTEXT)


@contract_view
async def json_message(request):
    return json_response(lab.JSON_BODY)


@contract_view
async def io(request):
    ms = lab.io_ms(request.GET.get("ms"))
    await asyncio.sleep(ms / 1000)
    return json_response(lab.io_body(ms))


@contract_view
async def cpu(request):
    return json_response(lab.cpu_body(lab.cpu_work(request.GET.get("work"))))


@contract_view
async def fanout(request):
    q = request.GET
    f = lab.fanout(q.get("calls"), q.get("ms"), q.get("mode"), q.get("conn"))
    if isinstance(request, ASGIRequest):
        body = await labclient.fanout_async(f, _sessions.get(f.new_conn))
    else:  # WSGI: this request's own loop, so its own session
        async with labclient.new_session(f.new_conn) as session:
            body = await labclient.fanout_async(f, session)
    return json_response(body)

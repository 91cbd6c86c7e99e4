"""Sync views: the code Django developers write by default. A wait blocks
the worker thread (time.sleep, like a DB call); fan-out makes blocking calls
with requests (stacks/common/labclient.py).

On gunicorn gthread each request has a thread of its own. On ASGI (uvicorn)
Django runs each of these views through sync_to_async(thread_sensitive=True):
all of them on one shared thread (stacks/README.md, "thread_sensitive")."""

import time

import labclient
import labcontract as lab

from .contract import contract_view, json_response, text_response


@contract_view
def plaintext(request):
    return text_response(lab.PLAINTEXT)


@contract_view
def json_message(request):
    return json_response(lab.JSON_BODY)


@contract_view
def io(request):
    ms = lab.io_ms(request.GET.get("ms"))
    time.sleep(ms / 1000)
    return json_response(lab.io_body(ms))


@contract_view
def cpu(request):
    return json_response(lab.cpu_body(lab.cpu_work(request.GET.get("work"))))


@contract_view
def fanout(request):
    q = request.GET
    f = lab.fanout(q.get("calls"), q.get("ms"), q.get("mode"), q.get("conn"))
    return json_response(labclient.fanout_blocking(f))

"""The contract's answers in Django: bodies as bytes from labcontract, the
400/404/405 JSON errors, and one decorator for sync and async views."""

import asyncio
import functools

from django.http import HttpResponse

import labcontract as lab


def text_response(body):
    return _sized(HttpResponse(body, content_type=lab.CONTENT_TYPE_TEXT))


def json_response(body, status=200):
    return _sized(HttpResponse(body, status=status, content_type=lab.CONTENT_TYPE_JSON))


def _sized(r):
    # What CommonMiddleware would add; without it gunicorn sends chunked.
    r["Content-Length"] = str(len(r.content))
    return r


def error_response(status, msg):
    r = json_response(lab.error_body(msg), status)
    if status == 405:
        r["Allow"] = lab.ALLOWED_METHODS
    return r


def not_found(request, exception=None):
    """handler404: the contract's JSON 404 instead of Django's HTML page."""
    return error_response(*lab.NOT_FOUND)


def contract_view(view):
    """Allows GET and HEAD only (405 JSON with Allow otherwise) and turns a
    ContractError into its JSON answer. Keeps a coroutine view a coroutine,
    so Django still runs it as an async view."""
    if asyncio.iscoroutinefunction(view):

        @functools.wraps(view)
        async def wrapper(request):
            if request.method not in ("GET", "HEAD"):
                return error_response(*lab.METHOD)
            try:
                return await view(request)
            except lab.ContractError as e:
                return error_response(e.status, e.msg)

    else:

        @functools.wraps(view)
        def wrapper(request):
            if request.method not in ("GET", "HEAD"):
                return error_response(*lab.METHOD)
            try:
                return view(request)
            except lab.ContractError as e:
                return error_response(e.status, e.msg)

    return wrapper

"""What the three FastAPI apps share: the app with the contract's errors,
GET+HEAD routes, and the response helpers. Each app_*.py shows only its
handler style.

Errors: FastAPI's own validation (typed query parameters) answers 422 with
its own body; the handler here turns it into the contract's 400 and message.
Starlette's 404 and 405 become the contract's JSON too. What differs from Go:
FastAPI decodes the query and takes the last of repeated keys, and pydantic
accepts what Python's int() accepts (" 5", "+5", "5_000"); Go refuses those.
"""

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, Response
from starlette.exceptions import HTTPException

import labcontract as lab


def text_response(body):
    return PlainTextResponse(body)


def json_response(body, status=200):
    return Response(body, status_code=status, media_type=lab.CONTENT_TYPE_JSON)


def error_response(status, msg):
    r = json_response(lab.error_body(msg), status)
    if status == 405:
        r.headers["Allow"] = lab.ALLOWED_METHODS
    return r


def create_app():
    """A FastAPI app without the docs routes, answering errors as the contract does."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.exception_handler(lab.ContractError)
    async def contract_error(request, exc):
        return error_response(exc.status, exc.msg)

    @app.exception_handler(RequestValidationError)
    async def invalid_parameter(request, exc):
        first = exc.errors()[0]
        name = first["loc"][-1]
        if first["type"] == "value_error.missing":
            return error_response(400, lab.MSG_MISSING[name])
        return error_response(400, lab.MSG_BAD[name])

    @app.exception_handler(HTTPException)
    async def http_error(request, exc):
        if exc.status_code == 404:
            return error_response(*lab.NOT_FOUND)
        if exc.status_code == 405:
            return error_response(*lab.METHOD)
        return error_response(exc.status_code, str(exc.detail))

    return app


def route(app, path):
    """@app.get, with HEAD: FastAPI's get() answers HEAD with 405."""
    return app.api_route(path, methods=["GET", "HEAD"])

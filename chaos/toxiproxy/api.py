"""The HTTP API's routes: a request's method, path and body in, a response out.

Status codes, JSON shapes and error bodies follow the real server's ``api.go``.
Handlers run in the HTTP server's threads and hand the work to the registry on the
event loop.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import re
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from duetime.chaos.toxiproxy.errors import ApiError, ListenError
from duetime.chaos.toxiproxy.loop import LoopThread
from duetime.chaos.toxiproxy.registry import Registry

T = TypeVar("T")
log = logging.getLogger(__name__)

VERSION = "2.6.0+duetime"  # the API level followed (PATCH updates), plus who serves it
HANDLER_TIMEOUT_S = 25.0  # the real server's http.TimeoutHandler
JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def json_response(value: object, status: int = HTTPStatus.OK) -> Response:
    body = json.dumps(value, separators=(",", ":")).encode()
    return Response(status, body, (("Content-Type", JSON_TYPE),))


def error_response(error: ApiError) -> Response:
    # Go's http.Error: the JSON as text/plain with a newline.
    body = json.dumps(error.to_json(), separators=(",", ":")).encode() + b"\n"
    return Response(
        error.status,
        body,
        (("Content-Type", TEXT_TYPE), ("X-Content-Type-Options", "nosniff")),
    )


Handler = Callable[[dict[str, str], bytes], Response]


class Api:
    """Routes requests to the registry."""

    def __init__(self, registry: Registry, loop: LoopThread) -> None:
        self._registry = registry
        self._loop = loop
        self._routes: tuple[tuple[re.Pattern[str], dict[str, Handler]], ...] = (
            (re.compile(r"/reset"), {"POST": self._reset}),
            (re.compile(r"/proxies"), {"GET": self._proxy_index, "POST": self._proxy_create}),
            (re.compile(r"/populate"), {"POST": self._populate}),
            (
                re.compile(r"/proxies/(?P<proxy>[^/]+)"),
                {
                    "GET": self._proxy_show,
                    "POST": self._proxy_update,
                    "PATCH": self._proxy_update,
                    "DELETE": self._proxy_delete,
                },
            ),
            (
                re.compile(r"/proxies/(?P<proxy>[^/]+)/toxics"),
                {"GET": self._toxic_index, "POST": self._toxic_create},
            ),
            (
                re.compile(r"/proxies/(?P<proxy>[^/]+)/toxics/(?P<toxic>[^/]+)"),
                {
                    "GET": self._toxic_show,
                    "POST": self._toxic_update,
                    "PATCH": self._toxic_update,
                    "DELETE": self._toxic_delete,
                },
            ),
            (re.compile(r"/version"), {"GET": self._version}),
        )

    def dispatch(self, method: str, target: str, user_agent: str, body: bytes) -> Response:
        """Answer one request; ``target`` is the request line's path and query."""
        path = unquote(urlsplit(target).path)
        for pattern, methods in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            handler = methods.get(method)
            if handler is None:
                return Response(HTTPStatus.METHOD_NOT_ALLOWED)
            if user_agent.startswith("Mozilla/"):
                return Response(
                    HTTPStatus.FORBIDDEN,
                    b"User agent not allowed\n",
                    (("Content-Type", TEXT_TYPE),),
                )
            response = self._answer(handler, match.groupdict(), body)
            request_id = ("X-Toxiproxy-Request-Id", secrets.token_hex(10))
            return Response(response.status, response.body, (*response.headers, request_id))
        return Response(
            HTTPStatus.NOT_FOUND, b"404 page not found\n", (("Content-Type", TEXT_TYPE),)
        )

    @staticmethod
    def _answer(handler: Handler, params: dict[str, str], body: bytes) -> Response:
        try:
            return handler(params, body)
        except ApiError as exc:
            return error_response(exc)
        except ListenError as exc:
            return error_response(ApiError(str(exc), HTTPStatus.INTERNAL_SERVER_ERROR))
        except concurrent.futures.TimeoutError:
            return Response(HTTPStatus.SERVICE_UNAVAILABLE)
        except Exception as exc:  # the real server answers 500 for any error without a status
            log.exception("API handler failed")
            return error_response(ApiError(str(exc), HTTPStatus.INTERNAL_SERVER_ERROR))

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self._loop.run(coroutine, HANDLER_TIMEOUT_S)

    def _version(self, params: dict[str, str], body: bytes) -> Response:
        text = f'{{"version": {json.dumps(VERSION)}}}\n'
        return Response(
            HTTPStatus.OK, text.encode(), (("Content-Type", f"{JSON_TYPE};charset=utf-8"),)
        )

    def _reset(self, params: dict[str, str], body: bytes) -> Response:
        self._run(self._registry.reset())
        return Response(HTTPStatus.NO_CONTENT)

    def _proxy_index(self, params: dict[str, str], body: bytes) -> Response:
        return json_response(self._run(self._registry.proxies()))

    def _proxy_create(self, params: dict[str, str], body: bytes) -> Response:
        created = self._run(self._registry.create_proxy(body))
        return json_response(created, HTTPStatus.CREATED)

    def _populate(self, params: dict[str, str], body: bytes) -> Response:
        result = self._run(self._registry.populate(body))
        listed: object = result.proxies or None  # Go marshals an empty list as null here
        if result.error is None:
            return json_response({"proxies": listed}, HTTPStatus.CREATED)
        return json_response({**result.error.to_json(), "proxies": listed}, result.error.status)

    def _proxy_show(self, params: dict[str, str], body: bytes) -> Response:
        return json_response(self._run(self._registry.proxy(params["proxy"])))

    def _proxy_update(self, params: dict[str, str], body: bytes) -> Response:
        return json_response(self._run(self._registry.update_proxy(params["proxy"], body)))

    def _proxy_delete(self, params: dict[str, str], body: bytes) -> Response:
        self._run(self._registry.delete_proxy(params["proxy"]))
        return Response(HTTPStatus.NO_CONTENT)

    def _toxic_index(self, params: dict[str, str], body: bytes) -> Response:
        return json_response(self._run(self._registry.toxics(params["proxy"])))

    def _toxic_create(self, params: dict[str, str], body: bytes) -> Response:
        return json_response(self._run(self._registry.add_toxic(params["proxy"], body)))

    def _toxic_show(self, params: dict[str, str], body: bytes) -> Response:
        return json_response(self._run(self._registry.toxic(params["proxy"], params["toxic"])))

    def _toxic_update(self, params: dict[str, str], body: bytes) -> Response:
        updated = self._registry.update_toxic(params["proxy"], params["toxic"], body)
        return json_response(self._run(updated))

    def _toxic_delete(self, params: dict[str, str], body: bytes) -> Response:
        self._run(self._registry.delete_toxic(params["proxy"], params["toxic"]))
        return Response(HTTPStatus.NO_CONTENT)

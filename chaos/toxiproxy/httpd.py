"""HTTP/1.1 transport of the API on the standard library's threading HTTP server."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from duetime.chaos.toxiproxy.api import Api

log = logging.getLogger(__name__)

IDLE_TIMEOUT_S = 60.0  # the real server's IdleTimeout for keep-alive connections


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_S
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: ApiHttpServer

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            self.send_error(400, "malformed body")
            return
        response = self.server.api.dispatch(
            self.command, self.path, self.headers.get("User-Agent", ""), body
        )
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        if response.status not in (204, 304):
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():
                pass  # trailers
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class ApiHttpServer(ThreadingHTTPServer):
    """Serves ``api``; ``close()`` also ends keep-alive connections and joins their threads.

    Request threads are daemons so a server never stopped cannot hold the interpreter
    open; ``close()`` joins them itself.
    """

    daemon_threads = True

    def __init__(self, address: tuple[str, int], api: Api) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.api = api
        self._open: dict[socket.socket, threading.Thread] = {}
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open[request] = threading.current_thread()
        try:
            super().finish_request(request, client_address)
        finally:
            with self._open_lock:
                self._open.pop(request, None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("HTTP connection from %s failed", client_address, exc_info=True)

    def close(self) -> None:
        """After ``shutdown()``: end open connections, join their threads, close the socket."""
        with self._open_lock:
            open_now = dict(self._open)
        for sock in open_now:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in open_now.values():
            thread.join()
        self.server_close()

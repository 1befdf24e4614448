"""A TCP proxy to Redis that loses the reply to one command: the command runs, the client
sees its connection drop, and redis-py's ``Retry`` sends the command again."""

from __future__ import annotations

import contextlib
import socket
import threading


class ReplyDropper:
    """Relays client connections to Redis. Once ``arm(marker)``ed, the next client packet
    holding ``marker`` (e.g. a script's SHA) is forwarded to Redis; when Redis's reply
    comes, the client's socket is closed instead, so the command certainly ran and its
    reply is certainly lost. Later packets and connections are relayed untouched."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.marker: bytes | None = None
        self.dropped = threading.Event()
        self.sockets: list[socket.socket] = [self.listener]
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def arm(self, marker: bytes) -> None:
        with self._lock:
            self.marker = marker
            self.dropped.clear()

    def close(self) -> None:
        for s in self.sockets:
            s.close()

    def _accept(self) -> None:
        while True:
            try:
                down, _ = self.listener.accept()
            except OSError:
                return
            up = socket.create_connection(self.target)
            self.sockets += [down, up]
            dropping = threading.Event()
            threading.Thread(target=self._to_redis, args=(down, up, dropping), daemon=True).start()
            threading.Thread(target=self._to_client, args=(up, down, dropping), daemon=True).start()

    def _to_redis(self, down: socket.socket, up: socket.socket, dropping: threading.Event) -> None:
        try:
            while chunk := down.recv(65536):
                with self._lock:
                    if self.marker is not None and self.marker in chunk:
                        self.marker = None
                        dropping.set()  # before Redis can answer: no reply may get through
                up.sendall(chunk)
        except OSError:
            pass

    def _to_client(self, up: socket.socket, down: socket.socket, dropping: threading.Event) -> None:
        try:
            while chunk := up.recv(65536):
                if dropping.is_set():
                    break  # the reply: Redis ran the command; the client never hears of it
                down.sendall(chunk)
        except OSError:
            pass
        if dropping.is_set():
            self.dropped.set()
        for s in (up, down):
            # shutdown, not just close: the other relay thread may be blocked reading it.
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

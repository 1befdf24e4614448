"""A tiny TCP proxy that loses the reply to one command (EXEC by default): the command is
applied, the client only sees its connection drop (for the lost-reply tests of the designs)."""

from __future__ import annotations

import socket
import threading


class ExecReplyDropper:
    """A TCP proxy to Redis. Once ``arm()``ed, the next client packet that holds EXEC
    is forwarded to Redis, and then the client's socket is closed before any reply
    reaches it; the proxy still reads Redis's replies up to the EXEC reply, so the
    transaction is certainly applied. Later connections are relayed untouched."""

    def __init__(
        self, host: str, port: int, command: bytes = b"EXEC", reply: bytes = b"*2\r\n"
    ) -> None:
        """``command``: what the dropped packet holds; ``reply``: what marks its reply."""
        self.target = (host, port)
        self.command, self.reply = command, reply
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.armed = threading.Event()
        self.dropped = threading.Event()
        self.sockets: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self) -> None:
        self.armed.set()

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
                if self.armed.is_set() and self.command in chunk:
                    self.armed.clear()
                    dropping.set()  # before Redis can answer: no reply may get through
                up.sendall(chunk)
        except OSError:
            pass

    def _to_client(self, up: socket.socket, down: socket.socket, dropping: threading.Event) -> None:
        seen = b""
        try:
            while chunk := up.recv(65536):
                if not dropping.is_set():
                    down.sendall(chunk)
                    continue
                if not self.dropped.is_set():
                    # Set first: the client may see its socket close before the next line.
                    self.dropped.set()
                    down.shutdown(socket.SHUT_RDWR)
                seen += chunk
                if self.reply in seen:  # the command's reply has passed: it was applied
                    break
        except OSError:
            pass
        up.close()
        down.close()

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def close(self) -> None:
        for s in self.sockets:
            s.close()

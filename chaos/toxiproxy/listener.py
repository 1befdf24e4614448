"""A proxy's listening socket, accepted from by the proxy itself rather than by asyncio.

asyncio's ``Server`` accepts a client in one loop step and builds its transport in a
later task; a ``Server.close()`` in between makes that build fail an assertion, which
asyncio swallows, and the accepted socket stays open until garbage collection (CPython
3.11). Here every accepted socket goes to ``on_client`` in the same callback as the
``accept()``, so it always has an owner; after ``close()`` nothing more is accepted.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable

log = logging.getLogger(__name__)

ACCEPT_BATCH = 100  # accepts per readiness callback, as asyncio does, so others get a turn
OUT_OF_FDS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
RETRY_DELAY_S = 1.0  # after running out of descriptors; the socket stays readable meanwhile


class Listener:
    """Accepts on a non-blocking listening socket while open; ``on_client`` owns each client."""

    def __init__(self, sock: socket.socket, on_client: Callable[[socket.socket], None]) -> None:
        self._sock = sock
        self._on_client = on_client
        self._loop = asyncio.get_running_loop()
        self._closed = False
        self._loop.add_reader(sock.fileno(), self._accept_ready)

    def close(self) -> None:
        """Stop accepting and close the socket; clients still in its backlog get an RST."""
        if self._closed:
            return
        self._closed = True
        self._loop.remove_reader(self._sock.fileno())
        self._sock.close()

    def _accept_ready(self) -> None:
        for _ in range(ACCEPT_BATCH):
            if self._closed:
                return
            try:
                client, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno not in OUT_OF_FDS:
                    raise
                log.warning("listener %s: cannot accept: %s", self._sock.getsockname(), exc)
                self._loop.remove_reader(self._sock.fileno())
                self._loop.call_later(RETRY_DELAY_S, self._resume)
                return
            client.setblocking(False)
            self._on_client(client)

    def _resume(self) -> None:
        if not self._closed:
            self._loop.add_reader(self._sock.fileno(), self._accept_ready)

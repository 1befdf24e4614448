"""Chunks of a TCP stream and the bounded, closable pipes that carry them between stages."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Chunk:
    """Bytes read from a socket at ``timestamp`` (``time.monotonic()``)."""

    data: bytes
    timestamp: float


class Pipe:
    """A FIFO of chunks between two coroutines of one event loop.

    ``put`` waits while ``capacity`` chunks are queued (backpressure up to the socket).
    The writer ends the stream with ``finish()``; after the queued chunks the reader
    gets None. A reader that goes away calls ``abandon()``: queued and later chunks are
    dropped and writers never block again, so nothing waits on a stage that stopped.
    """

    def __init__(self, capacity: int = 1) -> None:
        self._items: deque[Chunk] = deque()
        self._capacity = max(1, capacity)
        self._finished = False
        self._abandoned = False
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def finished(self) -> bool:
        return self._finished

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _changed(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        await waiter

    async def put(self, chunk: Chunk) -> None:
        """Queue ``chunk``; if cancelled while waiting, the chunk was not queued."""
        while not self._abandoned and len(self._items) >= self._capacity:
            await self._changed()
        if self._abandoned or self._finished:
            return
        self._items.append(chunk)
        self._notify()

    async def get(self) -> Chunk | None:
        """The next chunk, or None once the stream is finished and drained."""
        while not self._items and not self._finished:
            await self._changed()
        if not self._items:
            return None
        chunk = self._items.popleft()
        self._notify()
        return chunk

    def finish(self) -> None:
        self._finished = True
        self._notify()

    def abandon(self) -> None:
        self._abandoned = True
        self._items.clear()
        self._notify()

    def take_all(self) -> list[Chunk]:
        """Remove and return every queued chunk, oldest first."""
        items = list(self._items)
        self._items.clear()
        self._notify()
        return items

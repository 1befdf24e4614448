"""One direction of one proxied connection: a socket reader, a chain of stages, a writer.

Stage 0 always passes data through, so a toxic can be added behind it on a live
link. Chain changes pause the stages they touch (cancelling their task), splice
pipes, hand on the unforwarded rest of each paused stage's chunk, and restart them,
which draws their toxicity again.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence

from duetime.chaos.toxiproxy.pipe import Chunk, Pipe
from duetime.chaos.toxiproxy.spec import Direction, ToxicSpec
from duetime.chaos.toxiproxy.toxics import Noop, Toxic

log = logging.getLogger(__name__)

READ_SIZE = 32 * 1024  # what Go's io.Copy reads at a time
PASS_THROUGH = Noop()


class Stage:
    """One toxic of one link, between an input and an output pipe (implements StageIO)."""

    def __init__(self, link: Link, spec: ToxicSpec | None, input: Pipe, output: Pipe) -> None:
        self.spec = spec  # None for the hidden pass-through stage 0
        self.input = input
        self.output = output
        self.rng = link.rng
        self.state = spec.toxic.new_state() if spec else None
        self._link = link
        self._closed = False
        self._ended = False
        self._hand: Chunk | None = None
        self._offset = 0
        self._task: asyncio.Task[None] | None = None
        self._timers: set[asyncio.Task[None]] = set()

    @property
    def toxic(self) -> Toxic:
        return self.spec.toxic if self.spec else PASS_THROUGH

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def remaining(self) -> int:
        return len(self._hand.data) - self._offset if self._hand else 0

    def start(self) -> None:
        """Run the toxic, or pass data through if this run's toxicity draw spares it."""
        if self._closed or self._link.dead:
            return
        toxic = self.toxic
        if self.spec is not None and not self.rng.random() < self.spec.toxicity:
            toxic = PASS_THROUGH
        self._task = asyncio.get_running_loop().create_task(self._run(toxic))

    async def _run(self, toxic: Toxic) -> None:
        try:
            await toxic.run(self)
        except Exception:
            log.exception("toxic %s failed; closing the link", self.spec.name if self.spec else "")
            self.close()

    async def pause(self) -> bool:
        """Stop the running toxic; False if the stage is closed (it cannot be resumed)."""
        task, self._task = self._task, None
        if self._closed or task is None:
            return False
        task.cancel()
        await asyncio.wait({task})
        return not self._closed and not self._link.dead

    def take_leftover(self) -> Chunk | None:
        """The part of the chunk in hand the paused toxic had not forwarded yet."""
        hand, self._hand = self._hand, None
        if hand is None or self._offset >= len(hand.data):
            return None
        return Chunk(hand.data[self._offset :], hand.timestamp)

    async def receive(self) -> Chunk | None:
        self._hand = None
        if self._closed or self._ended:
            return None
        chunk = await self.input.get()
        if chunk is None:
            self._ended = True  # sticky, like a closed Go channel
            return None
        self._hand, self._offset = chunk, 0
        return chunk

    async def forward(self, size: int | None = None, *, timestamp: float | None = None) -> None:
        hand = self._hand
        if hand is None:
            return
        end = len(hand.data) if size is None else min(len(hand.data), self._offset + size)
        if end <= self._offset:
            return
        stamp = hand.timestamp if timestamp is None else timestamp
        await self.output.put(Chunk(hand.data[self._offset : end], stamp))
        self._offset = end

    def drop(self) -> None:
        if self._hand is not None:
            self._offset = len(self._hand.data)

    def close(self, *, reset: bool = False) -> None:
        if self._closed:
            return
        self._closed = True
        if reset:
            self._link.request_reset()
        self._hand = None
        self.output.finish()
        self.input.abandon()
        self.cancel()

    def close_later(self, delay: float, *, reset: bool = False) -> None:
        async def later() -> None:
            await asyncio.sleep(delay)
            self.close(reset=reset)

        timer = asyncio.get_running_loop().create_task(later())
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)

    async def idle(self) -> None:
        await asyncio.get_running_loop().create_future()

    @property
    def has_timers(self) -> bool:
        return bool(self._timers)

    def cancel(self) -> None:
        """Cancel the toxic's task and timers (except the caller's own task)."""
        current = asyncio.current_task()
        for task in [self._task, *self._timers]:
            if task is not None and task is not current:
                task.cancel()


class Link:
    """Copies one socket's bytes to another through the toxics of one direction."""

    def __init__(
        self,
        direction: Direction,
        specs: Sequence[ToxicSpec],
        source: asyncio.StreamReader,
        dest: asyncio.StreamWriter,
        *,
        rng: random.Random,
        on_reset: Callable[[], None],
        on_finished: Callable[[Link], None],
    ) -> None:
        self.direction = direction
        self.rng = rng
        self.dead = False
        self._source = source
        self._dest = dest
        self._on_reset = on_reset
        self._on_finished = on_finished
        self._first = Pipe()
        self._stages: list[Stage] = []
        upstream_pipe = self._first
        chain: list[ToxicSpec | None] = [None, *specs]
        for i, spec in enumerate(chain):
            following = chain[i + 1] if i + 1 < len(chain) else None
            out = Pipe(following.toxic.buffer_size if following else 1)
            self._stages.append(Stage(self, spec, upstream_pipe, out))
            upstream_pipe = out
        self._last = upstream_pipe
        self._retired: list[Stage] = []  # removed stages whose close timer still runs
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def dest(self) -> asyncio.StreamWriter:
        return self._dest

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = {loop.create_task(self._read()), loop.create_task(self._write())}
        for stage in self._stages:
            stage.start()

    def request_reset(self) -> None:
        self._on_reset()

    async def _read(self) -> None:
        try:
            while data := await self._source.read(READ_SIZE):
                await self._first.put(Chunk(data, time.monotonic()))
        except OSError:
            pass  # a reset source ends the stream like a close
        finally:
            self._first.finish()

    async def _write(self) -> None:
        try:
            while (chunk := await self._last.get()) is not None:
                self._dest.write(chunk.data)
                await self._dest.drain()
        except OSError:
            pass  # the destination is gone; the connection closes either way
        finally:
            self._last.abandon()
            if not self.dead:
                self._on_finished(self)

    async def append(self, spec: ToxicSpec) -> None:
        """Add ``spec`` at the end of the chain (the real server always appends)."""
        last = self._stages[-1]
        stage = Stage(self, spec, Pipe(spec.toxic.buffer_size), last.output)
        if not await last.pause():
            stage.close()  # the link is already ending: keep indexes aligned with the chain
            self._stages.append(stage)
            return
        leftover = last.take_leftover()
        if leftover is not None:
            await last.output.put(leftover)
        last.output = stage.input
        self._stages.append(stage)
        stage.start()
        last.start()

    async def update(self, index: int, spec: ToxicSpec) -> None:
        """Replace the toxic of stage ``index``, keeping its per-connection state."""
        stage = self._stages[index]
        paused = await stage.pause()
        stage.spec = spec
        if paused:
            leftover = stage.take_leftover()
            if leftover is not None:
                await stage.output.put(leftover)
            stage.start()

    async def remove(self, index: int) -> None:
        """Take stage ``index`` out and join its neighbours, passing on what it held."""
        stage, before = self._stages[index], self._stages[index - 1]
        if not await stage.pause():
            del self._stages[index]
            return
        stage.toxic.on_removed(stage)
        if stage.closed:
            del self._stages[index]
            return
        leftover = stage.take_leftover()
        if leftover is not None:
            await stage.output.put(leftover)
        before_paused = await before.pause()
        before_leftover = before.take_leftover() if before_paused else None
        for chunk in stage.input.take_all():
            await stage.output.put(chunk)
        if before_leftover is not None:
            await stage.output.put(before_leftover)
        del self._stages[index]
        if stage.has_timers:
            self._retired.append(stage)
        if before_paused:
            before.output = stage.output
            before.start()
        elif stage.input.finished:
            stage.output.finish()

    def kill(self) -> None:
        """Stop every task of the link at once; nothing more is read or written."""
        self.dead = True
        for stage in [*self._stages, *self._retired]:
            stage.cancel()
            stage.input.abandon()
        self._last.abandon()
        for task in self._tasks:
            task.cancel()

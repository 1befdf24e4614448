"""The toxic types: what each does to the chunks of one direction of one connection.

A toxic is a frozen set of attributes. A link runs it on a *stage* (see ``StageIO``)
chunk by chunk: ``on_chunk`` forwards, delays, slices or drops the chunk in hand,
``on_end`` runs when the source has ended. Toxics that act on time rather than on
chunks (``timeout``, ``reset_peer``, ``bandwidth``) override ``run`` instead. When the
chain changes, the stage's task is cancelled at whatever it awaits; whatever part of
the chunk in hand it has not forwarded yet is passed on unchanged, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from types import MappingProxyType
from typing import ClassVar, Protocol

from duetime.chaos.toxiproxy.pipe import Chunk

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
BANDWIDTH_TICK_S = 0.1  # the real toxic sends oversized chunks in 100 ms slices
LATENCY_BUFFER = 1024  # chunks queued ahead of a latency toxic, as in the real server


class StageIO(Protocol):
    """What a toxic sees of the stage it runs on."""

    rng: random.Random
    state: object

    @property
    def remaining(self) -> int:
        """Bytes of the chunk in hand not yet forwarded or dropped."""

    @property
    def closed(self) -> bool: ...

    async def receive(self) -> Chunk | None:
        """The next chunk (dropping what is left of the previous one), or None at the end."""

    async def forward(self, size: int | None = None, *, timestamp: float | None = None) -> None:
        """Pass on the next ``size`` bytes of the chunk in hand (all of them if None)."""

    def drop(self) -> None:
        """Discard what is left of the chunk in hand."""

    def close(self, *, reset: bool = False) -> None:
        """End this direction: the connection closes, with TCP RST if ``reset``."""

    def close_later(self, delay: float, *, reset: bool = False) -> None:
        """Close after ``delay`` seconds even if the chain changes meanwhile."""

    async def idle(self) -> None:
        """Wait until the stage is interrupted or closed."""


@dataclass(frozen=True)
class Toxic:
    """A toxic type's attributes and behaviour; by itself it passes every chunk on."""

    type_name: ClassVar[str] = ""
    buffer_size: ClassVar[int] = 0

    def new_state(self) -> object:
        """Per-connection state that survives chain changes (None if the type keeps none)."""
        return None

    async def run(self, stage: StageIO) -> None:
        while not stage.closed and (chunk := await stage.receive()) is not None:
            await self.on_chunk(chunk, stage)
        await self.on_end(stage)

    async def on_chunk(self, chunk: Chunk, stage: StageIO) -> None:
        await stage.forward()

    async def on_end(self, stage: StageIO) -> None:
        stage.close()

    def on_removed(self, stage: StageIO) -> None:
        """Called when the toxic is removed from a live link, before the link rejoins."""

    def attributes(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_attributes(cls, raw: object, base: Toxic | None = None) -> Toxic:
        """Build from a JSON ``attributes`` object, over ``base``'s values if given.

        Raises ValueError for anything the real server's JSON decoding rejects:
        a non-object, or a non-integer value for a known attribute. Unknown keys are
        ignored and keys match case-insensitively, as Go's encoding/json does.
        """
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise ValueError(f"cannot unmarshal {json_kind(raw)} into {cls.type_name} attributes")
        values: dict[str, int] = asdict(base) if isinstance(base, cls) else {}
        for f in fields(cls):
            key = _match_key(raw, f.name)
            if key is None or raw[key] is None:
                continue
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(
                    f"cannot unmarshal {json_kind(value)} into attribute {f.name} (int)"
                )
            if not INT64_MIN <= value <= INT64_MAX:
                raise ValueError(f"cannot unmarshal number {value} into attribute {f.name} (int64)")
            values[f.name] = value
        return cls(**values)


def _match_key(raw: Mapping[object, object], name: str) -> object | None:
    if name in raw:
        return name
    return next((k for k in raw if isinstance(k, str) and k.casefold() == name.casefold()), None)


def json_kind(value: object) -> str:
    """The JSON type name of a decoded value, for error messages."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return "null"


@dataclass(frozen=True)
class Noop(Toxic):
    """Passes data unchanged; also what a stage runs when its toxicity draw spares it."""

    type_name: ClassVar[str] = "noop"


@dataclass(frozen=True)
class Latency(Toxic):
    """Delays each chunk to ``latency`` ± ``jitter`` ms after it was read."""

    type_name: ClassVar[str] = "latency"
    buffer_size: ClassVar[int] = LATENCY_BUFFER
    latency: int = 0
    jitter: int = 0

    def delay_ms(self, rng: random.Random) -> int:
        if self.jitter > 0:
            return self.latency + rng.randrange(2 * self.jitter) - self.jitter
        return self.latency

    async def on_chunk(self, chunk: Chunk, stage: StageIO) -> None:
        wait = self.delay_ms(stage.rng) / 1000 - (time.monotonic() - chunk.timestamp)
        if wait > 0:
            await asyncio.sleep(wait)
        await stage.forward(timestamp=chunk.timestamp + wait)


@dataclass(frozen=True)
class Bandwidth(Toxic):
    """Passes at most ``rate`` KB/s (1 KB = 1000 bytes); 0 or less means unlimited."""

    type_name: ClassVar[str] = "bandwidth"
    rate: int = 0

    async def run(self, stage: StageIO) -> None:
        owed = 0.0  # seconds of sending the chunks so far should have taken, not yet slept
        while not stage.closed and (chunk := await stage.receive()) is not None:
            if self.rate <= 0:
                owed = 0.0
                await stage.forward()
                continue
            owed += len(chunk.data) / (self.rate * 1000)
            tick_bytes = int(self.rate * 1000 * BANDWIDTH_TICK_S)
            while stage.remaining > tick_bytes:
                await asyncio.sleep(BANDWIDTH_TICK_S)
                await stage.forward(tick_bytes)
                owed -= BANDWIDTH_TICK_S
            started = time.monotonic()
            if owed > 0:
                await asyncio.sleep(owed)
            owed -= time.monotonic() - started
            await stage.forward()
        stage.close()


@dataclass(frozen=True)
class SlowClose(Toxic):
    """Passes data unchanged but closes only ``delay`` ms after the source closed."""

    type_name: ClassVar[str] = "slow_close"
    delay: int = 0

    async def on_end(self, stage: StageIO) -> None:
        if self.delay > 0:
            await asyncio.sleep(self.delay / 1000)
        stage.close()


@dataclass(frozen=True)
class Timeout(Toxic):
    """Drops all data; closes after ``timeout`` ms, or never if 0. Removing it closes too."""

    type_name: ClassVar[str] = "timeout"
    timeout: int = 0

    async def run(self, stage: StageIO) -> None:
        async def swallow() -> None:
            while await stage.receive() is not None:
                stage.drop()

        if self.timeout > 0:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(swallow(), self.timeout / 1000)
        else:
            await swallow()
        stage.close()

    def on_removed(self, stage: StageIO) -> None:
        stage.close()


@dataclass(frozen=True)
class ResetPeer(Toxic):
    """On the first data (or end), waits ``timeout`` ms and resets the connection (RST)."""

    type_name: ClassVar[str] = "reset_peer"
    timeout: int = 0

    async def run(self, stage: StageIO) -> None:
        await stage.receive()
        stage.drop()
        stage.close_later(max(self.timeout, 0) / 1000, reset=True)
        await stage.idle()


@dataclass(frozen=True)
class Slicer(Toxic):
    """Cuts each chunk into slices of about ``average_size`` ± ``size_variation`` bytes,
    ``delay`` µs apart."""

    type_name: ClassVar[str] = "slicer"
    average_size: int = 0
    size_variation: int = 0
    delay: int = 0

    def slice_sizes(self, size: int, rng: random.Random) -> list[int]:
        """Sizes of consecutive slices of ``size`` bytes, split near the middle recursively."""
        sizes: list[int] = []
        pending = [(0, size)]
        while pending:
            start, end = pending.pop()
            if end - start <= 1 or (end - start) - self.average_size <= self.size_variation:
                if end > start:
                    sizes.append(end - start)
                continue
            mid = start + (end - start) // 2
            if self.size_variation > 0:
                mid += rng.randrange(2 * self.size_variation) - self.size_variation
            mid = min(max(mid, start + 1), end - 1)
            pending.append((mid, end))
            pending.append((start, mid))
        return sizes

    async def on_chunk(self, chunk: Chunk, stage: StageIO) -> None:
        sizes = self.slice_sizes(len(chunk.data), stage.rng)
        for i, size in enumerate(sizes):
            await stage.forward(size)
            if i + 1 < len(sizes) and self.delay > 0:
                await asyncio.sleep(self.delay / 1_000_000)


class _Transmitted:
    def __init__(self) -> None:
        self.count = 0


@dataclass(frozen=True)
class LimitData(Toxic):
    """Passes the first ``bytes`` bytes of the connection's direction, then closes it."""

    type_name: ClassVar[str] = "limit_data"
    bytes: int = 0

    def new_state(self) -> object:
        return _Transmitted()

    async def on_chunk(self, chunk: Chunk, stage: StageIO) -> None:
        sent = stage.state
        assert isinstance(sent, _Transmitted)
        allowed = min(len(chunk.data), max(self.bytes - sent.count, 0))
        if allowed > 0:
            await stage.forward(allowed)
            sent.count += allowed
        if self.bytes - sent.count <= 0:
            stage.drop()
            stage.close()


TOXIC_TYPES: Mapping[str, type[Toxic]] = MappingProxyType(
    {
        cls.type_name: cls
        for cls in (Noop, Latency, Bandwidth, SlowClose, Timeout, ResetPeer, Slicer, LimitData)
    }
)

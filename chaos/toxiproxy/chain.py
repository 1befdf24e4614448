"""The toxics of one proxy, per direction, and the live links they apply to."""

from __future__ import annotations

import asyncio
import logging

from duetime.chaos.toxiproxy.link import Link
from duetime.chaos.toxiproxy.spec import Direction, ToxicSpec

log = logging.getLogger(__name__)


def _log_failures(results: list[object]) -> None:
    # One broken link must not fail the API call or stop the change on the others.
    for result in results:
        if isinstance(result, Exception):
            log.error("applying a toxic change to a link failed", exc_info=result)


class ToxicChain:
    """Ordered toxics per direction; every change is applied to every live link.

    Link stage ``i + 1`` runs toxic ``i`` of its direction (stage 0 passes through).
    Callers serialize changes; links attached while a change is being applied were
    built from the chain as already changed, so each change goes to a snapshot.
    """

    def __init__(self) -> None:
        self._specs: dict[Direction, list[ToxicSpec]] = {d: [] for d in Direction}
        self._links: dict[Direction, set[Link]] = {d: set() for d in Direction}

    def specs(self, direction: Direction) -> list[ToxicSpec]:
        return list(self._specs[direction])

    def all(self) -> list[ToxicSpec]:
        """Upstream toxics, then downstream, each in chain order (the real server's order)."""
        return [*self._specs[Direction.UPSTREAM], *self._specs[Direction.DOWNSTREAM]]

    def find(self, name: str) -> ToxicSpec | None:
        return next((s for s in self.all() if s.name == name), None)

    def attach(self, link: Link) -> None:
        self._links[link.direction].add(link)

    def detach(self, link: Link) -> None:
        self._links[link.direction].discard(link)

    async def add(self, spec: ToxicSpec) -> None:
        self._specs[spec.direction].append(spec)
        links = list(self._links[spec.direction])
        appends = (link.append(spec) for link in links)
        _log_failures(await asyncio.gather(*appends, return_exceptions=True))

    async def update(self, spec: ToxicSpec) -> None:
        """Replace the toxic named ``spec.name`` (same direction) with ``spec``."""
        chain = self._specs[spec.direction]
        index = next(i for i, s in enumerate(chain) if s.name == spec.name)
        chain[index] = spec
        links = list(self._links[spec.direction])
        updates = (link.update(index + 1, spec) for link in links)
        _log_failures(await asyncio.gather(*updates, return_exceptions=True))

    async def remove(self, spec: ToxicSpec) -> None:
        chain = self._specs[spec.direction]
        index = next(i for i, s in enumerate(chain) if s.name == spec.name)
        del chain[index]
        links = list(self._links[spec.direction])
        removals = (link.remove(index + 1) for link in links)
        _log_failures(await asyncio.gather(*removals, return_exceptions=True))

    async def clear(self) -> None:
        """Remove every toxic, first to last, as ``/reset`` does."""
        for direction in Direction:
            while self._specs[direction]:
                await self.remove(self._specs[direction][0])

"""Says so when Redis evicts keys under a ``maxmemory-policy`` the user allowed.

Under an evicting policy (``allow_eviction=True``) Redis may delete a namespace's index
together with its records, which leaves nothing behind for a claim to notice. What
Redis does count is every key it evicted (``INFO stats``, ``evicted_keys``): a worker
watches that counter and reports each rise, so a loss to eviction is never silent. The
counter is server-wide, so a rise says tasks *may* be gone, not how many.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import redis

from .errors import is_refusal

log = logging.getLogger("duetime.eviction")

WATCH_S = 1.0


class EvictionWatch:
    """Reports each rise of Redis's ``evicted_keys`` while the policy evicts.

    ``evicts()`` says whether the server's policy evicts (the scheduler's own reading of
    it, made once); ``on_evicted(n)`` is called with how many keys Redis evicted since
    the last look.
    """

    def __init__(
        self,
        client: Any,
        namespace: str,
        evicts: Callable[[], bool],
        on_evicted: Callable[[int], None],
        period_s: float = WATCH_S,
    ) -> None:
        self.client = client
        self.namespace = namespace
        self.evicts = evicts
        self.on_evicted = on_evicted
        self.period_s = period_s
        self._last: int | None = None

    def look(self) -> int:
        """Read the counter once; returns the keys evicted since the last look (0 at first)."""
        if not self.evicts():
            return 0
        count = int(self.client.info("stats")["evicted_keys"])
        before, self._last = self._last, count
        if before is None or count <= before:
            return 0
        rise = count - before
        log.error(
            "Redis evicted %d keys (maxmemory-policy allows it): tasks of namespace %r may "
            "be lost, and nothing else will say so. Set maxmemory-policy to noeviction",
            rise,
            self.namespace,
        )
        self.on_evicted(rise)
        return rise

    def run(self, stop: threading.Event) -> None:
        """Look every ``period_s`` until ``stop`` is set. A user without ``+info`` gets
        no watch (said once, at debug level: the policy check at connect warned already)."""
        while not stop.is_set():
            try:
                self.look()
            except redis.RedisError as exc:
                if is_refusal(exc):
                    log.debug("cannot watch for evictions (INFO refused): %s", exc)
                    return
                log.debug("eviction watch: %r", exc)  # an outage: the main loop reports it
            except (KeyError, ValueError) as exc:
                log.debug("eviction watch: %r", exc)
            stop.wait(self.period_s)

"""Full memory: Redis filled with ballast, then ``maxmemory`` set just above what it used
before.

The nemesis writes ``room_bytes`` of ballast keys of its own (``nemesis:ballast:N``,
outside every design's namespace), then sets ``maxmemory`` to the memory Redis used
before the fill plus half of that: Redis is over its limit by about half the ballast,
far more than acks free while the fault holds. Under ``maxmemory-policy noeviction``
Redis then refuses every write that needs memory (a probe write must be refused:
``full``); under an evicting policy it evicts instead, whatever keys it picks, and the
nemesis keeps writing ballast until it wrote ``overfill`` times ``room_bytes``. It
holds, then heals: deletes its ballast and puts ``maxmemory`` back. The detail says
what it set, whether Redis refused, ``filling_since`` (from then on Redis may refuse
writes: the ``full_memory`` checker's window) and ``full_since`` (``maxmemory`` set).
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from duetime.chaos.system.cluster import REDIS_ROLE, Cluster

from .base import Fault, Nemesis, NemesisContext
from .single_node import require_single_node

BALLAST_PREFIX = "nemesis:ballast:"
SOCKET_TIMEOUT_S = 10.0
DELETE_BATCH = 100


def _refused_for_memory(exc: redis.ResponseError) -> bool:
    return isinstance(exc, redis.exceptions.OutOfMemoryError) or "OOM" in str(exc)


@dataclass(frozen=True)
class FillMemory(Nemesis):
    """Fill ``room_bytes`` of ``chunk_bytes`` ballast values, then set ``maxmemory`` to
    the memory used before plus half of it; see the module docstring."""

    room_bytes: int = 2 * 1024 * 1024
    chunk_bytes: int = 64 * 1024
    overfill: int = 4

    @property
    def name(self) -> str:
        return "fill_memory"

    def setup(self, cluster: Cluster) -> None:
        require_single_node(cluster, self.name)

    def inject(self, ctx: NemesisContext) -> Fault | None:
        url = ctx.cluster.client_url
        client = redis.Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT_S)
        filling_since = ctx.cluster.clock.now()
        before = str(client.config_get("maxmemory")["maxmemory"])
        policy = str(client.config_get("maxmemory-policy")["maxmemory-policy"])
        used = int(client.info("memory")["used_memory"])
        limit = used + self.room_bytes // 2
        keys: list[str] = []
        full = False
        ballast = b"b" * self.chunk_bytes
        try:
            while len(keys) * self.chunk_bytes < self.room_bytes:
                keys.append(f"{BALLAST_PREFIX}{len(keys)}")
                client.set(keys[-1], ballast)
            client.config_set("maxmemory", limit)
            full_since = ctx.cluster.clock.now()
            while not ctx.stop.is_set():
                key = f"{BALLAST_PREFIX}{len(keys)}"
                try:
                    client.set(key, ballast)
                except redis.ResponseError as exc:
                    if not _refused_for_memory(exc):
                        raise
                    full = True
                    break
                keys.append(key)
                if len(keys) * self.chunk_bytes >= self.overfill * self.room_bytes:
                    break
        except BaseException:
            _free(client, keys, before)
            client.close()
            raise
        client.close()
        detail = {
            "policy": policy,
            "maxmemory_before": before,
            "maxmemory_set": limit,
            "used_before": used,
            "ballast_keys": len(keys),
            "ballast_bytes": len(keys) * self.chunk_bytes,
            "full": full,
            "filling_since": filling_since,
            "full_since": full_since,
        }

        def heal() -> None:
            healer = redis.Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT_S)
            try:
                _free(healer, keys, before)
            finally:
                healer.close()

        return Fault(targets=(REDIS_ROLE,), detail=detail, healer=heal)


def _free(client: redis.Redis, keys: list[str], maxmemory: str) -> None:
    """Delete the ballast (DEL needs no memory), then put ``maxmemory`` back."""
    for i in range(0, len(keys), DELETE_BATCH):
        client.delete(*keys[i : i + DELETE_BATCH])
    client.config_set("maxmemory", maxmemory)

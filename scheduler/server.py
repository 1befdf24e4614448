"""What duetime needs to know about the Redis server it talks to, asked once per Scheduler.

The version decides how scripts are registered (Redis 7 takes script flags, 6.2 does
not) and whether ``WAITAOF`` exists (Redis 7.2, Valkey); the ``maxmemory-policy``
decides whether Redis may evict task records. On a Cluster, the node asked is the one
that holds the namespace.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import redis
from redis.cluster import RedisCluster

log = logging.getLogger("duetime.server")

# Policies under which Redis deletes keys that have no TTL, such as every duetime key.
# The volatile-* policies evict only keys with a TTL, and duetime sets none.
EVICTING_POLICIES = frozenset({"allkeys-lru", "allkeys-lfu", "allkeys-random"})


@dataclass(frozen=True)
class ServerInfo:
    """``version`` as a tuple of ints; ``eviction_policy`` None when this Redis user may
    run neither ``INFO`` nor ``CONFIG GET``."""

    version: tuple[int, ...]
    eviction_policy: str | None
    aof_enabled: bool | None = None
    """Whether ``appendonly`` is on; None when this user may not run ``INFO``."""

    @property
    def script_flags(self) -> bool:
        """Whether scripts may start with a ``#!lua flags=...`` line (Redis 7 and later)."""
        return self.version >= (7,)

    @property
    def waitaof(self) -> bool:
        """Whether the server has ``WAITAOF`` (Redis 7.2 and later, Valkey 7.2 and later)."""
        return self.version >= (7, 2)

    @property
    def evicts(self) -> bool:
        return self.eviction_policy in EVICTING_POLICIES


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _version(client: redis.Redis) -> tuple[int, ...]:
    # HELLO needs no ACL permission (it is what clients authenticate with); Redis 5 has none.
    try:
        hello = client.execute_command("HELLO")  # type: ignore[no-untyped-call]
    except redis.ResponseError:
        return (5,)
    fields = hello if isinstance(hello, dict) else dict(zip(hello[::2], hello[1::2], strict=False))
    version = _text({_text(k): v for k, v in fields.items()}.get("version", "0"))
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def _policy(client: redis.Redis) -> str | None:
    try:
        return _text(client.info("memory")["maxmemory_policy"])
    except (redis.ResponseError, KeyError):
        pass
    try:
        got = client.config_get("maxmemory-policy")
        return _text(got["maxmemory-policy"])
    except (redis.ResponseError, KeyError):
        return None


def _aof(client: redis.Redis) -> bool | None:
    try:
        return bool(int(client.info("persistence")["aof_enabled"]))
    except (redis.ResponseError, KeyError, ValueError):
        return None


def probe(client: redis.Redis | RedisCluster, key: str = "") -> ServerInfo:
    """Ask ``client``'s server (on a Cluster: the master of ``key``) its version, eviction
    policy and AOF setting. Connection errors propagate."""
    if isinstance(client, RedisCluster):
        client = client.get_redis_connection(client.get_node_from_key(key))  # type: ignore[no-untyped-call]
    return ServerInfo(_version(client), _policy(client), _aof(client))

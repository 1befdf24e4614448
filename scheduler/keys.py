"""The one place that names Redis keys, and which shard of a namespace holds a task.

Every key of a namespace carries the hash tag ``{namespace}`` so that a namespace
lives on one Redis Cluster slot and every Lua script can touch all of its keys.
Nothing in the scripts assumes more than "all keys passed to one call share a tag".

A namespace with ``shards=N`` (N > 1) is spread over N tags instead, one per shard,
each holding a complete set of the keys below (its own ``due``, ``leases``, fencing
counter, dead letters, cron registry and wake channel). ``shards=1`` is the plain
``{namespace}`` tag, today's layout. The count itself is kept in ``dt:{namespace}:shards``
(:attr:`Keys.shards`), on the plain tag, so that every process agrees on it.

Tags (:func:`shard_tags`): three tags hashed by CRC16 often share a master, so shard
``i``'s tag is the first of ``namespace#i``, ``namespace#i.1``, ``namespace#i.2`` ...
whose Cluster slot falls in the middle half of the ``i``-th of N equal slot ranges.
With the usual even split of the 16,384 slots over N masters (``redis-cli --cluster
create``), each shard then sits on its own master; the middle half leaves room for
the rounding of where one master's range ends. The search is deterministic, so every
process derives the same tags.

Routing (:func:`shard_of`): a task lives on the shard its id hashes to (CRC32, stable
across processes and Python versions, unlike ``hash()``). The slot tasks of a recurring
schedule (ids ``cron:<name>:<slot ms>``) and the schedule's registry entry live on the
shard of the schedule's *name*, since ``fire_cron.lua`` writes the slot's task atomically
with the registry's next slot; so ``get("cron:<name>:<slot>")`` finds its task by the name.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

from . import validation

CRON_ID_PREFIX = "cron:"
MAX_SHARDS = 256


def shard_tags(namespace: str, shards: int) -> list[str]:
    """The hash tag of each shard of ``namespace`` (see the module docstring)."""
    if shards == 1:
        return [namespace]
    width = REDIS_CLUSTER_HASH_SLOTS / shards
    tags = []
    for i in range(shards):
        lo, hi = int(width * i + width / 4), int(width * i + width * 3 / 4)
        suffix = 0
        while True:
            tag = f"{namespace}#{i}" if suffix == 0 else f"{namespace}#{i}.{suffix}"
            if lo <= key_slot(tag.encode()) < hi:
                break
            suffix += 1
        tags.append(tag)
    return tags


def routing_key(task_id: str | bytes) -> bytes:
    """What a task id is routed by: the schedule's name for a slot task of a recurring
    schedule (``cron:<name>:<slot ms>``), else the id itself."""
    raw = task_id.encode() if isinstance(task_id, str) else task_id
    if raw.startswith(CRON_ID_PREFIX.encode()):
        name, sep, slot = raw[len(CRON_ID_PREFIX) :].rpartition(b":")
        if sep and slot.isdigit():
            return name
    return raw


def shard_of(task_id: str | bytes, shards: int) -> int:
    """The shard (0 to ``shards - 1``) that holds ``task_id``."""
    return 0 if shards == 1 else zlib.crc32(routing_key(task_id)) % shards


def schedule_shard(name: str | bytes, shards: int) -> int:
    """The shard that holds recurring schedule ``name`` and the tasks of its slots."""
    raw = name.encode() if isinstance(name, str) else name
    return 0 if shards == 1 else zlib.crc32(raw) % shards


@dataclass(frozen=True)
class Keys:
    """Key names for one namespace, or for one shard of it (``tag``: see
    :func:`shard_tags`; empty for the namespace's plain tag)."""

    namespace: str
    prefix: str = "dt"
    tag: str = ""

    def __post_init__(self) -> None:
        validation.namespace(self.namespace)

    def _k(self, name: str) -> str:
        return f"{self.prefix}:{{{self.tag or self.namespace}}}:{name}"

    @property
    def shards(self) -> str:
        """STRING: how many shards the namespace has, stored by the first process that named
        a count (``shards.lua``); none stored means 1. Only on the plain tag."""
        return self._k("shards")

    @property
    def tasks(self) -> str:
        """HASH task_id -> record (header line, then the JSON payload)."""
        return self._k("tasks")

    @property
    def due(self) -> str:
        """ZSET task_id -> run-at (ms): tasks waiting for their time, retries included."""
        return self._k("due")

    @property
    def leases(self) -> str:
        """ZSET task_id -> lease expiry (ms): tasks a worker holds."""
        return self._k("leases")

    @property
    def retrying(self) -> str:
        """SET of task ids waiting for a retry (a subset of ``due``)."""
        return self._k("retrying")

    @property
    def errors(self) -> str:
        """HASH task_id -> last error text (only tasks that failed)."""
        return self._k("errors")

    @property
    def done(self) -> str:
        """ZSET task_id -> finish time (ms): finished or cancelled records, kept for a while."""
        return self._k("done")

    @property
    def dead(self) -> str:
        """ZSET task_id -> death time (ms): the dead-letter set."""
        return self._k("dead")

    @property
    def fence(self) -> str:
        """STRING counter: the last fencing token claim issued. Never deleted, so a token is
        never issued twice in a namespace."""
        return self._k("fence")

    @property
    def lost(self) -> str:
        """STRING counter: ids of ``due`` or ``leases`` whose record claim found gone (evicted,
        lost in a restart, deleted by hand). Never deleted."""
        return self._k("lost")

    @property
    def claims(self) -> str:
        """ZSET claim id -> when its memo expires (ms): the claims that leased tasks lately."""
        return self._k("claims")

    @property
    def claim_memos(self) -> str:
        """HASH claim id -> the ids and tokens that claim leased, kept for one lease time
        so that the same claim sent again (its reply was lost) returns them instead of
        leasing more."""
        return self._k("claim:memos")

    @property
    def cron(self) -> str:
        """HASH schedule name -> JSON spec of a recurring schedule."""
        return self._k("cron")

    @property
    def cron_next(self) -> str:
        """ZSET schedule name -> next slot (ms) not yet fired."""
        return self._k("cron:next")

    @property
    def cron_version(self) -> str:
        """HASH schedule name -> version of its spec, bumped on every change.

        Kept when a schedule is removed, so a name registered again never reuses a
        version a ticker may still hold. No entry means version 0 (specs stored
        before versions existed).
        """
        return self._k("cron:version")

    @property
    def cron_unreadable(self) -> str:
        """HASH schedule name -> "<reason>\\n<spec>": specs set aside because they cannot be
        read. Listed by ``unreadable_recurring()``; registering the name again drops it."""
        return self._k("cron:unreadable")

    @property
    def workers(self) -> str:
        """ZSET worker name -> time of its last heartbeat (ms): the workers alive
        (``presence.py``)."""
        return self._k("workers")

    @property
    def wake(self) -> str:
        """Pub/Sub channel: published when a new task becomes the earliest due."""
        return self._k("wake")

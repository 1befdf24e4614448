"""The one place that names Redis keys.

Every key of a namespace carries the hash tag ``{namespace}`` so that a namespace
lives on one Redis Cluster slot and every Lua script can touch all of its keys.
A namespace can later be split into shards by giving each shard its own tag
(``{namespace#0}``, ``{namespace#1}`` ...) and routing task ids by hash: nothing
in the scripts assumes more than "all keys passed to one call share a tag".
"""

from __future__ import annotations

from dataclasses import dataclass

from . import validation


@dataclass(frozen=True)
class Keys:
    """Key names for one namespace."""

    namespace: str
    prefix: str = "dt"

    def __post_init__(self) -> None:
        validation.namespace(self.namespace)

    def _k(self, name: str) -> str:
        return f"{self.prefix}:{{{self.namespace}}}:{name}"

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

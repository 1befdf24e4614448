"""The producer and admin API: :class:`Scheduler`."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

from . import topology, validation
from .cron import CronTicker, RecurringSchedule
from .errors import (
    CorruptRecord,
    InvalidInput,
    InvalidState,
    NotDurable,
    OutageLog,
    RedisFull,
    RedisMisconfigured,
    ShardsMismatch,
    TaskNotFound,
    library_error,
    redis_errors,
)
from .keys import MAX_SHARDS, Keys, schedule_shard, shard_of, shard_tags
from .lua import Scripts
from .record import Record, Status
from .redact import mask_url
from .results import Result
from .server import ServerInfo
from .settings import DURABILITY_POLL_S, TRIM_PER_CALL, Durability, Limits, Retention, RetryPolicy
from .task import Stats, TaskInfo
from .topology import Client

log = logging.getLogger("duetime.client")

# Told each time tasks were created: (task type, how many). For metrics.
ScheduledObserver = Callable[[str, int], None]

# One call of the schedule script: its keys, its args, the ids of its tasks.
_Call = tuple[list[str], list[Any], list[str]]
# Scripts take at most this many tasks per call, so one call never blocks Redis long.
SCHEDULE_CHUNK = 1000
# A call that gets no answer in five seconds fails with RedisUnavailable instead of hanging.
DEFAULT_SOCKET_TIMEOUT_S = 5.0
DEFAULT_CONNECT_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class NewTask:
    """One task for :meth:`Scheduler.schedule_many`."""

    timestamp: float | int | dt.datetime
    data: Any = None
    task_type: str = "default"
    task_id: str | None = None
    max_attempts: int | None = None


@dataclass(frozen=True)
class Scheduled:
    """What :meth:`Scheduler.submit` did with one task."""

    task_id: str
    created: bool
    """True: a task was created. False: nothing was written, because a task with this
    id is pending, running, waiting for a retry or dead, or finished with this same due
    time (a retry of the call that created it)."""


def new_task_id(rng: random.Random) -> str:
    """96 random bits, URL-safe: 16 characters."""
    return base64.urlsafe_b64encode(rng.getrandbits(96).to_bytes(12, "big")).decode()


class Scheduler:
    """Schedule, inspect and manage tasks in one namespace of one Redis.

    Thread-safe: share one instance per process. Create workers with
    :class:`scheduler.Worker`. ``clock`` returns "now" in epoch milliseconds and exists
    for tests; by default every decision about time uses Redis's clock (``TIME``).

    On its first call it asks Redis its ``maxmemory-policy``: under an ``allkeys-*``
    policy Redis deletes task records when it fills up, so every script call raises
    :class:`RedisMisconfigured` unless ``allow_eviction=True``, which logs a warning
    instead. Reads (``get``, ``dead_letters``...) are not refused.

    ``shards`` spreads the namespace over that many Cluster hash tags (1 to 256; README:
    Scaling out; :mod:`duetime.keys` says where each task lives). ``None`` uses the count
    stored in Redis for the namespace, 1 when none is. An int is stored on the first call
    if no count is; if another count is stored, every call raises :class:`ShardsMismatch`
    and writes nothing. The count is read once per Scheduler, at its first call; give
    every process of a namespace the same count (or none, once it is stored).

    ``on_scheduled``, if given, is called with (task type, count) for the tasks each call
    created, recurring slots fired by this process's ticker included (e.g.
    :meth:`duetime.metrics.WorkerMetrics.scheduled`).
    """

    def __init__(
        self,
        client: Client,
        *,
        namespace: str,
        retry: RetryPolicy | None = None,
        retention: Retention | None = None,
        limits: Limits | None = None,
        clock: Callable[[], int] | None = None,
        allow_eviction: bool = False,
        on_scheduled: ScheduledObserver | None = None,
        durability: Durability | None = None,
        shards: int | None = None,
    ) -> None:
        self.keys = Keys(validation.namespace(namespace))
        self._wanted_shards = (
            None if shards is None else validation.count("shards", shards, 1, MAX_SHARDS)
        )
        self._shard_keys: list[Keys] | None = None
        self._shards_lock = threading.Lock()
        if on_scheduled is not None and not callable(on_scheduled):
            raise InvalidInput(f"on_scheduled must be callable, not {on_scheduled!r}")
        self.on_scheduled = on_scheduled
        for arg, value, kind in (
            ("retry", retry, RetryPolicy),
            ("retention", retention, Retention),
            ("limits", limits, Limits),
            ("durability", durability, Durability),
        ):
            if value is not None and not isinstance(value, kind):
                raise InvalidInput(f"{arg} must be a {kind.__name__}, not {type(value).__name__}")
        if clock is not None and not callable(clock):
            raise InvalidInput(f"clock must be a callable returning epoch ms, not {clock!r}")
        if not isinstance(allow_eviction, bool):
            raise InvalidInput(f"allow_eviction must be True or False, not {allow_eviction!r}")
        self.allow_eviction = allow_eviction
        self.namespace = namespace
        self.redis = client
        self.retry = retry or RetryPolicy()
        self.retention = retention or Retention()
        self.limits = limits or Limits()
        self.durability = durability or Durability()
        self.clock = clock
        # Where this scheduler connects, for messages: never with its password.
        self.url: str | None = None
        self.scripts = Scripts(client, self._check_server, self.keys.tasks, self._demoted)
        # Workers and cron tickers report a Redis they cannot reach here, once per outage.
        self.outage = OutageLog(logging.getLogger("duetime.redis"), lambda: self.url or "Redis")
        # Seeded from os.urandom once; drawing ids from it needs no system call per task.
        self._ids = random.Random()
        self._cron = CronTicker(self)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        namespace: str,
        retry: RetryPolicy | None = None,
        retention: Retention | None = None,
        limits: Limits | None = None,
        clock: Callable[[], int] | None = None,
        allow_eviction: bool = False,
        on_scheduled: ScheduledObserver | None = None,
        durability: Durability | None = None,
        shards: int | None = None,
        **connection: Any,
    ) -> Scheduler:
        """Connect to ``redis://host:port/db`` (or ``rediss://`` for TLS, ``unix://``): one
        server, or a Redis Cluster, which duetime detects on connect (``redis+cluster://``
        says so without asking); ``redis+sentinel://host:port,host:port/service[/db]``
        connects to the primary the Sentinels name, and finds the new one after a failover
        (:mod:`duetime.topology`).

        Every other keyword is a redis-py connection option, passed on as given:
        ``username``, ``password`` or ``credential_provider`` (credentials that stay
        out of the URL), ``ssl_ca_certs``, ``ssl_certfile``, ``ssl_keyfile``,
        ``ssl_cert_reqs`` (TLS, with a ``rediss://`` URL), ``socket_timeout`` and so
        on. They replace duetime's defaults; a URL query parameter of the same name
        wins over a keyword (redis-py's rule). A bad URL or option raises
        :class:`InvalidInput` with the URL's password masked.
        """
        options: dict[str, Any] = {
            "socket_timeout": DEFAULT_SOCKET_TIMEOUT_S,
            "socket_connect_timeout": DEFAULT_CONNECT_TIMEOUT_S,
            "health_check_interval": 30,
            "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
            **connection,
        }
        shown = mask_url(url)
        if any(k.startswith("ssl_") for k in connection) and not url.startswith("rediss://"):
            raise InvalidInput(f"TLS options need a rediss:// URL, not {shown}")
        try:
            client = topology.connect(url, options)
        except redis.RedisError as exc:
            # A Cluster that cannot be mapped (no node answers) is an outage, not a bad URL.
            raise library_error(f"connecting to {shown}", exc) or exc from None
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"cannot connect to {shown}: {exc}") from None
        scheduler = cls(
            client,
            namespace=namespace,
            retry=retry,
            retention=retention,
            limits=limits,
            clock=clock,
            allow_eviction=allow_eviction,
            on_scheduled=on_scheduled,
            durability=durability,
            shards=shards,
        )
        scheduler.url = shown
        return scheduler

    def _check_server(self, server: ServerInfo) -> None:
        where = self.url or "Redis"
        self._check_durability(server, where)
        if server.eviction_policy is None:
            # Debug: a least-privilege user without +info would see it on every call.
            log.debug(
                "%s: cannot check maxmemory-policy (this user may run neither INFO nor "
                "CONFIG GET): make sure it is noeviction, or Redis may delete tasks when full",
                where,
            )
        elif server.evicts and not self.allow_eviction:
            raise RedisMisconfigured(
                f"{where} has maxmemory-policy {server.eviction_policy}: when it fills up, "
                f"Redis deletes task records and tasks are lost. Set it to noeviction "
                f"(a full Redis then refuses new tasks instead), or pass "
                f"allow_eviction=True (CLI: --allow-eviction) to accept losing tasks"
            )
        elif server.evicts:
            log.warning(
                "%s has maxmemory-policy %s: Redis may delete task records when it fills "
                "up (allowed by allow_eviction=True); tasks can be lost",
                where,
                server.eviction_policy,
            )

    def _check_durability(self, server: ServerInfo, where: str) -> None:
        wanted = self.durability
        if not wanted.fsync:
            return
        version = ".".join(map(str, server.version))
        if not server.waitaof:
            raise RedisMisconfigured(
                f"{where} runs server version {version}, which has no WAITAOF: "
                f"durability fsync=True needs Redis 7.2 or later, or Valkey. Use "
                f"Durability(replicas=n) (WAIT) there, or the default"
            )
        if server.aof_enabled is False:
            raise RedisMisconfigured(
                f"{where} has appendonly no: durability fsync=True waits for the write to "
                f"reach the AOF on disk, which this server does not keep. Set appendonly yes"
            )

    def _node(self, key: str) -> redis.Redis:
        """The client of the server that holds ``key`` (on a Cluster, its slot's master)."""
        if isinstance(self.redis, RedisCluster):
            node = self.redis.get_node_from_key(key)  # type: ignore[no-untyped-call]
            return self.redis.get_redis_connection(node)
        return self.redis

    def rediscover(self) -> None:
        """Drop every connection, so the next call finds the primary again: a Sentinel
        client asks the Sentinels, a Cluster client maps the slots again, a client of one
        URL connects afresh (and resolves its host name again)."""
        if isinstance(self.redis, RedisCluster):
            with contextlib.suppress(redis.RedisError):
                self.redis.nodes_manager.initialize()
        else:
            self.redis.connection_pool.disconnect()

    def _demoted(self, exc: redis.RedisError) -> None:
        """A script met a read-only replica: the primary this client knew was demoted (a
        failover), or the URL names a replica. Find the primary again, so that the next
        call (a worker's, a ticker's, a producer's retry) goes there instead of to the
        same replica for ever."""
        self.rediscover()
        if topology.is_sentinel_managed(self.redis):
            raise redis.ConnectionError(
                f"the primary was demoted; asking the Sentinels for the new one ({exc})"
            ) from exc

    # -- shards ------------------------------------------------------------

    @property
    def shards(self) -> int:
        """How many shards the namespace has (asks Redis on the first use)."""
        with redis_errors("reading the namespace's shard count"):
            return len(self.shard_keys())

    def shard_keys(self) -> list[Keys]:
        """The keys of each shard, shard 0 first: ``[self.keys]`` for an unsharded
        namespace. Asks Redis on the first call (``shards.lua``), storing the count
        this Scheduler was given if none is stored; raises :class:`ShardsMismatch`
        (nothing written) if another count is. Redis's errors pass unchanged (callers
        map them as their own call's)."""
        if self._shard_keys is not None:
            return self._shard_keys
        with self._shards_lock:
            if self._shard_keys is None:
                wanted = self._wanted_shards
                # Reading takes the count's key alone, so a producer's ACL need not
                # name the keys that storing looks at.
                keys = [self.keys.shards]
                if wanted is not None:
                    keys += [self.keys.tasks, self.keys.cron]
                stored = int(self.scripts.run("shards", keys, ["" if wanted is None else wanted]))
                count = stored or 1
                if wanted is not None and count != wanted:
                    raise ShardsMismatch(self.namespace, count, wanted)
                self._shard_keys = [
                    Keys(self.namespace, tag=tag) if count > 1 else self.keys
                    for tag in shard_tags(self.namespace, count)
                ]
            return self._shard_keys

    def shard_of(self, task_id: str | bytes) -> int:
        """The shard (0 to ``shards - 1``) that holds ``task_id``."""
        return shard_of(task_id, len(self.shard_keys()))

    def keys_for(self, task_id: str | bytes) -> Keys:
        """The keys of the shard that holds ``task_id``."""
        shards = self.shard_keys()
        return shards[shard_of(task_id, len(shards))]

    def schedule_keys(self, name: str | bytes) -> Keys:
        """The keys of the shard that holds recurring schedule ``name`` and its slot tasks."""
        shards = self.shard_keys()
        return shards[schedule_shard(name, len(shards))]

    def by_shard(self, ids: Iterable[str | bytes]) -> dict[int, list[int]]:
        """Positions of ``ids`` grouped by the shard that holds each, shards in order."""
        n = len(self.shard_keys())
        groups: dict[int, list[int]] = {}
        for pos, tid in enumerate(ids):
            groups.setdefault(shard_of(tid, n), []).append(pos)
        return dict(sorted(groups.items()))

    def now_arg(self) -> str:
        """The ``now`` argument of the scripts: '' means Redis's clock."""
        return "" if self.clock is None else str(int(self.clock()))

    def now_ms(self, keys: Keys | None = None) -> int:
        """Now in epoch ms: ``clock()``, else ``TIME`` of the server holding ``keys``
        (a shard's own clock decides what is due on it), or of the plain tag's."""
        if self.clock is not None:
            return int(self.clock())
        with redis_errors("reading Redis TIME"):
            sec, usec = self._node((keys or self.keys).tasks).time()
        return int(sec) * 1000 + int(usec) // 1000

    # -- producing ---------------------------------------------------------

    def schedule_task(
        self,
        timestamp: float | int | dt.datetime,
        task_data: Any = None,
        *,
        task_type: str = "default",
        task_id: str | None = None,
        max_attempts: int | None = None,
    ) -> str:
        """Schedule ``task_data`` to be handled by ``task_type``'s handler at ``timestamp``.

        ``timestamp`` is epoch seconds (int or float) or a timezone-aware datetime; a
        time in the past means "now". A datetime is stored as the instant
        ``timestamp.timestamp()`` names, as :mod:`zoneinfo` reads it: a wall time that
        occurs twice (clocks going back) is its first occurrence with ``fold=0`` and
        its second with ``fold=1``; a wall time that never occurs (the gap when clocks
        go forward) is read with the offset before the change with ``fold=0`` (02:30 in
        a 02:00->03:00 gap is 03:30 after it) and with the offset after it with
        ``fold=1`` (01:30 before it). Returns the task id.

        With ``task_id`` given, calling again with that id does nothing and returns it
        while its task is pending, running, waiting for a retry or dead, and also after
        the task finished if called with the same time: so a producer can retry after a
        timeout. A finished (done or cancelled) task gives its id up to a task due at
        another time, which the call then creates; a dead letter keeps its id until
        purged. :meth:`submit` says whether a call created a task.

        Ids starting with ``cron:`` are reserved for the slots of recurring schedules.
        Raises :class:`InvalidInput` (nothing written), :class:`RedisUnavailable`
        (outcome unknown: retry with the same id and time), :class:`RedisFull`,
        :class:`PermissionDenied` or :class:`RedisMisconfigured` (nothing written). A
        wake-up Redis refuses to publish does not fail the call.
        """
        return self.schedule_many(
            [NewTask(timestamp, task_data, task_type, task_id, max_attempts)]
        )[0]

    def schedule_many(self, tasks: Iterable[NewTask]) -> list[str]:
        """Schedule many tasks in few round trips; returns their ids, in order.

        Each id behaves as in :meth:`schedule_task`; :meth:`submit` also says which
        tasks were created. Raises :class:`InvalidInput` (nothing written) if any task
        is invalid or two share a ``task_id``.
        """
        return [s.task_id for s in self.submit(tasks)]

    def submit(self, tasks: Iterable[NewTask]) -> list[Scheduled]:
        """:meth:`schedule_many` that says, per task, whether it created one.

        ``created`` is False for an id whose task is pending, running, waiting for a
        retry or dead (purge a dead letter to free its id), or finished with the same
        due time: that task is left as it was. An id whose task finished (done or
        cancelled) gets a new task due at any other time.

        Tasks are written in chunks of 1,000, each all or nothing, so a batch is not atomic:
        if Redis fills up part way, :class:`RedisFull` is raised and its ``written`` lists
        the ids that were stored (retrying the whole batch with the same ids is safe).
        """
        if not isinstance(tasks, Iterable) or isinstance(tasks, (str, bytes, Mapping)):
            raise InvalidInput(f"schedule_many takes a list of NewTask, not {type(tasks).__name__}")
        rows = [self._prepare(t) for t in tasks]
        ids = [row[0] for row in rows]
        seen: set[str] = set()
        for tid in ids:
            if tid in seen:
                raise InvalidInput(
                    f"task_id {tid!r} appears twice in one schedule_many call: only one of "
                    f"them could be stored, so give each task its own id"
                )
            seen.add(tid)
        with redis_errors("schedule_task", ids):
            calls = self._chunks(rows)
            chunk_ids = [chunk for _, _, chunk in calls]
            if self.durability.waits:
                replies = self._write_durably(calls)
            elif len(calls) == 1:
                # One round trip: a pipeline would first ask SCRIPT EXISTS.
                replies = [self.scripts.run("schedule", calls[0][0], calls[0][1])]
            elif calls and isinstance(self.redis, RedisCluster):
                # redis-py's Cluster pipeline cannot load scripts: one call per chunk.
                replies = []
                for keys, args, _ in calls:
                    try:
                        replies.append(self.scripts.run("schedule", keys, args))
                    except redis.RedisError as exc:
                        self._raise_for_chunks(chunk_ids, [*replies, exc])
            elif calls:
                self.scripts.server()
                pipe = self.redis.pipeline(transaction=False)
                for keys, args, _ in calls:
                    self.scripts.run("schedule", keys, args, pipe)
                replies = pipe.execute(raise_on_error=False)
                self._raise_for_chunks(chunk_ids, replies)
            else:
                replies = []
        created = {
            tid: code == Result.OK
            for chunk, reply in zip(chunk_ids, replies, strict=True)
            for tid, code in zip(chunk, reply, strict=True)
        }
        done = [Scheduled(tid, created[tid]) for tid in ids]
        self._tell_scheduled(row[2] for row, d in zip(rows, done, strict=True) if d.created)
        return done

    def _chunks(
        self, rows: list[tuple[str, int, str]]
    ) -> list[tuple[list[str], list[Any], list[str]]]:
        """The ``schedule`` calls that write ``rows``: (keys, args, task ids) per call, each
        to one shard, at most ``SCHEDULE_CHUNK`` tasks each. No Redis call for no rows."""
        if not rows:
            return []
        shards = self.shard_keys()
        calls: list[_Call] = []
        for shard, positions in self.by_shard(row[0] for row in rows).items():
            k = shards[shard]
            for start in range(0, len(positions), SCHEDULE_CHUNK):
                chunk = [rows[p] for p in positions[start : start + SCHEDULE_CHUNK]]
                args: list[Any] = [k.wake, len(chunk)]
                for row in chunk:
                    args.extend(row)
                calls.append(([k.tasks, k.due, k.done, k.errors], args, [r[0] for r in chunk]))
        return calls

    def _tell_scheduled(self, records: Iterable[str]) -> None:
        """Tell ``on_scheduled`` the types of the tasks whose records were just written."""
        if self.on_scheduled is None:
            return
        by_type: dict[str, int] = {}
        for record in records:
            task_type = record.partition("\n")[0].split("|")[4]
            by_type[task_type] = by_type.get(task_type, 0) + 1
        for task_type, n in by_type.items():
            try:
                self.on_scheduled(task_type, n)
            except Exception:
                # A bystander: its failure must not turn a write that happened into an error.
                log.exception("on_scheduled raised; the tasks were scheduled")

    def _write_durably(self, calls: list[_Call]) -> list[Any]:
        """Each chunk, then ``WAIT``/``WAITAOF`` on the connection that wrote it (both wait
        for that connection's last write), so a chunk returns only once it is as durable as
        asked. Raises :class:`NotDurable` for the first chunk that is not: the chunks
        before it are durable, and retrying the whole call with the same ids is safe."""
        self.scripts.server()
        replies: list[Any] = []
        wanted = self.durability
        ids = [tid for _, _, chunk in calls for tid in chunk]
        for keys, args, _ in calls:
            # Not pipelined: a replica acks what it has fsynced when the master asks, and
            # a write and the question in one packet would find it not yet fsynced (the
            # next ack comes a second later).
            try:
                reply, confirmed = self._write_one(keys, args)
            except (redis.ConnectionError, redis.TimeoutError, redis.exceptions.MovedError) as exc:
                # This path talks to one node past the Cluster client, which then never
                # hears of a failover: map the slots again for the retry.
                if isinstance(self.redis, RedisCluster):
                    self.rediscover()
                if isinstance(exc, redis.exceptions.MovedError):
                    # A failover moved the slot: an outage to retry, not a misconfiguration.
                    raise redis.ConnectionError(
                        f"the namespace's slot moved to another node ({exc}); "
                        "the Cluster was mapped again"
                    ) from exc
                raise
            except redis.ResponseError as exc:
                self._raise_for_chunks([c for _, _, c in calls], [*replies, exc])
            if not wanted.met(confirmed):
                raise NotDurable(
                    f"schedule_task: {self.url or 'Redis'} has the write, but {wanted.label} "
                    f"confirmed {confirmed!r} within {wanted.timeout_s:g}s: the tasks may or "
                    f"may not survive a failover or a crash; retry with task_id="
                    f"{ids[0]!r} (and the same time; .task_ids has every id of the call), "
                    f"it never creates a second task",
                    task_ids=ids,
                    confirmed=confirmed,
                )
            replies.append(reply)
        return replies

    def _write_one(self, keys: list[str], args: list[Any]) -> tuple[Any, Any]:
        """One chunk and its confirmation, over one connection: (reply, confirmation)."""
        pool = self._node(keys[0]).connection_pool
        with redis.Redis(connection_pool=pool, single_connection_client=True) as one:
            return self.scripts.run("schedule", keys, args, one), self._confirm(one)

    def _confirm(self, one: redis.Redis) -> Any:
        """Wait for ``one``'s last write to be as durable as asked, up to the timeout;
        Redis's last answer. Asked again every ``DURABILITY_POLL_S``: a replica that got
        the write and the primary's question together answers before it fsynced, and
        would otherwise say so again only a second later."""
        wanted = self.durability
        deadline = time.monotonic() + wanted.timeout_s
        while True:
            wait_s = min(DURABILITY_POLL_S, max(0.001, deadline - time.monotonic()))
            confirmed = one.execute_command(*wanted.command(wait_s))  # type: ignore[no-untyped-call]
            if wanted.met(confirmed) or time.monotonic() >= deadline:
                return confirmed

    def _raise_for_chunks(self, chunks: list[list[str]], replies: list[Any]) -> None:
        """Raise for the first chunk Redis refused, naming the ids the others stored.
        ``chunks``: the task ids of each call, in the order of ``replies``."""
        failed = [r for r in replies if isinstance(r, Exception)]
        if not failed:
            return
        ids = [tid for chunk in chunks for tid in chunk]
        written = [
            tid
            for chunk, reply in zip(chunks, replies, strict=False)
            if not isinstance(reply, Exception)
            for tid in chunk
        ]
        error = failed[0]
        mapped = (
            library_error("schedule_many", error) if isinstance(error, redis.RedisError) else None
        )
        if isinstance(mapped, RedisFull):
            raise RedisFull(
                f"{mapped} {len(written)} of the {len(ids)} tasks were written (their ids are "
                f"in .written); retrying the batch with the same ids is safe",
                written=written,
            ) from error
        # Other refusals (ACL, types, a replica) refuse every chunk alike: none was written.
        raise mapped or error

    def _prepare(self, t: NewTask) -> tuple[str, int, str]:
        if not isinstance(t, NewTask):
            raise InvalidInput(f"schedule_many takes NewTask items, not {type(t).__name__}")
        tid = (
            new_task_id(self._ids) if t.task_id is None else validation.producer_task_id(t.task_id)
        )
        due = validation.due_ms(t.timestamp)
        max_attempts = (
            self.retry.max_attempts
            if t.max_attempts is None
            else validation.max_attempts(t.max_attempts)
        )
        task_type = validation.task_type(t.task_type)
        data = validation.payload(t.data, self.limits.max_payload_bytes)
        return tid, due, Record.new(max_attempts, due, task_type, data)

    # -- managing ----------------------------------------------------------

    def get(self, task_id: str) -> TaskInfo | None:
        """The task's state, or None if there is no such task (or its record expired)."""
        validation.task_id(task_id)
        with redis_errors("get"):
            [(raw, error, run_at)] = self._peek([task_id])
        if raw is None:
            return None
        return _info(task_id, raw, error, None if run_at is None else float(run_at))

    def _peek(self, ids: list[str] | list[bytes]) -> list[tuple[Any, Any, Any]]:
        """(record, last error, due score) of each id; None where there is none. One call
        per shard the ids live on."""
        shards = self.shard_keys()
        out: list[tuple[Any, Any, Any]] = [(None, None, None)] * len(ids)
        for shard, positions in self.by_shard(ids).items():
            k = shards[shard]
            rows = self.scripts.run("peek", [k.tasks, k.errors, k.due], [ids[p] for p in positions])
            for pos, row in zip(positions, rows, strict=True):
                out[pos] = (row[0], row[1], row[2])
        return out

    def cancel(self, task_id: str) -> bool:
        """Cancel a task that has not finished. Returns False if it had finished already.

        A handler already running is not interrupted, but its result is discarded:
        it cannot be acknowledged or retried any more.
        """
        validation.task_id(task_id)
        with redis_errors("cancel"):
            keys = self.keys_for(task_id)
            code = self.scripts.run(
                "cancel",
                [keys.tasks, keys.due, keys.leases, keys.retrying, keys.done, keys.errors],
                [self.now_arg(), task_id, int(self.retention.done_s * 1000), TRIM_PER_CALL],
            )
        self._found(task_id, code)
        return bool(code == Result.OK)

    def reschedule(self, task_id: str, timestamp: float | int | dt.datetime) -> None:
        """Move a task that has not started yet (or waits for a retry) to a new time."""
        validation.task_id(task_id)
        due = validation.due_ms(timestamp)
        with redis_errors("reschedule"):
            k = self.keys_for(task_id)
            code = self.scripts.run("reschedule", [k.tasks, k.due], [k.wake, task_id, due])
        self._found(task_id, code)
        if code == Result.REFUSED:
            raise InvalidState(f"task {task_id!r} is running or finished; it cannot be moved")

    def _found(self, task_id: str, code: int) -> None:
        """Raise for a script's NOT_FOUND or UNREADABLE answer about ``task_id``."""
        if code == Result.NOT_FOUND:
            raise TaskNotFound(f"no task {task_id!r} in namespace {self.namespace!r}")
        if code == Result.UNREADABLE:
            raise InvalidState(
                f"task {task_id!r} has a record that cannot be read (get() shows it raw): "
                f"repair it by hand, or purge it once a worker moved it to the dead letters"
            )

    def stats(self) -> Stats:
        """Counts of the namespace (see :class:`Stats`): taken atomically on each shard,
        and summed over the shards (each counting "due" by its own clock)."""
        totals = [0] * 7
        with redis_errors("stats"):
            for keys in self.shard_keys():
                _, due, waiting, in_flight, retrying, dead, done, lost = self.scripts.run(
                    "stats",
                    [keys.due, keys.leases, keys.retrying, keys.dead, keys.done, keys.lost],
                    [self.now_arg()],
                )
                counts = (int(waiting) - int(due), due, in_flight, retrying, dead, done, lost)
                totals = [t + int(c) for t, c in zip(totals, counts, strict=True)]
        scheduled, due, in_flight, retrying, dead, done, lost = totals
        return Stats(
            scheduled=scheduled,
            due=due,
            in_flight=in_flight,
            retrying=retrying,
            dead=dead,
            done=done,
            lost=lost,
        )

    # -- dead letters ------------------------------------------------------

    def dead_letters(self, limit: int = 100, offset: int = 0) -> list[TaskInfo]:
        """Dead-lettered tasks, oldest first: ``limit`` (0 to 10,000) from ``offset`` on.

        In a sharded namespace the shards' dead letters are merged by time of death (each
        shard's clock), so a page reads up to ``offset + limit`` entries of each shard."""
        validation.page(limit, offset)
        if limit == 0:
            return []
        with redis_errors("dead_letters"):
            ids = self._dead_ids(limit, offset)
            if not ids:
                return []
            rows = self._peek(ids)
        # An id that is not UTF-8 is shown with escapes; its record is read all the same.
        return [
            _info(tid.decode(errors="backslashreplace"), raw, err, None)
            for tid, (raw, err, _) in zip(ids, rows, strict=False)
            if raw is not None
        ]

    def _dead_ids(self, limit: int, offset: int) -> list[bytes]:
        shards = self.shard_keys()
        if len(shards) == 1:
            found: list[bytes] = self.redis.zrange(  # type: ignore[assignment]
                shards[0].dead, offset, offset + limit - 1
            )
            return found
        merged: list[tuple[float, bytes]] = []
        for k in shards:
            rows: list[tuple[bytes, float]] = self.redis.zrange(  # type: ignore[assignment]
                k.dead, 0, offset + limit - 1, withscores=True
            )
            merged.extend((score, tid) for tid, score in rows)
        return [tid for _, tid in sorted(merged)[offset : offset + limit]]

    def retry_dead(self, task_id: str) -> None:
        """Give a dead-lettered task a fresh set of attempts, due now."""
        validation.task_id(task_id)
        with redis_errors("retry_dead"):
            keys = self.keys_for(task_id)
            code = self.scripts.run(
                "retry_dead",
                [keys.tasks, keys.due, keys.dead],
                [self.now_arg(), keys.wake, task_id],
            )
        self._found(task_id, code)
        if code == Result.REFUSED:
            raise InvalidState(f"task {task_id!r} is not in the dead-letter set")

    def purge_dead(
        self, task_id: str | None = None, *, progress: Callable[[int], None] | None = None
    ) -> int:
        """Delete one dead-lettered task, or all of them. Returns how many were deleted.

        Deleting all of them goes in batches of 1,000; ``progress`` is called with the
        number deleted so far after each batch.
        """
        if task_id is not None:
            validation.task_id(task_id)
        with redis_errors("purge_dead"):
            if task_id is not None:
                k = self.keys_for(task_id)
                return int(
                    self.scripts.run("purge_dead", [k.tasks, k.dead, k.errors], [task_id, 0])
                )
            total = 0
            for k in self.shard_keys():
                keys = [k.tasks, k.dead, k.errors]
                while n := int(self.scripts.run("purge_dead", keys, ["", SCHEDULE_CHUNK])):
                    total += n
                    if progress is not None:
                        progress(total)
            return total

    # -- recurring ---------------------------------------------------------

    def schedule_recurring(
        self,
        name: str,
        cron: str,
        *,
        task_type: str,
        task_data: Any = None,
        timezone: str = "UTC",
        misfire: str = "run_once",
        max_attempts: int | None = None,
    ) -> None:
        """Fire a task of ``task_type`` at every slot of ``cron`` in ``timezone``.

        ``cron`` has 5 fields, or 6 with seconds first (``*/10 * * * * *``). Any number
        of processes may register the same schedule and run :meth:`run_cron` (workers
        do by default): each slot fires once. The task of a slot has the id
        ``cron:<name>:<slot ms>``. ``misfire`` says what happens to slots missed while
        no process was ticking: ``"run_once"`` fires once, late, for the newest missed
        slot; ``"skip"`` fires nothing for them. Registering the same name with a
        different spec replaces it.
        """
        spec = RecurringSchedule.create(
            name=name,
            cron=cron,
            task_type=task_type,
            task_data=task_data,
            timezone=timezone,
            misfire=misfire,
            max_attempts=self.retry.max_attempts if max_attempts is None else max_attempts,
            payload_limit=self.limits.max_payload_bytes,
        )
        self._cron.register(spec)

    def unschedule_recurring(self, name: str) -> bool:
        """Remove a recurring schedule. Returns False if there was none."""
        return self._cron.unregister(validation.schedule_name(name))

    def recurring(self) -> dict[str, tuple[RecurringSchedule, float | None]]:
        """Every recurring schedule, with the epoch seconds of its next slot."""
        return self._cron.all()

    def unreadable_recurring(self) -> dict[str, tuple[str, bytes]]:
        """Recurring schedules whose spec cannot be read (restores, manual edits, another
        version): name -> (why, the raw spec). A ticker sets each aside when its slot comes,
        and the others keep firing; :meth:`schedule_recurring` of the same name replaces it,
        :meth:`unschedule_recurring` deletes it. :meth:`recurring` leaves them out."""
        return self._cron.unreadable()

    def tick_cron(self) -> float:
        """Fire every recurring slot that is due now. Returns seconds until the next slot."""
        return self._cron.tick()

    def run_cron(
        self,
        stop: threading.Event | None = None,
        max_wait_s: float = 1.0,
        heartbeat_s: float | None = None,
    ) -> None:
        """Fire recurring slots until ``stop`` is set (a "beat" process; workers do it too).

        ``max_wait_s`` (0.01 s to an hour) bounds the sleep between ticks. With
        ``heartbeat_s`` (1 s to a day), log one INFO line that often on ``duetime.cron``:
        how many schedules there are, the slots this process fired since the last
        line, and the next slot.
        """
        validation.seconds("max_wait_s", max_wait_s, 0.01, 3600.0)
        if heartbeat_s is not None:
            validation.seconds("heartbeat_s", heartbeat_s, 1.0, 86400.0)
        self._cron.run(stop or threading.Event(), max_wait_s, heartbeat_s)

    def close(self) -> None:
        self.redis.close()


def _info(task_id: str, raw: bytes, error: bytes | None, run_at: float | None) -> TaskInfo:
    """What admin calls show of a record; one that cannot be read is shown, not raised."""
    last_error = error.decode(errors="replace") if error is not None else None
    run_at_s = None if run_at is None else float(run_at) / 1000
    try:
        r = Record.decode(raw)
    except CorruptRecord as exc:
        return TaskInfo(
            task_id=task_id,
            task_type="",
            status=Status.UNREADABLE,
            attempts=0,
            max_attempts=0,
            due_at=0.0,
            run_at=run_at_s,
            last_error=last_error,
            data=None,
            unreadable=str(exc),
            raw=raw,
        )
    data, unreadable = None, None
    if r.payload:
        try:
            data = r.data()
        except CorruptRecord as exc:
            unreadable = str(exc)
    return TaskInfo(
        task_id=task_id,
        task_type=r.task_type,
        status=r.status,
        attempts=r.attempt,
        max_attempts=r.max_attempts,
        due_at=r.due_ms / 1000,
        run_at=run_at_s,
        last_error=last_error,
        data=data,
        unreadable=unreadable,
        raw=None if unreadable is None else raw,
    )

"""The worker: claims due tasks, runs their handlers, acknowledges or retries them."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import logging
import os
import queue
import random
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import redis
from redis.cluster import RedisCluster

from . import validation, worker_protocol
from .client import Scheduler
from .errors import InvalidInput, RefusalLog, is_refusal
from .eviction_watch import EvictionWatch
from .lease_events import LeaseAction, LeaseChange, LeaseObserver
from .plural import counted
from .presence import Presence
from .results import Result
from .settings import DEFAULT_LEASE_S
from .task import Task
from .worker_protocol import Lease, LeaseKeeper, lease_of

log = logging.getLogger("duetime.worker")

Handler = Callable[[Task], Any]

# Handler threads. A claim takes at most as many tasks as there are free threads, so
# this also sets the claim batch: 8 held a process to well under half of what 32
# drains (benchmarks/), and threads waiting on I/O cost little. Lower it for
# CPU-bound handlers, which the GIL serialises anyway.
DEFAULT_CONCURRENCY = 32
# A worker asked to stop waits this long for running handlers before handing them back.
DEFAULT_SHUTDOWN_GRACE_S = 30.0
# Sleeping workers are woken by Pub/Sub; this bounds the sleep should a message be lost.
MAX_IDLE_S = 1.0
# Claims take at most this many tasks per round trip.
MAX_CLAIM_BATCH = 200
# One blocking call in an async handler stalls every async handler of the worker (they
# share one event loop): a loop that falls this far behind is logged.
LOOP_LAG_WARNING_S = 1.0
_LOOP_TICK_S = 0.25
# Redis refusing us (ACL, credentials) lasts until someone changes the ACL: retry
# slowly, from a second up to this, so a misconfigured worker neither floods its log
# nor Redis.
MAX_REFUSED_BACKOFF_S = 30.0
_ERROR_TEXT_LIMIT = 4000
# What an observer is told about a record the claim script set aside (claim.lua keeps the
# full text in the dead letters).
QUARANTINE_REASON = "unreadable record: its header is not duetime's format or has an unknown status"


@dataclass(frozen=True)
class _Done:
    task: Task
    error: BaseException | None


@dataclass(frozen=True)
class _Wake:
    """Look for due tasks: on shard ``shard``, or on every shard (None)."""

    shard: int | None = None


_WAKE = _Wake()
_Event = _Done | _Wake


@dataclass
class _Turn:
    """When to claim from one shard next.

    A shard whose last claim filled its batch (``more_due``) or that was woken is asked
    again at once; one that returned less is left alone until its wake message, its next
    due time or lease expiry (``wake_at``), at most ``MAX_IDLE_S``; one whose call failed,
    until ``wake_at`` after a backoff.
    """

    more_due: bool = True
    wake_at: float = 0.0
    backoff: float = 0.0
    previous_claim: str = ""

    def ready(self, now: float) -> bool:
        return (self.backoff == 0 and self.more_due) or now >= self.wake_at


class Worker:
    """Runs handlers for the tasks of one namespace until :meth:`stop` or SIGTERM.

    ``handlers`` maps a task type to a callable taking a :class:`Task`; coroutine
    functions work too. A handler that returns finishes its task; one that raises
    is retried with backoff (``duetime.retry``) and dead-lettered after its last
    attempt. A task type without a handler is dead-lettered at once, with a log line.

    In a sharded namespace (``Scheduler(shards=N)``) the worker claims from every shard,
    one claim per shard in turn, starting from a different shard each round so that no
    shard starves; a shard that had nothing due is not asked again until its wake
    message, its next due time or ``MAX_IDLE_S``.

    Many workers, in many processes and machines, may share a namespace. Each holds
    the tasks it runs under a lease of ``lease_s`` seconds that it renews while they
    run; if the worker dies, another one runs them again once the lease expires.

    ``handler_timeout_s`` (every type) and ``handler_timeouts`` (task type -> seconds,
    overriding it) bound how long a handler may run: past it the worker stops renewing
    the task's lease, frees its slot and records the run as failed ("handler timed out
    after N s"), so it is retried with backoff and counts against ``max_attempts``. An
    async handler is cancelled. A sync handler's thread cannot be stopped in Python: it
    keeps running, a new thread takes its place, and whatever it returns is discarded.

    ``concurrency`` is 1 to 1024 threads, ``lease_s`` 0.1 s to a day,
    ``shutdown_grace_s`` 0 to a day and timeouts 0.01 s to a day; other values raise
    :class:`InvalidInput`.
    ``observer``, if given, is called with a :class:`~duetime.lease_events.LeaseChange`
    for every lease the worker got or presented and Redis's answer. While it runs, the
    worker sends a heartbeat every few seconds (:mod:`duetime.presence`), so that
    dashboards and ``duetime_workers_alive`` can tell it is alive.
    """

    def __init__(
        self,
        scheduler: Scheduler,
        handlers: Mapping[str, Handler],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        lease_s: float = DEFAULT_LEASE_S,
        shutdown_grace_s: float = DEFAULT_SHUTDOWN_GRACE_S,
        cron: bool = True,
        name: str | None = None,
        observer: LeaseObserver | None = None,
        handler_timeout_s: float | None = None,
        handler_timeouts: Mapping[str, float] | None = None,
    ) -> None:
        if not isinstance(scheduler, Scheduler):
            raise InvalidInput(f"scheduler must be a Scheduler, not {type(scheduler).__name__}")
        self.scheduler = scheduler
        self.handlers = validation.handlers(handlers)
        self.concurrency = validation.concurrency(concurrency)
        self.lease_ms = int(validation.lease_s(lease_s) * 1000)
        self.shutdown_grace_s = validation.shutdown_grace_s(shutdown_grace_s)
        if not isinstance(cron, bool):
            raise InvalidInput(f"cron must be True or False, not {cron!r}")
        self.cron = cron
        self.name = (
            f"{socket.gethostname()}:{os.getpid()}"
            if name is None
            else validation.label("name", name)
        )
        if observer is not None and not callable(observer):
            raise InvalidInput(f"observer must be callable, not {type(observer).__name__}")
        self._observer = observer
        self.handler_timeout_s = (
            None
            if handler_timeout_s is None
            else validation.handler_timeout_s("handler_timeout_s", handler_timeout_s)
        )
        self.handler_timeouts = validation.handler_timeouts(handler_timeouts or {})
        self._events: queue.SimpleQueue[_Event] = queue.SimpleQueue()
        self._jobs: queue.SimpleQueue[tuple[Handler, Task] | None] = queue.SimpleQueue()
        # By lease, not task id: after its lease expired, a worker may claim a task whose
        # first run it still runs, and the first run's refused ack must not drop the second.
        self._held: dict[Lease, Task] = {}
        self._held_lock = threading.Lock()
        # Under _held_lock: leases Redis said this worker lost (no longer renewed), leases
        # whose ack or release is on its way (a renewal that races it is no loss), runs
        # that returned (their result is queued), runs past their timeout.
        self._lost: set[Lease] = set()
        self._settling: set[Lease] = set()
        self._returned: set[Lease] = set()
        self._abandoned: set[Lease] = set()
        # Main thread only: when each run with a timeout is due to end, and async runs.
        self._deadlines: dict[Lease, tuple[float, float]] = {}
        self._futures: dict[Lease, concurrent.futures.Future[Any]] = {}
        self._threads = 0
        self._stopping = threading.Event()
        self._halt = threading.Event()
        self._abort = threading.Event()
        self._rng = random.Random()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._services: list[threading.Thread] = []

    # -- public ------------------------------------------------------------

    def stop(self) -> None:
        """Stop claiming, let running handlers finish (up to the grace period), then return."""
        self._stopping.set()
        self._events.put(_WAKE)

    def run(self) -> None:
        """Run until :meth:`stop` (or SIGTERM / SIGINT when called from the main thread)."""
        restore = self._install_signals()
        keeper = LeaseKeeper(
            self.scheduler, self.lease_ms, self._renewable, self._on_lost, self._renewed
        )
        cron_stop = threading.Event()
        try:
            self._start_threads(cron_stop)
            keeper.start()
            log.info(
                "worker %s started: %s namespace %r, types %s, concurrency %d",
                self.name,
                self.scheduler.url or "Redis",
                self.scheduler.namespace,
                sorted(self.handlers),
                self.concurrency,
            )
            self._main_loop()
        finally:
            keeper.stop()
            cron_stop.set()
            self._halt.set()
            for _ in range(self.concurrency):
                self._jobs.put(None)
            self._close_async_loop()
            restore()
            # The listener and the ticker let go of their connections before the caller
            # may close the client.
            for t in self._services:
                t.join(timeout=MAX_IDLE_S + 1)
            log.info("worker %s stopped", self.name)

    # -- the loop ----------------------------------------------------------

    def _main_loop(self) -> None:
        to_ack: list[Lease] = []
        try:
            self._loop_until_stopped(to_ack)
        finally:
            # Also after a bug or a record the loop could not handle: what this worker
            # holds goes back now, instead of staying leased while its leases expire.
            self._finish(to_ack)

    def _loop_until_stopped(self, to_ack: list[Lease]) -> None:
        # One per shard, made once the shard count is known (Redis may be down at start).
        turns: list[_Turn] = []
        rotation = 0
        stop_deadline: float | None = None
        # After a failed ack or shard-count read: nothing is sent before retry_at.
        backoff = 0.0
        retry_at = 0.0
        refusals = RefusalLog(log, "worker", MAX_REFUSED_BACKOFF_S)
        while True:
            room = self.concurrency - len(self._held)
            now = time.monotonic()
            if self._stopping.is_set():
                if stop_deadline is None:
                    stop_deadline = now + self.shutdown_grace_s
                    log.info("stopping: waiting for %s", counted(len(self._held), "running task"))
                if not self._held or self._abort.is_set() or now >= stop_deadline:
                    break
                timeout = max(0.0, stop_deadline - now)
            elif backoff:
                timeout = max(0.0, min(retry_at - now, MAX_IDLE_S))
            elif room > 0 and (not turns or any(t.ready(now) for t in turns)):
                timeout = 0.0
            elif room > 0:
                timeout = max(0.0, min(min(t.wake_at for t in turns) - now, MAX_IDLE_S))
            else:
                timeout = MAX_IDLE_S
            if self._deadlines:
                first = min(deadline for deadline, _ in self._deadlines.values())
                timeout = max(0.0, min(timeout, first - time.monotonic()))

            for shard in self._collect(to_ack, timeout):
                for i, turn in enumerate(turns):
                    if shard is None or shard == i:
                        turn.more_due = True
            self._time_out(to_ack)
            if backoff and time.monotonic() < retry_at:
                continue
            called = bool(to_ack)
            try:
                if to_ack:
                    self._ack(to_ack)
                if not turns:
                    turns = [_Turn() for _ in self.scheduler.shard_keys()]
                    called = True
            except redis.RedisError as exc:
                backoff = self._backed_off(exc, backoff, refusals)
                retry_at = time.monotonic() + backoff
                continue
            backoff = 0.0
            if not self._stopping.is_set() and self.concurrency > len(self._held):
                called = self._claim_round(turns, rotation, refusals) or called
                rotation = (rotation + 1) % len(turns)
            if called and not any(t.backoff for t in turns):
                refusals.allowed()
                self.scheduler.outage.recovered()

    def _claim_round(self, turns: list[_Turn], rotation: int, refusals: RefusalLog) -> bool:
        """One claim from each shard that is ready, starting at shard ``rotation``, while
        there is room; the room is shared among the ready shards. True if any was asked."""
        n = len(turns)
        now = time.monotonic()
        ready = [i for i in (rotation + k for k in range(n)) if turns[i % n].ready(now)]
        called = False
        for asked, i in enumerate(ready):
            turn = turns[i % n]
            room = self.concurrency - len(self._held)
            if room <= 0:
                break
            limit = min(room, MAX_CLAIM_BATCH, -(-room // (len(ready) - asked)))
            called = True
            sent = time.monotonic()
            try:
                got = worker_protocol.claim(
                    self.scheduler, self.lease_ms, limit, turn.previous_claim, i % n
                )
            except redis.RedisError as exc:
                turn.backoff = self._backed_off(exc, turn.backoff, refusals)
                turn.more_due = True
                turn.wake_at = time.monotonic() + turn.backoff
                continue
            turn.backoff = 0.0
            turn.previous_claim = got.claim_id
            for task in got.tasks:
                self._observe(
                    "claim",
                    lease_of(task),
                    True,
                    sent,
                    task.attempt,
                    task=task,
                    claimed_at=got.now_ms / 1000,
                )
                self._dispatch(task)
            if got.buried:
                log.warning(
                    "%s out of attempts after lost leases",
                    counted(got.buried, "task ran", "tasks ran"),
                )
            self._report_bad_data(got, sent)
            turn.more_due = len(got.tasks) + len(got.unreadable) == limit
            turn.wake_at = time.monotonic() + (
                MAX_IDLE_S
                if got.next_wake_ms is None
                else max(0.0, (got.next_wake_ms - got.now_ms) / 1000)
            )
        return called

    def _backed_off(self, exc: redis.RedisError, backoff: float, refusals: RefusalLog) -> float:
        """Log a failed call as the kind of failure it is; the next, longer, backoff."""
        if is_refusal(exc):
            refusals.refused(exc)
            return min(MAX_REFUSED_BACKOFF_S, max(1.0, backoff * 2))
        backoff = min(1.0, max(0.05, backoff * 2))
        if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
            # Retry within a second, so work resumes soon after Redis does; the outage log
            # keeps the log from saying so every time.
            self.scheduler.outage.failed(exc)
        else:
            log.warning("Redis call failed, retrying in %.2fs: %s", backoff, exc)
        return backoff

    def _collect(self, to_ack: list[Lease], timeout: float) -> set[int | None]:
        """Wait up to ``timeout`` for events, then take all that are queued. Returns the
        shards woken (None: every shard)."""
        woken: set[int | None] = set()
        try:
            event = self._events.get(timeout=timeout) if timeout > 0 else self._events.get_nowait()
        except queue.Empty:
            return woken
        while True:
            if isinstance(event, _Done):
                self._settle(event, to_ack)
            else:
                woken.add(event.shard)
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return woken

    def _time_out(self, to_ack: list[Lease]) -> None:
        """Fail the runs that outlived their handler timeout."""
        now = time.monotonic()
        for lease, (deadline, limit_s) in list(self._deadlines.items()):
            if now < deadline:
                continue
            del self._deadlines[lease]
            with self._held_lock:
                task = self._held.get(lease)
                if task is None or lease in self._returned:
                    continue  # it returned meanwhile: its result is queued
                self._abandoned.add(lease)
            future = self._futures.pop(lease, None)
            if future is not None:
                future.cancel()
                how = "cancelled"
            else:
                self._start_handler_thread()
                how = "its thread keeps running (Python cannot stop it), its result is discarded"
            log.warning("task %s: handler timed out after %gs; %s", task.task_id, limit_s, how)
            self._settle(_Done(task, _TimedOut(f"handler timed out after {limit_s:g} s")), to_ack)

    def _settle(self, done: _Done, to_ack: list[Lease]) -> None:
        task = done.task
        lease = lease_of(task)
        self._deadlines.pop(lease, None)
        self._futures.pop(lease, None)
        with self._held_lock:
            self._returned.discard(lease)
            if lease in self._abandoned and not isinstance(done.error, _TimedOut):
                # An async run cancelled at its timeout ending now: its run was failed.
                self._abandoned.discard(lease)
                return
        if done.error is None:
            to_ack.append(lease)
            return
        with self._held_lock:
            self._held.pop(lease, None)
            self._lost.discard(lease)
        err = done.error
        delay: int | None = None
        if isinstance(err, _NoHandler):
            # A sentence for whoever reads the dead letters, not a private class name.
            text = str(err)
            log.error("%s; task %s goes to the dead-letter set", text, task.task_id)
        else:
            text = (
                str(err)
                if isinstance(err, _WorkerVerdict)
                else "".join(traceback.format_exception_only(type(err), err)).strip()
            )
            delay = int(self.scheduler.retry.delay_s(task.attempt, self._rng) * 1000)
        sent = time.monotonic()
        try:
            outcome = worker_protocol.fail(
                self.scheduler, task.task_id, task.token, text[:_ERROR_TEXT_LIMIT], delay
            )
        except redis.RedisError as exc:
            log.warning(
                "could not record the failure of %s (lease will expire): %s", task.task_id, exc
            )
            return
        self._observe(
            "fail",
            lease_of(task),
            outcome is not Result.REFUSED,
            sent,
            dead_lettered=outcome is Result.BURIED,
        )
        if outcome is Result.REFUSED:
            log.warning("task %s failed after its lease was lost", task.task_id)
        elif outcome is Result.BURIED and delay is not None:
            log.error(
                "task %s failed on its last attempt (%d): %s", task.task_id, task.attempt, text
            )
        else:
            log.info("task %s attempt %d failed: %s", task.task_id, task.attempt, text)

    def _report_bad_data(self, got: worker_protocol.Claimed, sent: float) -> None:
        """Log what the claim found broken, once each, and bury the tasks it could not read.

        A task whose id, type or payload cannot be read runs no handler: it goes to the dead
        letters with the reason (its raw record is kept), and its batch-mates run.
        """
        if got.lost:
            self._observe("lost", ("", 0), True, sent, count=got.lost)
            log.error(
                "Redis lost %d task records this scheduler indexed: eviction or data loss? "
                "(check maxmemory-policy is noeviction and how Redis persists; "
                "stats().lost counts them)",
                got.lost,
            )
        for tid in got.quarantined:
            self._observe("quarantine", (tid, 0), True, sent, reason=QUARANTINE_REASON)
            log.error(
                "task %s has an unreadable record: moved to the dead letters as it is "
                "(its raw bytes and the reason are kept; see dead_letters())",
                tid,
            )
        for bad in got.unreadable:
            lease = (bad.shown_id, bad.token)
            self._observe("claim", lease, True, time.monotonic())
            sent = time.monotonic()
            try:
                outcome = worker_protocol.fail(
                    self.scheduler, bad.task_id, bad.token, bad.reason[:_ERROR_TEXT_LIMIT], None
                )
            except redis.RedisError as exc:
                log.warning(
                    "could not dead-letter unreadable task %s (its lease will expire): %s",
                    bad.shown_id,
                    exc,
                )
                continue
            self._observe(
                "fail",
                lease,
                outcome is not Result.REFUSED,
                sent,
                reason=bad.reason,
                dead_lettered=True,
            )
            log.error(
                "task %s cannot be read (%s): moved to the dead letters, no handler ran",
                bad.shown_id,
                bad.reason,
            )

    def _ack(self, to_ack: list[Lease]) -> None:
        """Ack ``to_ack``, one call per shard; the leases of a shard whose call failed stay
        in ``to_ack`` (the error is raised once the other shards' acks are settled)."""
        with self._held_lock:
            self._settling.update(to_ack)
        settled: list[tuple[Lease, bool]] = []
        failed: redis.RedisError | None = None
        sent = time.monotonic()
        for positions in self.scheduler.by_shard(tid for tid, _ in to_ack).values():
            part = [to_ack[p] for p in positions]
            try:
                settled += zip(part, worker_protocol.ack(self.scheduler, part), strict=True)
            except redis.RedisError as exc:
                failed = failed or exc
        with self._held_lock:
            for lease, _ in settled:
                self._held.pop(lease, None)
                self._settling.discard(lease)
                self._lost.discard(lease)
        # Outside the lock: handler threads and the lease keeper wait on it, and an
        # observer may write to files or count under locks of its own.
        for lease, ok in settled:
            self._observe("ack", lease, ok, sent)
            if not ok:
                log.warning(
                    "ack of %s refused: its lease was taken over or it was cancelled", lease[0]
                )
        done = {lease for lease, _ in settled}
        to_ack[:] = [lease for lease in to_ack if lease not in done]
        if failed is not None:
            raise failed

    def _finish(self, to_ack: list[Lease]) -> None:
        self._collect(to_ack, 0)
        try:
            if to_ack:
                self._ack(to_ack)
            leftover = self._held_pairs()
            if leftover:
                with self._held_lock:
                    self._settling.update(leftover)
                sent = time.monotonic()
                handed = worker_protocol.release(self.scheduler, leftover)
                for lease, ok in zip(leftover, handed, strict=False):
                    self._observe("release", lease, ok, sent)
                log.warning("handed back %s at shutdown", counted(sum(handed), "running task"))
        except redis.RedisError as exc:
            log.warning("could not hand tasks back at shutdown (their leases will expire): %s", exc)

    # -- running handlers --------------------------------------------------

    def _dispatch(self, task: Task) -> None:
        lease = lease_of(task)
        with self._held_lock:
            self._held[lease] = task
        handler = self.handlers.get(task.task_type)
        limit_s = self.handler_timeouts.get(task.task_type, self.handler_timeout_s)
        if handler is not None and limit_s is not None:
            self._deadlines[lease] = (time.monotonic() + limit_s, limit_s)
        if handler is None:
            known = ", ".join(sorted(self.handlers)) or "none"
            self._events.put(
                _Done(
                    task,
                    _NoHandler(
                        f"no handler for task type {task.task_type!r} in this worker "
                        f"({self.name}, which handles: {known})"
                    ),
                )
            )
        elif inspect.iscoroutinefunction(handler):
            fut = asyncio.run_coroutine_threadsafe(handler(task), self._async_loop())
            self._futures[lease] = fut

            def settled(f: concurrent.futures.Future[Any], t: Task = task) -> None:
                # Always post a result: a run that raised CancelledError (or was cancelled)
                # makes f.exception() raise, and a run nobody settles is renewed forever.
                error: BaseException | None
                try:
                    if f.cancelled():
                        error = _Cancelled("the handler was cancelled")
                    else:
                        error = f.exception()
                except BaseException as exc:
                    error = exc
                with self._held_lock:
                    self._returned.add(lease_of(t))
                self._events.put(_Done(t, error))

            fut.add_done_callback(settled)
        else:
            self._jobs.put((handler, task))

    def _pool_thread(self) -> None:
        while (job := self._jobs.get()) is not None:
            handler, task = job
            error: BaseException | None = None
            try:
                result = handler(task)
                if inspect.isawaitable(result):
                    asyncio.run_coroutine_threadsafe(_await(result), self._async_loop()).result()
            except BaseException as exc:
                error = exc
            lease = lease_of(task)
            with self._held_lock:
                if lease in self._abandoned:
                    # Timed out: the run was failed, and another thread took this one's place.
                    self._abandoned.discard(lease)
                    log.info(
                        "task %s: a timed-out handler returned; its result is discarded",
                        task.task_id,
                    )
                    return
                self._returned.add(lease)
            self._events.put(_Done(task, error))

    def _start_handler_thread(self) -> None:
        self._threads += 1
        t = threading.Thread(target=self._pool_thread, name=f"handler-{self._threads}", daemon=True)
        t.start()

    def _async_loop(self) -> asyncio.AbstractEventLoop:
        with self._held_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                t = threading.Thread(target=loop.run_forever, name="async-handlers", daemon=True)
                t.start()
                asyncio.run_coroutine_threadsafe(_watch_lag(), loop)
                self._loop, self._loop_thread = loop, t
            return self._loop

    def _close_async_loop(self) -> None:
        """Cancel what still runs on the async handlers' loop (handed back already), then
        stop and close it."""
        with self._held_lock:
            loop, thread = self._loop, self._loop_thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(concurrent.futures.TimeoutError):
            asyncio.run_coroutine_threadsafe(_cancel_others(), loop).result(timeout=MAX_IDLE_S + 1)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=MAX_IDLE_S)
        if not thread.is_alive():  # a handler that blocks the loop keeps it (daemon thread)
            loop.close()

    # -- plumbing ----------------------------------------------------------

    def _start_threads(self, cron_stop: threading.Event) -> None:
        for _ in range(self.concurrency):
            self._start_handler_thread()
        self._services = [threading.Thread(target=self._listen, name="wake-listener", daemon=True)]
        if self.cron:
            self._services.append(
                threading.Thread(
                    target=self.scheduler.run_cron, args=(cron_stop,), name="cron", daemon=True
                )
            )
        # Its own thread, so "alive" means the process runs, however busy the main loop.
        presence = Presence(self.scheduler, self.name)
        self._services.append(
            threading.Thread(target=presence.run, args=(self._halt,), name="heartbeat", daemon=True)
        )
        if self.scheduler.allow_eviction and not isinstance(self.scheduler.redis, RedisCluster):
            watch = EvictionWatch(
                self.scheduler.redis,
                self.scheduler.namespace,
                lambda: self.scheduler.scripts.server().evicts,
                self._evicted,
            )
            self._services.append(
                threading.Thread(
                    target=watch.run, args=(self._halt,), name="eviction-watch", daemon=True
                )
            )
        for t in self._services:
            t.start()

    def _evicted(self, keys: int) -> None:
        self._observe("evicted", ("", 0), True, time.monotonic(), count=keys)

    def _listen(self) -> None:
        """Turn Pub/Sub wake messages into wake events; resubscribe after errors."""
        delay = 0.05
        refusals = RefusalLog(
            log, f"wake listener (channel {self.scheduler.keys.wake})", MAX_REFUSED_BACKOFF_S
        )
        while not self._halt.is_set():
            pubsub = self.scheduler.redis.pubsub(  # type: ignore[no-untyped-call,unused-ignore]
                ignore_subscribe_messages=True
            )
            try:
                # One channel per shard; a message names the shard that has a new head.
                channels = {k.wake.encode(): i for i, k in enumerate(self.scheduler.shard_keys())}
                pubsub.subscribe(*channels)
                # A message published while we were not subscribed is lost: look once.
                self._events.put(_WAKE)
                while not self._halt.is_set():
                    message = pubsub.get_message(timeout=MAX_IDLE_S)
                    # Here Redis has accepted the SUBSCRIBE: its refusal raises above.
                    delay = 0.05
                    refusals.allowed()
                    if message is not None:
                        channel = message.get("channel")
                        if isinstance(channel, str):
                            channel = channel.encode()
                        self._events.put(_Wake(channels.get(channel)))
            except Exception as exc:  # the listener must outlive any connection trouble
                if is_refusal(exc):
                    # Without wake-ups the worker still claims every MAX_IDLE_S.
                    delay = min(MAX_REFUSED_BACKOFF_S, max(1.0, delay * 2))
                    refusals.refused(exc)
                    self._halt.wait(delay)
                else:
                    log.debug("wake listener: %r", exc)
                    self._halt.wait(delay)
                    delay = min(1.0, delay * 2)
            finally:
                with contextlib.suppress(redis.RedisError):
                    pubsub.close()

    def _held_pairs(self) -> list[Lease]:
        with self._held_lock:
            return list(self._held)

    def _renewable(self) -> list[Lease]:
        with self._held_lock:
            return [lease for lease in self._held if lease not in self._lost]

    def _renewed(self, held: list[Lease], lost: set[Lease], sent: float) -> None:
        for lease in held:
            self._observe("renew", lease, lease not in lost, sent)

    def _observe(
        self,
        action: LeaseAction,
        lease: Lease,
        accepted: bool,
        sent: float,
        attempt: int = 0,
        *,
        reason: str = "",
        count: int = 0,
        task: Task | None = None,
        claimed_at: float | None = None,
        dead_lettered: bool = False,
    ) -> None:
        if self._observer is None:
            return
        try:
            self._observer(
                LeaseChange(
                    action,
                    lease[0],
                    lease[1],
                    accepted,
                    sent,
                    attempt,
                    reason=reason,
                    count=count,
                    task=task,
                    claimed_at=claimed_at,
                    dead_lettered=dead_lettered and accepted,
                )
            )
        except Exception:
            # An observer is a bystander: its failure must not change what the worker does.
            log.exception("the lease observer raised; the worker carries on")

    def _on_lost(self, lost: set[Lease]) -> None:
        with self._held_lock:
            # A renewal that crossed this worker's own ack, fail or release lost nothing:
            # only a lease still held and not being settled was taken over or expired.
            lost = {lease for lease in lost if lease in self._held and lease not in self._settling}
            self._lost |= lost
        if not lost:
            return
        log.warning(
            "lost the lease of %s (%s): another worker may run them",
            counted(len(lost), "running task"),
            ", ".join(f"{tid} token {token}" for tid, token in sorted(lost)[:5]),
        )

    def _install_signals(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}

        def handle(signum: int, frame: object) -> None:
            if self._stopping.is_set() and signum == signal.SIGINT:
                self._abort.set()  # a second Ctrl-C: hand back now
            self.stop()

        for s in previous:
            signal.signal(s, handle)

        def restore() -> None:
            for s, h in previous.items():
                signal.signal(s, h)

        return restore


class _NoHandler(Exception):
    pass


class _WorkerVerdict(Exception):
    """A failure the worker decided, its text a sentence for the dead letters."""


class _TimedOut(_WorkerVerdict):
    pass


class _Cancelled(_WorkerVerdict):
    pass


async def _await(awaitable: Any) -> Any:
    return await awaitable


async def _cancel_others() -> None:
    others = asyncio.all_tasks() - {asyncio.current_task()}
    for task in others:
        task.cancel()
    if others:
        await asyncio.wait(others, timeout=MAX_IDLE_S)


async def _watch_lag() -> None:
    """Log when the async handlers' event loop falls behind: a handler blocked it."""
    loop = asyncio.get_running_loop()
    while True:
        start = loop.time()
        await asyncio.sleep(_LOOP_TICK_S)
        lag = loop.time() - start - _LOOP_TICK_S
        if lag > LOOP_LAG_WARNING_S:
            log.warning(
                "the async handlers' event loop was blocked for %.1fs: an async handler made "
                "a blocking call, and every async handler of this worker waited for it "
                "(run blocking code in a sync handler or with asyncio.to_thread)",
                lag,
            )

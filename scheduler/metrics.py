"""Prometheus metrics: what a worker did, and where a namespace stands.

:class:`WorkerMetrics` counts what one worker did, from the lease changes it reports
(``Worker(observer=metrics.observe)``), its handlers (``metrics.instrument(handlers)``)
and the tasks its process scheduled (``Scheduler(on_scheduled=metrics.scheduled)``).
:class:`NamespaceCollector` reads a namespace's gauges from Redis at each scrape; the
worker's ``--metrics-port`` and ``python -m duetime metrics`` serve both.

Each instance has its own :class:`~prometheus_client.CollectorRegistry`: nothing is
registered globally. Labels are the namespace, the task type and, for refused changes,
the kind of change: never a task id.
"""

from __future__ import annotations

import functools
import inspect
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .client import Scheduler
from .lease_events import LeaseChange, LeaseObserver
from .presence import workers_alive
from .task import Task

Handler = Callable[[Task], Any]

# Start - due: 1 ms to 1 h.
LATENESS_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0,
)  # fmt: skip
HANDLER_BUCKETS = (
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
)  # fmt: skip
# The type of a claimed task whose record cannot be read.
UNREADABLE_TYPE = "unreadable"
# Leases claimed and not yet settled, remembered for their task type. A lease whose fail
# Redis never answered is never settled: beyond this many the oldest are forgotten.
_MAX_HELD = 65536


class WorkerMetrics:
    """Counters and histograms of one worker, in a registry of their own.

    ``observe`` is a :data:`~duetime.lease_events.LeaseObserver`; ``chain`` passes each
    change on to another observer too. Early starts (a claim before the task's due time,
    by Redis's clock) must stay 0: alert on any.
    """

    def __init__(self, namespace: str, registry: CollectorRegistry | None = None) -> None:
        self.namespace = namespace
        self.registry = registry if registry is not None else CollectorRegistry()
        labels = ("namespace", "task_type")

        def counter(name: str, doc: str, extra: tuple[str, ...] = ()) -> Counter:
            return Counter(name, doc, labels + extra, registry=self.registry)

        self.scheduled_total = counter(
            "duetime_tasks_scheduled", "Tasks this process created (recurring slots included)."
        )
        self.claimed_total = counter("duetime_tasks_claimed", "Runs this worker claimed.")
        self.succeeded_total = counter(
            "duetime_tasks_succeeded", "Runs whose handler returned and whose ack Redis accepted."
        )
        self.failed_total = counter(
            "duetime_tasks_failed",
            "Runs that failed (handler raised, or no handler) and whose failure Redis recorded.",
        )
        self.retried_total = counter(
            "duetime_tasks_retried", "Failed runs whose task waits for another attempt."
        )
        self.dead_lettered_total = counter(
            "duetime_tasks_dead_lettered", "Failed runs whose task went to the dead letters."
        )
        self.released_total = counter(
            "duetime_tasks_released", "Runs handed back at shutdown for another worker to take."
        )
        self.fenced_total = counter(
            "duetime_fenced_changes",
            "State changes Redis refused because the lease was no longer this run's "
            "(taken over or cancelled), by kind: ack, fail, renew, release.",
            ("kind",),
        )
        self.early_starts_total = counter(
            "duetime_early_starts",
            "Runs claimed before their due time by Redis's clock. Must stay 0.",
        )
        self.records_lost_total = Counter(
            "duetime_records_lost",
            "Task records a claim found gone from Redis though indexed (eviction, data loss).",
            ("namespace",),
            registry=self.registry,
        )
        self.keys_evicted_total = Counter(
            "duetime_redis_keys_evicted",
            "Keys Redis evicted while this worker watched, under an evicting maxmemory-policy "
            "it was allowed to run with: tasks may be lost.",
            ("namespace",),
            registry=self.registry,
        )
        self.lateness_seconds = Histogram(
            "duetime_task_lateness_seconds",
            "Start (claim, by Redis's clock) minus due time, of each task's first run.",
            labels,
            buckets=LATENESS_BUCKETS,
            registry=self.registry,
        )
        self.handler_seconds = Histogram(
            "duetime_handler_duration_seconds",
            "How long handlers ran, successful or not.",
            labels,
            buckets=HANDLER_BUCKETS,
            registry=self.registry,
        )
        self._types: dict[tuple[str, int], str] = {}
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def scheduled(self, task_type: str, count: int) -> None:
        """Count tasks created: pass as ``Scheduler(on_scheduled=...)``."""
        self.scheduled_total.labels(self.namespace, task_type).inc(count)

    def observe(self, change: LeaseChange) -> None:
        """Count one lease change: pass as ``Worker(observer=...)``."""
        lease = (change.task_id, change.token)
        if change.action == "quarantine":  # set aside unread: to the dead letters, no run
            self.dead_lettered_total.labels(self.namespace, UNREADABLE_TYPE).inc()
            return
        if change.action == "lost":
            self.records_lost_total.labels(self.namespace).inc(change.count)
            return
        if change.action == "evicted":
            self.keys_evicted_total.labels(self.namespace).inc(change.count)
            return
        if change.action == "claim":
            task_type = UNREADABLE_TYPE if change.task is None else change.task.task_type
            with self._lock:
                self._types[lease] = task_type
                if len(self._types) > _MAX_HELD:
                    del self._types[next(iter(self._types))]
            self._first_sight(task_type)
            self.claimed_total.labels(self.namespace, task_type).inc()
            if change.task is not None and change.claimed_at is not None:
                late = change.claimed_at - change.task.due_at
                if late < 0:
                    self.early_starts_total.labels(self.namespace, task_type).inc()
                if change.attempt == 1:
                    self.lateness_seconds.labels(self.namespace, task_type).observe(max(0.0, late))
            return
        with self._lock:
            task_type = (
                self._types.get(lease, UNREADABLE_TYPE)
                if change.action == "renew"
                else self._types.pop(lease, UNREADABLE_TYPE)
            )
        if not change.accepted:
            self.fenced_total.labels(self.namespace, task_type, change.action).inc()
        elif change.action == "ack":
            self.succeeded_total.labels(self.namespace, task_type).inc()
        elif change.action == "fail":
            self.failed_total.labels(self.namespace, task_type).inc()
            if change.dead_lettered:
                self.dead_lettered_total.labels(self.namespace, task_type).inc()
            else:
                self.retried_total.labels(self.namespace, task_type).inc()
        elif change.action == "release":
            self.released_total.labels(self.namespace, task_type).inc()

    def _first_sight(self, task_type: str) -> None:
        """Show a type's counters at 0, so that a rate or an alert has a series to read."""
        if task_type in self._seen:
            return
        self._seen.add(task_type)
        for counter in (
            self.succeeded_total,
            self.failed_total,
            self.retried_total,
            self.dead_lettered_total,
            self.released_total,
            self.early_starts_total,
        ):
            counter.labels(self.namespace, task_type)
        for kind in ("ack", "fail", "renew", "release"):
            self.fenced_total.labels(self.namespace, task_type, kind)

    def chain(self, other: LeaseObserver | None) -> LeaseObserver:
        """An observer that counts each change, then passes it on to ``other``."""
        if other is None:
            return self.observe
        after = other

        def both(change: LeaseChange) -> None:
            self.observe(change)
            after(change)

        return both

    def instrument(self, handlers: Mapping[str, Handler]) -> dict[str, Handler]:
        """The same handlers, each timed into ``duetime_handler_duration_seconds``."""
        return {name: self._timed(h) for name, h in handlers.items()}

    def _timed(self, handler: Handler) -> Handler:
        if not callable(handler):
            return handler  # the Worker refuses it, saying why
        if inspect.iscoroutinefunction(handler):

            @functools.wraps(handler)
            async def timed_async(task: Task) -> Any:
                start = time.perf_counter()
                try:
                    return await handler(task)
                finally:
                    self._ran(task, time.perf_counter() - start)

            return timed_async

        @functools.wraps(handler)
        def timed(task: Task) -> Any:
            start = time.perf_counter()
            try:
                return handler(task)
            finally:
                self._ran(task, time.perf_counter() - start)

        return timed

    def _ran(self, task: Task, seconds: float) -> None:
        self.handler_seconds.labels(self.namespace, task.task_type).observe(seconds)


class NamespaceCollector(Collector):
    """The gauges of one namespace, read from Redis at each scrape.

    ``duetime_tasks{state=...}`` by state (due, scheduled, in_flight, retrying, dead),
    the age of the oldest due task, and the workers that sent a heartbeat lately. A
    scrape while Redis cannot be reached yields ``duetime_redis_up 0`` and no gauges.
    """

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler

    def collect(self) -> Iterator[GaugeMetricFamily]:
        ns = self.scheduler.namespace
        up = GaugeMetricFamily(
            "duetime_redis_up", "1 if the last scrape could read Redis.", labels=["namespace"]
        )
        try:
            snapshot = namespace_snapshot(self.scheduler)
        except Exception:
            up.add_metric([ns], 0)
            yield up
            return
        up.add_metric([ns], 1)
        yield up
        tasks = GaugeMetricFamily(
            "duetime_tasks", "Tasks of the namespace by state.", labels=["namespace", "state"]
        )
        for state in ("due", "scheduled", "in_flight", "retrying", "dead"):
            tasks.add_metric([ns, state], snapshot[state])
        yield tasks
        oldest = GaugeMetricFamily(
            "duetime_oldest_due_age_seconds",
            "How long the oldest due task has waited past its due time (0: none due).",
            labels=["namespace"],
        )
        oldest.add_metric([ns], snapshot["oldest_due_age_s"])
        yield oldest
        alive = GaugeMetricFamily(
            "duetime_workers_alive",
            "Workers that sent a heartbeat within the last 15 s.",
            labels=["namespace"],
        )
        alive.add_metric([ns], snapshot["workers_alive"])
        yield alive


def namespace_snapshot(scheduler: Scheduler) -> dict[str, float]:
    """Counts by state, the oldest due task's age and the workers alive, from Redis."""
    stats = scheduler.stats()
    oldest = 0.0
    for keys in scheduler.shard_keys():
        first: Any = scheduler.redis.zrange(keys.due, 0, 0, withscores=True)
        if first:
            age = (scheduler.now_ms(keys) - float(first[0][1])) / 1000
            oldest = max(oldest, age)
    return {
        "due": stats.due,
        "scheduled": stats.scheduled,
        "in_flight": stats.in_flight,
        "retrying": stats.retrying,
        "dead": stats.dead,
        "oldest_due_age_s": oldest,
        "workers_alive": len(workers_alive(scheduler)),
    }


def serve(registry: CollectorRegistry, port: int, addr: str = "0.0.0.0") -> Callable[[], None]:
    """Serve ``registry`` on ``http://addr:port/metrics`` from a thread; returns a stopper."""
    server, thread = start_http_server(port, addr=addr, registry=registry)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop

"""poll-remove-run: a sorted set per task type, a hash per task, pollers that remove, then run.

Source: Clara Jiménez, "Redis Tasks Scheduler" (blog post, Node.js with ioredis and
node-cron). Rewritten here in Python; nothing is copied.

The design
----------
- Each task type has a sorted set ``{ns}:tasks:{type}``: member = task id, score =
  due time in epoch **milliseconds** (a JavaScript ``Date`` drops the fraction of a
  millisecond, so the float timestamp is truncated to whole ms: at most 1 ms early).
- Each task has a hash ``{ns}:tasks:{type}:{id}`` with its payload. The source puts the
  producer's own fields in it and says to stringify non-string values; here the
  producer's data is one JSON field ``data`` and ``scheduleDate`` is the due time in
  epoch seconds (what :class:`Delivery` reports as ``due_at``). Optional fields
  ``periodicity`` (days) and ``endDate`` (epoch seconds) drive the reschedule.
- Scheduling is ``ZADD`` then ``HSET``: two separate commands, as in the source.
- Every worker process runs one poller per task type it has a handler for: it asks
  ``ZRANGEBYSCORE set 0 <now ms>``; nothing due: wait ``TIMEOUT_WHEN_EMPTY_S``. Else it
  takes the first id and ``ZREM``s it (a 0 reply: another poller took it, wait
  ``TIMEOUT_S``), reads the hash (``HGETALL``); an empty hash is skipped silently.
  Otherwise the handler starts at once on a thread of its own, **not awaited** (the
  blog calls ``handler(taskDataObject)`` without ``await``, seeds/000 line 169: it
  starts at once, with no cap), and the poller waits ``TIMEOUT_S``.
  When the handler ends (an error is only logged: no retry), its thread ``DEL``s
  the hash and then reschedules when ``periodicity > 0`` and there is no end date or
  it is after the schedule date, if the type's ``check_before_reschedule`` hook (see
  ``CHECK_BEFORE_RESCHEDULE``; default: always) agrees: ``ZADD`` schedule date +
  periodicity days, then ``HSET`` the old payload merged with the hook's (the source
  deep-merges; the fields here are flat strings, so a dict merge is the same).
- Intervals: the blog's example is ``timeout`` 500 ms and ``timeoutWhenEmpty`` 10 s
  (seeds/000 lines 104-105). With one task taken per ``timeout`` per process, that
  would leave a testbed run far behind, so the default here scales both by the same
  factor (1/50): 10 ms and 200 ms (our choice). They are parameters
  (``--param timeout_s=`` / ``timeout_when_empty_s=``), and the variant
  ``poll-remove-run@source`` runs the blog's own 500 ms / 10 s: there the backlog waits
  in Redis (late) instead of being taken.
- The testbed's ``--concurrency`` is ignored: the blog starts every handler at once.
- Redis client: the blog uses ioredis (seeds/000 line 67), which resends a command
  whose reply was lost once it has reconnected (``autoResendUnfulfilledCommands``,
  up to ``maxRetriesPerRequest`` 20 times, waiting ``min(50 ms * n, 2 s)``). The
  design's connections do the same (redis-py ``Retry`` with that backoff), so a
  lost ``HGETALL`` reply is read again rather than lost. A resent ``ZREM`` that had
  been applied answers 0, which the blog reads as "another instance took it" (line
  152-153): that task is lost, by the blog's own check.
- Recurring tasks are not in Redis at all: the source uses in-process ``node-cron``
  timers, so :func:`run_cron` is a local croniter loop that calls the ``chaos_cron``
  handler itself for every slot. Every cron process fires every slot: two processes,
  two runs per slot. node-cron checks once a second and does not recover missed
  seconds, so a slot reached more than ``CRON_LATE_S`` late (the process was frozen)
  is skipped, and slots passed while the process was down are never run.
- Redis outages are waited out by :func:`process.keep_going` (the Node poller chain
  would stop at the first rejected command; the testbed gives every design a loop
  that survives). ``backlog()`` counts the members of every per-type sorted set.

Failure windows
---------------
- Worker crash after ``ZREM`` (while ``HGETALL`` is pending, or the handler runs):
  the task is gone for good; nothing brings it
  back, and its hash stays behind, orphaned (the source hints at a retry scan of
  hashes with no set entry, but does not implement one, so neither does this).
- Lost ``ZREM`` reply: ioredis resends it; the resend answers 0 and the poller
  skips the task as taken by another (seeds/000 lines 151-157): lost. A lost
  ``HGETALL`` reply is resent and read again: no loss.
- Producer crash between ``ZADD`` and ``HSET``: the id is in the set with no hash; a
  poller removes it, finds the hash empty and skips it: lost. The same happens with
  no crash when a poller takes a task due now between the producer's two commands
  (and the later ``HSET`` leaves an orphaned hash).
- Producer retry of an indeterminate call (same id): ``ZADD`` and ``HSET`` are simply
  repeated. Before the task ran it changes nothing; if the task was already taken,
  the id goes back into the set and runs again (a duplicate), unless the first run's
  ``DEL`` removes the rewritten hash first, in which case the re-added id is skipped.
- Crash between ``DEL`` and the reschedule ``ZADD``, or between that ``ZADD`` and
  ``HSET``: the next occurrence is lost (the second case runs into the empty hash).
- Cron: no Redis involved; each process fires every slot itself (duplicates with two
  processes), and slots passed while all are down are never fired.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import redis
from croniter import croniter
from redis.backoff import AbstractBackoff
from redis.retry import Retry

from duetime.chaos.client.handlers import CRON_TASK_TYPE

from . import process
from .contract import CONNECT_TIMEOUT_S, REDIS_DOWN, SOCKET_TIMEOUT_S, Delivery
from .redis_client import redis_client

log = logging.getLogger("duetime.chaos.designs.poll_remove_run")

TIMEOUT_S = 0.010  # source: 500 ms between a taken task and the next poll (scaled by 1/50)
TIMEOUT_WHEN_EMPTY_S = 0.200  # source: 10 s when nothing is due (scaled by 1/50)
PARAMS = ("timeout_s", "timeout_when_empty_s")
IOREDIS_MAX_RETRIES_PER_REQUEST = 20
DAY_S = 86400.0
CRON_LATE_S = 1.0  # node-cron ticks once a second and does not fire missed seconds
STOP_GRACE_S = 5.0

Payload = dict[str, str]
RescheduleCheck = Callable[[Payload], tuple[Payload, bool]]
# Per task type: may change the payload and decide whether to reschedule (default: yes).
CHECK_BEFORE_RESCHEDULE: dict[str, RescheduleCheck] = {}


class IoredisBackoff(AbstractBackoff):
    """ioredis's default ``retryStrategy``: wait ``min(50 ms * attempt, 2 s)``."""

    def compute(self, failures: int) -> float:
        return float(min(0.05 * failures, 2.0))


def connect(url: str) -> redis.Redis:
    """A client that, like ioredis, resends a command whose reply was lost on reconnect."""
    return redis_client(
        url,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        decode_responses=True,
        retry=Retry(IoredisBackoff(), IOREDIS_MAX_RETRIES_PER_REQUEST),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
    )


def check_params(params: Mapping[str, str]) -> tuple[float, float]:
    """``(timeout_s, timeout_when_empty_s)``; raises ValueError on a bad value."""
    return (
        process.float_param(params, "timeout_s", TIMEOUT_S),
        process.float_param(params, "timeout_when_empty_s", TIMEOUT_WHEN_EMPTY_S),
    )


def always_reschedule(payload: Payload) -> tuple[Payload, bool]:
    return payload, True


def set_key(namespace: str, task_type: str) -> str:
    return f"{namespace}:tasks:{task_type}"


def hash_key(namespace: str, task_type: str, task_id: str) -> str:
    return f"{namespace}:tasks:{task_type}:{task_id}"


def stringify(fields: Mapping[str, Any]) -> Payload:
    """Hash fields are strings: non-string values are stored as JSON."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}


def add_to_set(r: redis.Redis, namespace: str, task_type: str, task_id: str, ts: float) -> None:
    """The first scheduling command: ``ZADD`` the id, scored by its due time in whole ms."""
    r.zadd(set_key(namespace, task_type), {task_id: int(ts * 1000)})


def store_payload(
    r: redis.Redis, namespace: str, task_type: str, task_id: str, payload: Mapping[str, Any]
) -> None:
    """The second scheduling command: ``HSET`` the task's fields."""
    fields: dict[Any, Any] = stringify(payload)
    r.hset(hash_key(namespace, task_type, task_id), mapping=fields)


class PollRemoveRunClient:
    rejected: tuple[type[BaseException], ...] = ()

    def __init__(self, url: str, namespace: str) -> None:
        self.redis = connect(url)
        self.namespace = namespace

    def schedule_task(
        self, timestamp: float, data: Any, *, task_type: str, task_id: str, max_attempts: int
    ) -> str:
        add_to_set(self.redis, self.namespace, task_type, task_id, timestamp)
        payload = {"data": json.dumps(data), "scheduleDate": timestamp}
        store_payload(self.redis, self.namespace, task_type, task_id, payload)
        return task_id

    def backlog(self) -> dict[str, int]:
        pattern = set_key(self.namespace, "*")
        sets = self.redis.scan_iter(match=pattern, _type="ZSET")
        return {"scheduled": sum(int(self.redis.zcard(k)) for k in sets)}

    def close(self) -> None:
        self.redis.close()


def client(url: str, namespace: str, **params: str) -> PollRemoveRunClient:
    """The producers' client; ``params`` are the pollers' (checked, not used here)."""
    check_params(params)
    return PollRemoveRunClient(url, namespace)


class Poller:
    """The poller of one task type in one process; ``step`` is one round of the source's loop."""

    def __init__(
        self,
        r: redis.Redis,
        namespace: str,
        task_type: str,
        handler: process.Handler,
        submit: Callable[[Callable[[], None]], object],
        *,
        timeout_s: float = TIMEOUT_S,
        timeout_when_empty_s: float = TIMEOUT_WHEN_EMPTY_S,
    ) -> None:
        self.redis, self.namespace, self.task_type = r, namespace, task_type
        self.handler, self.submit = handler, submit
        self.timeout_s, self.timeout_when_empty_s = timeout_s, timeout_when_empty_s
        self.check = CHECK_BEFORE_RESCHEDULE.get(task_type, always_reschedule)

    def step(self) -> float:
        key = set_key(self.namespace, self.task_type)
        due = self.redis.zrangebyscore(key, 0, int(time.time() * 1000))
        if not due:
            return self.timeout_when_empty_s
        task_id = str(due[0])
        if int(self.redis.zrem(key, task_id)) < 1:
            return self.timeout_s  # another poller took it
        found = self.redis.hgetall(hash_key(self.namespace, self.task_type, task_id))
        payload = {str(k): str(v) for k, v in found.items()}
        if payload:
            self.submit(lambda: self.run(task_id, payload))
        return self.timeout_s

    def run(self, task_id: str, payload: Payload) -> None:
        """Handler, then ``DEL`` the hash, then the reschedule step (each error only logged)."""
        try:
            self.handler(
                Delivery(
                    task_id=task_id,
                    task_type=self.task_type,
                    data=json.loads(payload.get("data", "null")),
                    due_at=float(payload["scheduleDate"]),
                )
            )
        except Exception:
            log.exception("task %s %s failed", self.task_type, task_id)
        try:
            self.redis.delete(hash_key(self.namespace, self.task_type, task_id))
        except REDIS_DOWN as exc:
            log.warning("DEL of %s failed: %s", task_id, exc)
        try:
            self.reschedule(task_id, payload)
        except REDIS_DOWN as exc:
            log.warning("reschedule of %s failed: %s", task_id, exc)

    def reschedule(self, task_id: str, payload: Payload) -> None:
        periodicity = float(payload.get("periodicity", "0"))
        schedule_date = float(payload["scheduleDate"])
        end_date = payload.get("endDate")
        if periodicity <= 0 or (end_date is not None and float(end_date) <= schedule_date):
            return
        new_payload, again = self.check(dict(payload))
        if not again:
            return
        new_date = schedule_date + periodicity * DAY_S
        add_to_set(self.redis, self.namespace, self.task_type, task_id, new_date)
        merged = {**payload, **new_payload, "scheduleDate": new_date}
        store_payload(self.redis, self.namespace, self.task_type, task_id, merged)


def run_worker(options: process.WorkerOptions, stop: threading.Event) -> None:
    r = connect(options.url)
    timeout_s, timeout_when_empty_s = check_params(options.params)
    lock = threading.Lock()
    running: set[threading.Thread] = set()

    def submit(job: Callable[[], None]) -> object:
        """Start ``job`` now on a thread of its own: the blog does not await its handler."""

        def run() -> None:
            try:
                job()
            finally:
                with lock:
                    running.discard(threading.current_thread())

        thread = threading.Thread(target=run, name="handler", daemon=True)
        with lock:
            running.add(thread)
        thread.start()
        return thread

    pollers = [
        Poller(
            r,
            options.namespace,
            t,
            h,
            submit,
            timeout_s=timeout_s,
            timeout_when_empty_s=timeout_when_empty_s,
        )
        for t, h in options.handlers.items()
    ]
    threads = [
        threading.Thread(
            target=process.keep_going,
            args=(stop, timeout_when_empty_s, p.step),
            name=f"poller-{p.task_type}",
        )
        for p in pollers
    ]
    for thread in threads:
        thread.start()
    stop.wait()
    for thread in threads:
        thread.join()
    deadline = time.monotonic() + STOP_GRACE_S
    with lock:
        pending = list(running)
    for thread in pending:
        thread.join(max(0.0, deadline - time.monotonic()))


def run_cron(options: process.CronOptions, stop: threading.Event) -> None:
    """node-cron in this process: every slot of every schedule runs the handler here."""
    handler = options.handlers[CRON_TASK_TYPE]
    firings: list[threading.Thread] = []
    specs = {s.name: s for s in options.schedules}
    slots = {name: _next_slot(spec.expr, time.time()) for name, spec in specs.items()}
    process.ready_for_cron()
    while not stop.is_set() and slots:
        name = min(slots, key=lambda n: slots[n])
        slot = slots[name]
        if stop.wait(max(0.0, slot - time.time())):
            break
        if time.time() - slot < CRON_LATE_S:
            task = Delivery(
                task_id=f"cron:{name}:{round(slot * 1000)}",
                task_type=CRON_TASK_TYPE,
                data={"work_s": specs[name].work_s},
                due_at=slot,
            )
            firing = threading.Thread(target=_fire, args=(handler, task), daemon=True)
            firing.start()
            firings = [f for f in firings if f.is_alive()] + [firing]
        slots[name] = _next_slot(specs[name].expr, max(slot, time.time()))
    deadline = time.monotonic() + STOP_GRACE_S
    for firing in firings:
        firing.join(max(0.0, deadline - time.monotonic()))


def _next_slot(expr: str, after: float) -> float:
    return float(croniter(expr, after, second_at_beginning=True).get_next(float))


def _fire(handler: process.Handler, task: Delivery) -> None:
    try:
        handler(task)
    except Exception:
        log.exception("cron task %s failed", task.task_id)


def main(argv: Sequence[str] | None = None) -> int:
    return process.main(
        argv,
        prog="python -m duetime.chaos.designs.poll_remove_run",
        run_worker=run_worker,
        run_cron=run_cron,
        params=PARAMS,
        check_params=check_params,
    )


if __name__ == "__main__":
    raise SystemExit(main())

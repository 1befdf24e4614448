"""client-retry: client-side schedulers that share Redis, re-issuing a run after a timeout.

Source: the schedule-mq README (a Node.js library). The README gives the API and
its promises, not the internals; this is a Python reading of it, the simplest one
wherever the README is silent.

The design. A :class:`ScheduleMQ` instance works over a Redis client and a prefix
``{ns}:``. ``bind(name, handler)`` says what runs for a task name (in schedule-mq
the "task id" is the handler's name, a task *type*); ``push(name, data, delay,
retry, retry_timeout)`` adds a one-time run; ``register(name, cron_expr, ...)``
adds a recurring one. Instances cooperate only through Redis:

- ``{ns}:runs:{name}`` is a sorted set of pending runs of ``name``, scored by due
  time in epoch ms. A member is JSON holding a fresh uuid, the data and the retry
  options, so pushing the same name (and data) twice makes two runs: the README
  says a pushed task only *shares its name* with others. The due time is
  ``now + delay`` on the **pushing** client's clock and is judged against each
  polling instance's **own** clock: skewed clocks run tasks early or late.
- Delivery: an instance reads the due members of each name it has bound
  (``ZRANGEBYSCORE``, up to ``CLAIM_BATCH`` per read) and starts each handler on a
  thread of its own, without waiting for it and with no cap: the library's own
  scheduler pops ready runs in a loop (``brpop``) and calls its ``doExec`` without
  awaiting it. After a read that claimed runs it reads again at once; after one
  that found nothing it waits ``POLL_INTERVAL_S`` (the README's 1000 ms default,
  seeds/004 line 48, "generally needn't be changed"; the library polls its delayed
  runs at that interval: a delayed run starts up to ~1 s late). The testbed's
  ``--concurrency`` is ignored (the README has no such setting). Each claim is one
  Lua script: if the member is still there and still due, remove it, or, if the run
  has ``retry``, re-score it to ``now + retry_timeout`` (the *re-issue entry*:
  how "a task whose machine died is issued again after retryTimeout" works).
  The handler runs on a handler thread. If it returns anything but ``False``,
  ``ZREM`` drops the re-issue entry; if it returns ``False`` or raises (choice:
  an exception counts as ``False``; it is logged), the entry stays and the run
  is issued again after ``retry_timeout``. Attempts are unbounded (the README
  has no limit and no dead letters). Without ``retry`` a claimed run is gone
  whatever happens next: at-most-once.
- Cron: every instance with registrations sleeps until the next slot on its own
  clock (as the library's ``startSchedule`` does), then for each slot passed runs
  ``SET {ns}:cron:{key}:{slot_ms} NX PX CRON_LOCK_TTL_MS`` and only the winner fires
  the slot (pushes
  a run due now with the registration's retry options), so one slot fires once
  across instances. No catch-up: an instance starts looking from when it
  starts, so a slot that passed while every instance was down never fires.
  ``key`` (default: the name) tells registrations of one handler apart, and
  ``make_data(slot)`` gives a firing its data (the README's fire carries none).

The testbed adapter. ``schedule_task`` pushes ``{"task_id", "due_at", "data"}``
under ``task_type`` with ``delay = max(0, timestamp - now)``, ``retry=True`` and
``retry_timeout = RETRY_TIMEOUT_S`` (2 s, our choice: the testbed scenarios' lease;
``--param retry_timeout_s=`` changes it, and the cron registrations' with
``cron_retry_timeout_s=``). The README's own values are 5000 ms for a push
(seeds/004 line 116) and 10000 ms for a registration (line 101): the variant
``client-retry@source`` runs them. A handler slower than the retry timeout runs
twice, so this choice moves the "slow or paused handler runs twice" count. ``backlog``
counts the members of every ``{ns}:runs:*`` set, re-issue entries included (runs
still owed). Workers bind every handler type and register nothing; handlers get
``attempt=1`` (the design counts no attempts; the chaos handlers count injected
failures themselves, so a task asking to fail once fails its first issue only).
The cron process
registers every spec (``key`` = the spec's name, retry on) and binds nothing.

Failure windows. A worker dying between the claim script and the ``ZREM`` (mid
handler, or after the handler returned) leaves the re-issue entry: the run is
issued again after ``retry_timeout``, so a run that had finished runs twice. A
handler slower than ``retry_timeout`` is issued again while it still runs: two
concurrent runs. A lost ``ZREM`` reply or Redis down at that moment: same.
Without retry, a crash after the claim loses the run. A claim script whose reply
is lost leaves the run claimed but not started: with retry it is issued again
after ``retry_timeout`` (late), without retry it is lost. A producer retrying a
push whose ``ZADD`` reply was lost adds a second uuid: two runs. A cron instance
dying (or losing its connection) between the ``SET NX`` and the push's ``ZADD``
loses the slot: the lock is taken, no instance fires it again.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from croniter import croniter

from duetime.chaos.client.handlers import CRON_TASK_TYPE

from . import process
from .contract import REDIS_DOWN, Delivery, connect

log = logging.getLogger("duetime.chaos.designs.client_retry")

POLL_INTERVAL_S = 1.0  # the README's pollInterval default, 1000 ms
DEFAULT_RETRY_TIMEOUT_S = 10.0  # the README's register example: retryTimeout 10000
RETRY_TIMEOUT_S = 2.0  # what the testbed's producers push with (the scenarios' lease)
CLAIM_BATCH = 100  # due runs read per ZRANGEBYSCORE; the loop reads again at once
PARAMS = ("retry_timeout_s", "cron_retry_timeout_s")
CRON_LOCK_TTL_MS = 3 * 3600 * 1000  # "some hours": how long a fired slot stays taken
STOP_WAIT_S = 5.0

# Claim one run if it is still there and due: drop it, or re-score it for re-issue.
CLAIM = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return 0 end
if ARGV[3] == '' then redis.call('ZREM', KEYS[1], ARGV[1])
else redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) end
return 1
"""

Handler = Callable[[Any], Any]


@dataclass(frozen=True)
class Run:
    name: str
    member: str
    data: Any
    retry: bool


@dataclass
class Registration:
    name: str
    key: str
    cron_expr: str
    retry: bool
    retry_timeout: float
    make_data: Callable[[float], Any] | None
    last: float | None = None


class ScheduleMQ:
    def __init__(
        self,
        r: redis.Redis,
        prefix: str,
        *,
        poll_interval: float = POLL_INTERVAL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.r, self.prefix, self.clock = r, prefix, clock
        self.poll_interval = poll_interval
        self.handlers: dict[str, Handler] = {}
        self.registrations: list[Registration] = []
        self.busy = 0
        self.lock = threading.Lock()
        self.claim_script = r.register_script(CLAIM)

    def runs_key(self, name: str) -> str:
        return f"{self.prefix}runs:{name}"

    def bind(self, name: str, handler: Handler) -> None:
        self.handlers[name] = handler

    def register(
        self,
        name: str,
        cron_expr: str,
        *,
        retry: bool = False,
        retry_timeout: float = DEFAULT_RETRY_TIMEOUT_S,
        key: str | None = None,
        make_data: Callable[[float], Any] | None = None,
    ) -> None:
        reg = Registration(name, key or name, cron_expr, retry, retry_timeout, make_data)
        self.registrations.append(reg)

    def push(
        self,
        name: str,
        data: Any = None,
        *,
        delay: float = 0.0,
        retry: bool = False,
        retry_timeout: float = DEFAULT_RETRY_TIMEOUT_S,
    ) -> str:
        """Add one run of ``name`` due ``delay`` s from now (this clock); returns its uuid."""
        run_id = uuid.uuid4().hex
        member = {"id": run_id, "data": data, "retry": retry, "retry_timeout": retry_timeout}
        due_ms = round((self.clock() + delay) * 1000)
        self.r.zadd(self.runs_key(name), {json.dumps(member): due_ms})
        return run_id

    def claim_due(self, limit: int) -> list[Run]:
        """Claim up to ``limit`` due runs of the bound names (one script call per run)."""
        runs: list[Run] = []
        for name in self.handlers:
            now_ms = round(self.clock() * 1000)
            due = self.r.zrangebyscore(self.runs_key(name), "-inf", now_ms, 0, limit - len(runs))
            for member in map(str, due):
                fields = json.loads(member)
                reissue = now_ms + round(fields["retry_timeout"] * 1000) if fields["retry"] else ""
                if self.claim_script(keys=[self.runs_key(name)], args=[member, now_ms, reissue]):
                    runs.append(Run(name, member, fields["data"], bool(fields["retry"])))
            if len(runs) >= limit:
                break
        return runs

    def execute(self, run: Run) -> bool:
        """Run the handler; drop the re-issue entry unless it returned False or raised."""
        try:
            done = self.handlers[run.name](run.data) is not False
        except Exception:
            log.exception("handler of %s failed", run.name)
            done = False
        if done and run.retry:
            self.r.zrem(self.runs_key(run.name), run.member)
        return done

    def tick_cron(self) -> int:
        """Fire the slots that passed since the last tick, where this instance wins the lock."""
        fired = 0
        now = self.clock()
        for reg in self.registrations:
            if reg.last is None:
                reg.last = now  # no catch-up: start from now
            it = croniter(reg.cron_expr, reg.last, second_at_beginning=True)
            while (slot := float(it.get_next(float))) <= now:
                lock = f"{self.prefix}cron:{reg.key}:{round(slot * 1000)}"
                if self.r.set(lock, "1", nx=True, px=CRON_LOCK_TTL_MS):
                    data = reg.make_data(slot) if reg.make_data else None
                    self.push(reg.name, data, retry=reg.retry, retry_timeout=reg.retry_timeout)
                    fired += 1
                reg.last = slot
            reg.last = now
        return fired

    def _work(self, run: Run) -> None:
        try:
            self.execute(run)
        except REDIS_DOWN as exc:
            log.warning("redis unavailable finishing %s: %s", run.name, exc)
        finally:
            with self.lock:
                self.busy -= 1

    def next_slot(self) -> float | None:
        """The earliest cron slot after each registration's last look, or None."""
        slots = [
            float(croniter(reg.cron_expr, reg.last, second_at_beginning=True).get_next(float))
            for reg in self.registrations
            if reg.last is not None
        ]
        return min(slots) if slots else None

    def step(self) -> float:
        """Start every claimed run unawaited; fire passed cron slots; return the wait."""
        claimed = self.claim_due(CLAIM_BATCH) if self.handlers else []
        for run in claimed:
            with self.lock:
                self.busy += 1
            threading.Thread(target=self._work, args=(run,), daemon=True).start()
        self.tick_cron()
        if claimed:
            return 0.0
        wait = self.poll_interval if self.handlers else float("inf")
        slot = self.next_slot()
        if slot is not None:
            wait = min(wait, max(0.0, slot - self.clock()))
        return min(wait, self.poll_interval * 60)

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop``; then let running handlers finish (up to STOP_WAIT_S)."""
        process.keep_going(stop, self.poll_interval, self.step)
        deadline = time.monotonic() + STOP_WAIT_S
        while self.busy and time.monotonic() < deadline:
            time.sleep(0.05)


class ClientRetryClient:
    rejected: tuple[type[BaseException], ...] = ()

    def __init__(self, url: str, namespace: str, retry_timeout_s: float = RETRY_TIMEOUT_S) -> None:
        self.r = connect(url)
        self.namespace = namespace
        self.retry_timeout_s = retry_timeout_s
        self.mq = ScheduleMQ(self.r, f"{namespace}:")

    def schedule_task(
        self, timestamp: float, data: Any, *, task_type: str, task_id: str, max_attempts: int
    ) -> str:
        payload = {"task_id": task_id, "due_at": timestamp, "data": data}
        delay = max(0.0, timestamp - time.time())
        self.mq.push(
            task_type, payload, delay=delay, retry=True, retry_timeout=self.retry_timeout_s
        )
        return task_id

    def backlog(self) -> dict[str, int]:
        keys = self.r.scan_iter(match=f"{self.namespace}:runs:*")
        return {"pending": sum(int(self.r.zcard(k)) for k in keys)}

    def close(self) -> None:
        self.r.close()


def check_params(params: Mapping[str, str]) -> tuple[float, float]:
    """``(retry_timeout_s, cron_retry_timeout_s)``; raises ValueError on a bad value."""
    return (
        process.float_param(params, "retry_timeout_s", RETRY_TIMEOUT_S),
        process.float_param(params, "cron_retry_timeout_s", RETRY_TIMEOUT_S),
    )


def client(url: str, namespace: str, **params: str) -> ClientRetryClient:
    retry_timeout_s, _ = check_params(params)
    return ClientRetryClient(url, namespace, retry_timeout_s)


def delivering(task_type: str, handler: Handler) -> Handler:
    """A schedule-mq handler that hands the testbed's handler a Delivery; no error = done."""

    def run(payload: Any) -> bool:
        handler(Delivery(payload["task_id"], task_type, payload["data"], payload["due_at"]))
        return True

    return run


def run_worker(options: process.WorkerOptions, stop: threading.Event) -> None:
    mq = ScheduleMQ(connect(options.url), f"{options.namespace}:")
    for task_type, handler in options.handlers.items():
        mq.bind(task_type, delivering(task_type, handler))
    mq.run(stop)


def cron_data(name: str, work_s: float) -> Callable[[float], Any]:
    def make(slot: float) -> Any:
        task_id = f"cron:{name}:{round(slot * 1000)}"
        return {"task_id": task_id, "due_at": slot, "data": {"work_s": work_s}}

    return make


def run_cron(options: process.CronOptions, stop: threading.Event) -> None:
    _, cron_retry_timeout_s = check_params(options.params)
    mq = ScheduleMQ(connect(options.url), f"{options.namespace}:")
    for spec in options.schedules:
        mq.register(
            CRON_TASK_TYPE,
            spec.expr,
            retry=True,
            retry_timeout=cron_retry_timeout_s,
            key=spec.name,
            make_data=cron_data(spec.name, spec.work_s),
        )
    process.ready_for_cron()
    mq.run(stop)


def main(argv: Sequence[str] | None = None) -> int:
    return process.main(
        argv,
        prog="python -m duetime.chaos.designs.client_retry",
        run_worker=run_worker,
        run_cron=run_cron,
        params=PARAMS,
        check_params=check_params,
    )


if __name__ == "__main__":
    raise SystemExit(main())

"""A worker's life: handler timeouts, cancelled async runs, exits by exception, shutdown,
lost replies, retention without acks, large batches and lease warnings. Real redis-server;
real worker processes where the point is about a process."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from duetime import (
    NewTask,
    Retention,
    RetryPolicy,
    Scheduler,
    Status,
    Task,
    Worker,
    lua,
    worker_protocol,
)
from duetime.chaos.system.redis_server import RedisServer
from duetime.record import Record
from duetime.results import Result
from duetime.worker_protocol import Lease
from tests.conftest import ROOT, Clock, Executions, WorkerProcesses
from tests.scheduler.reply_dropper import ReplyDropper

LOST_LEASE = "lost the lease of"
FAST_RETRY = RetryPolicy(max_attempts=2, backoff_base_s=0.05, backoff_cap_s=0.05)


def wait_until(pred: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what or pred}"
        time.sleep(0.02)


def status_of(s: Scheduler, tid: str) -> Status | None:
    info = s.get(tid)
    return None if info is None else info.status


class InProcess:
    """A Worker run on a thread; ``error`` is what ``run`` raised, if anything."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.worker.run()
        except BaseException as exc:
            self.error = exc

    def stop(self) -> None:
        self.worker.stop()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()


@pytest.fixture
def start_worker(sched: Scheduler) -> Iterator[Callable[..., InProcess]]:
    started: list[InProcess] = []

    def start(handlers: dict[str, Any], s: Scheduler = sched, **options: Any) -> InProcess:
        options = {"concurrency": 2, "lease_s": 1.0, "cron": False, **options}
        running = InProcess(Worker(s, handlers, **options))
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def fast_retry(redis_server: RedisServer, namespace: str) -> Iterator[Scheduler]:
    s = Scheduler.from_url(redis_server.url, namespace=namespace, retry=FAST_RETRY)
    yield s
    s.close()


# -- 1. handler timeouts ------------------------------------------------------


def test_a_hung_sync_handler_times_out_frees_its_slot_and_is_retried_then_dead_lettered(
    fast_retry: Scheduler, start_worker: Callable[..., InProcess]
) -> None:
    hang = threading.Event()
    try:
        start_worker(
            {"hang": lambda task: hang.wait(30), "quick": lambda task: None},
            fast_retry,
            concurrency=1,
            handler_timeouts={"hang": 0.3},
        )
        tid = fast_retry.schedule_task(time.time(), None, task_type="hang")
        wait_until(lambda: status_of(fast_retry, tid) is Status.DEAD, what="the hung task to die")
        info = fast_retry.get(tid)
        assert info is not None and info.attempts == 2  # each timeout counts as an attempt
        assert info.last_error == "handler timed out after 0.3 s"
        # Two stuck threads, concurrency 1: the worker still runs other tasks.
        quick = fast_retry.schedule_task(time.time(), None, task_type="quick")
        wait_until(lambda: status_of(fast_retry, quick) is Status.DONE, what="the quick task")
    finally:
        hang.set()


def test_a_hung_async_handler_is_cancelled_at_its_timeout(
    fast_retry: Scheduler, start_worker: Callable[..., InProcess]
) -> None:
    cancelled = threading.Event()

    async def hang(task: Task) -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    start_worker({"hang": hang}, fast_retry, handler_timeout_s=0.2)
    tid = fast_retry.schedule_task(time.time(), None, task_type="hang", max_attempts=1)
    wait_until(lambda: status_of(fast_retry, tid) is Status.DEAD, what="the hung task to die")
    info = fast_retry.get(tid)
    assert info is not None and info.last_error == "handler timed out after 0.2 s"
    assert cancelled.is_set()


def test_the_worker_cli_times_handlers_out_per_task_type(
    sched: Scheduler, workers: WorkerProcesses, executions: Executions
) -> None:
    workers.start(extra=("--handler-timeout", "60", "--handler-timeout", "record=0.3"))
    tid = sched.schedule_task(time.time(), {"sleep": 5}, task_type="record", max_attempts=1)
    wait_until(lambda: status_of(sched, tid) is Status.DEAD, what="the slow task to time out")
    info = sched.get(tid)
    assert info is not None and info.last_error == "handler timed out after 0.3 s"
    assert executions.events("end") == []


WORKER = (sys.executable, "-m", "duetime", "worker")


@pytest.mark.parametrize("flag", ["record=0", "abc"])
def test_a_bad_handler_timeout_flag_is_a_usage_error(flag: str) -> None:
    proc = subprocess.run(
        [*WORKER, "--namespace", "x", "--handlers", "m:H", "--handler-timeout", flag],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "--handler-timeout" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_handler_timeouts_are_refused_by_the_constructor(sched: Scheduler) -> None:
    from duetime import InvalidInput

    for options in (
        {"handler_timeout_s": 0},
        {"handler_timeouts": {"t": -1}},
        {"handler_timeouts": 3},
    ):
        with pytest.raises(InvalidInput):
            Worker(sched, {"t": print}, **options)  # type: ignore[arg-type]


# -- 2. async handlers ---------------------------------------------------------


def test_an_async_handler_raising_cancelled_error_is_settled_as_a_failure(
    fast_retry: Scheduler, start_worker: Callable[..., InProcess]
) -> None:
    async def cancels(task: Task) -> None:
        raise asyncio.CancelledError

    start_worker({"cancels": cancels}, fast_retry)
    tid = fast_retry.schedule_task(time.time(), None, task_type="cancels", max_attempts=1)
    wait_until(lambda: status_of(fast_retry, tid) is Status.DEAD, what="the cancelled run")
    info = fast_retry.get(tid)
    assert info is not None and info.last_error == "the handler was cancelled"


def test_a_blocking_async_handler_is_logged(
    sched: Scheduler, start_worker: Callable[..., InProcess], caplog: pytest.LogCaptureFixture
) -> None:
    async def blocks(task: Task) -> None:
        time.sleep(1.4)

    caplog.set_level(logging.WARNING, logger="duetime.worker")
    start_worker({"blocks": blocks})
    tid = sched.schedule_task(time.time(), None, task_type="blocks")
    wait_until(lambda: status_of(sched, tid) is Status.DONE, what="the blocking run")
    wait_until(lambda: "event loop was blocked" in caplog.text, what="the lag warning")


# -- 3. an exception in the main loop -------------------------------------------


def test_a_bug_in_the_main_loop_still_hands_back_what_the_worker_holds(
    sched: Scheduler, start_worker: Callable[..., InProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    running, may_return = threading.Event(), threading.Event()
    real_claim = worker_protocol.claim

    def claim(
        s: Scheduler, lease_ms: int, limit: int, previous: str, shard: int = 0
    ) -> worker_protocol.Claimed:
        if running.is_set():
            raise ValueError("a bug in claim")
        return real_claim(s, lease_ms, limit, previous, shard)

    monkeypatch.setattr(worker_protocol, "claim", claim)

    def handler(task: Task) -> None:
        running.set()
        may_return.wait(10)

    try:
        w = start_worker({"t": handler}, lease_s=30.0)
        tid = sched.schedule_task(time.time(), None, task_type="t", max_attempts=1)
        wait_until(running.is_set, what="the handler to run")
        sched.schedule_task(time.time(), None, task_type="t")  # wakes the worker to claim
        w.thread.join(timeout=10)
        assert isinstance(w.error, ValueError)
        info = sched.get(tid)
        # Handed back at once (not after its 30 s lease), its attempt given back.
        assert info is not None and info.status is Status.SCHEDULED and info.attempts == 0
    finally:
        may_return.set()


# -- 5. replies lost and commands re-sent -----------------------------------------


def sha_of(s: Scheduler, name: str) -> bytes:
    """Load script ``name`` and return its SHA, as redis-py's EVALSHA sends it."""
    return str(s.redis.script_load(lua.with_flags(lua.source(name), s.scripts.server()))).encode()


@pytest.fixture
def dropper(redis_server: RedisServer) -> Iterator[ReplyDropper]:
    proxy = ReplyDropper("127.0.0.1", redis_server.port)
    yield proxy
    proxy.close()


def test_a_claim_and_an_ack_whose_replies_were_lost_are_safe_to_send_again(
    dropper: ReplyDropper, namespace: str
) -> None:
    s = Scheduler.from_url(dropper.url(), namespace=namespace)  # with duetime's Retry
    try:
        tid = s.schedule_task(time.time(), None, max_attempts=1)  # its only attempt
        dropper.arm(sha_of(s, "claim"))
        (task,) = worker_protocol.claim(s, 60_000, 10).tasks
        assert dropper.dropped.is_set()
        assert (task.task_id, task.attempt) == (tid, 1)
        info = s.get(tid)
        assert info is not None and info.status is Status.RUNNING
        dropper.arm(sha_of(s, "ack"))
        assert worker_protocol.ack(s, [(tid, task.token)]) == [True]
        assert dropper.dropped.is_set()
        assert status_of(s, tid) is Status.DONE
    finally:
        s.close()


def test_a_re_sent_claim_gets_its_own_leases_back_and_memos_do_not_pile_up(
    clocked: Scheduler, clock: Clock
) -> None:
    s, keys = clocked, clocked.keys
    for tid in ("a", "b:c;1", "d"):  # the memo's separators in an id
        s.schedule_task(clock.ms / 1000, None, task_id=tid)
    script_keys = [keys.tasks, keys.due, keys.leases, keys.retrying, keys.dead, keys.errors]
    script_keys += [keys.fence, keys.lost, keys.claims, keys.claim_memos]

    def send(claim_id: str, previous: str = "") -> list[Any]:
        reply = s.scripts.run("claim", script_keys, [s.now_arg(), 1000, 2, claim_id, previous])
        return list(reply[5:])

    first = send("one")
    assert first[0::2] == [b"a", b"b:c;1"]
    assert send("one") == first  # sent again: the same leases, nothing more
    assert send("two", previous="one")[0::2] == [b"d"]
    assert s.redis.hkeys(keys.claim_memos) == [b"two"]  # "one"'s reply was read
    clock.advance(2)  # "two"'s caller died: its leases and its memo expire
    assert len(worker_protocol.claim(s, 1000, 3).tasks) == 3
    assert s.redis.hexists(keys.claim_memos, "two") == 0
    assert send("two") == []


# -- 6. retention without acks --------------------------------------------------


def test_burials_and_cancels_trim_old_records_without_any_ack(
    redis_server: RedisServer, namespace: str, clock: Clock
) -> None:
    s = Scheduler.from_url(
        redis_server.url, namespace=namespace, clock=clock, retention=Retention(1.0, 1.0)
    )
    try:

        def bury() -> str:
            tid = s.schedule_task(clock.ms / 1000, None)
            (task,) = worker_protocol.claim(s, 60_000, 1).tasks
            assert worker_protocol.fail(s, tid, task.token, "boom", None) is Result.BURIED
            return tid

        first_dead = bury()
        first_cancelled = s.schedule_task(clock.ms / 1000 + 60, None)
        assert s.cancel(first_cancelled)
        clock.advance(2)
        later_dead = bury()
        assert s.get(first_dead) is None
        assert [d.task_id for d in s.dead_letters()] == [later_dead]
        assert s.cancel(s.schedule_task(clock.ms / 1000 + 60, None))
        assert s.get(first_cancelled) is None
    finally:
        s.close()


# -- 7. more ids than Lua's unpack() takes ----------------------------------------

MANY = 9000


def test_scripts_handle_more_ids_than_lua_unpack_takes(clocked: Scheduler, clock: Clock) -> None:
    s, keys = clocked, clocked.keys
    ids = [f"big-{i}" for i in range(MANY)]
    s.schedule_many([NewTask(clock.ms / 1000, None, task_id=tid) for tid in ids])
    got = worker_protocol.claim(s, 60_000, MANY)
    assert len(got.tasks) == MANY
    assert worker_protocol.ack(s, [(t.task_id, t.token) for t in got.tasks]) == [True] * MANY
    clock.advance(s.retention.done_s + 1)
    # A trim of them all at once (more than any worker's batch asks for today).
    s.scripts.run(
        "ack",
        [keys.tasks, keys.leases, keys.done, keys.errors, keys.dead],
        [s.now_arg(), 1, 1, MANY],
    )
    assert s.stats().done == 0
    dead = Record(Status.DEAD, 1, 1, clock.ms, "t", "", 1).encode()
    pipe = s.redis.pipeline(transaction=False)
    for tid in ids:
        pipe.hset(keys.tasks, tid, dead)
        pipe.zadd(keys.dead, {tid: clock.ms})
    pipe.execute()
    purged = s.scripts.run("purge_dead", [keys.tasks, keys.dead, keys.errors], ["", MANY])
    assert purged == MANY and s.stats().dead == 0


# -- 8. lost-lease warnings --------------------------------------------------------


def test_renewals_that_cross_the_worker_s_own_acks_and_release_warn_of_nothing(
    sched: Scheduler,
    start_worker: Callable[..., InProcess],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every ack and release lands, then a renewal round passes before its reply is read:
    the renewal finds the lease gone, which is no loss."""
    lease_s = 0.3

    def slow_reply(real: Callable[[Scheduler, list[Lease]], list[bool]]) -> Callable[..., Any]:
        def call(s: Scheduler, held: list[Lease]) -> list[bool]:
            out = real(s, held)
            time.sleep(lease_s)  # three renewal rounds
            return out

        return call

    monkeypatch.setattr(worker_protocol, "ack", slow_reply(worker_protocol.ack))
    monkeypatch.setattr(worker_protocol, "release", slow_reply(worker_protocol.release))
    caplog.set_level(logging.INFO, logger="duetime.worker")
    hold = threading.Event()
    w = start_worker(
        {"t": lambda task: None, "hold": lambda task: hold.wait(10)},
        lease_s=lease_s,
        shutdown_grace_s=0.0,
    )
    ids = [sched.schedule_task(time.time(), None, task_type="t") for _ in range(3)]
    wait_until(lambda: all(status_of(sched, tid) is Status.DONE for tid in ids), what="acks")
    held = sched.schedule_task(time.time(), None, task_type="hold")
    wait_until(lambda: status_of(sched, held) is Status.RUNNING, what="the held run")
    w.stop()
    hold.set()
    assert "handed back 1 running task" in caplog.text
    assert LOST_LEASE not in caplog.text


def test_a_worker_paused_past_its_lease_still_warns_that_it_lost_it(
    sched: Scheduler, workers: WorkerProcesses, executions: Executions
) -> None:
    a = workers.start(lease=0.5)
    tid = sched.schedule_task(time.time(), {"sleep": 3.0}, task_type="record")
    executions.wait_for(lambda ev: any(e["event"] == "start" for e in ev))
    os.killpg(a.pid, signal.SIGSTOP)
    b = workers.start(lease=0.5)
    executions.wait_for(lambda ev: any(e["event"] == "start" and e["pid"] == b.pid for e in ev))
    os.killpg(a.pid, signal.SIGCONT)  # its handler still runs; its next renewal is refused
    wait_until(lambda: LOST_LEASE in workers.stderr_of(a), what="the lost-lease warning")
    assert f"{tid} token" in workers.stderr_of(a)

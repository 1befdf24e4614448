"""The guarantees, with real worker processes against a real redis-server."""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from duetime import NewTask, Scheduler, Status, Task, Worker, worker_protocol
from duetime.chaos.system.redis_server import Persistence, RedisServer, free_port
from duetime.lease_events import LeaseChange
from duetime.plural import counted
from duetime.worker_protocol import Lease
from tests.conftest import Executions, WorkerProcesses


def ended(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == "end"]


def wait_status(s: Scheduler, tid: str, status: Status, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = s.get(tid)
        if info is not None and info.status is status:
            return
        time.sleep(0.02)
    raise AssertionError(f"{tid} did not reach {status}: {s.get(tid)}")


@pytest.mark.topologies(quick=True)
def test_every_task_runs_and_none_starts_early(
    sched: Scheduler, workers: WorkerProcesses, executions: Executions
) -> None:
    workers.start(concurrency=4)
    workers.start(concurrency=4)
    now = time.time()
    ids = sched.schedule_many(NewTask(now + i * 0.01, {}, task_type="record") for i in range(300))
    events = executions.wait_for(lambda ev: len(ended(ev)) >= 300)
    starts = [e for e in events if e["event"] == "start"]
    assert sorted(e["task_id"] for e in ended(events)) == sorted(ids)
    early = [e for e in starts if e["time"] < e["due_at"]]
    assert early == []
    assert len({e["pid"] for e in starts}) == 2  # both workers took part


@pytest.mark.topologies
def test_worker_killed_mid_task_loses_its_lease_and_another_runs_it(
    sched: Scheduler, workers: WorkerProcesses, executions: Executions
) -> None:
    a = workers.start(lease=1.0)
    tid = sched.schedule_task(time.time(), {"sleep": 2}, task_type="record")
    executions.wait_for(lambda ev: any(e["event"] == "start" for e in ev))
    os.killpg(a.pid, signal.SIGKILL)  # a handler is running right now
    killed_at = time.time()
    b = workers.start(lease=1.0)
    events = executions.wait_for(lambda ev: len(ended(ev)) == 1)
    (first, second) = [e for e in events if e["event"] == "start"]
    assert (first["pid"], first["attempt"]) == (a.pid, 1)
    assert (second["pid"], second["attempt"]) == (b.pid, 2)
    assert second["time"] >= killed_at  # after the lease expired, not before
    assert first["key"] == second["key"]  # same idempotency key on every attempt
    wait_status(sched, tid, Status.DONE)


@pytest.mark.topologies
def test_worker_paused_past_its_lease_cannot_ack(
    sched: Scheduler, workers: WorkerProcesses, executions: Executions
) -> None:
    a = workers.start(lease=1.0)
    tid = sched.schedule_task(time.time(), {"sleep": 1.0}, task_type="record")
    executions.wait_for(lambda ev: any(e["event"] == "start" for e in ev))
    os.killpg(a.pid, signal.SIGSTOP)
    b = workers.start(lease=1.0)
    executions.wait_for(lambda ev: any(e["event"] == "end" and e["pid"] == b.pid for e in ev))
    os.killpg(a.pid, signal.SIGCONT)  # the zombie comes back and finishes its handler
    executions.wait_for(lambda ev: len(ended(ev)) == 2)
    time.sleep(0.5)
    info = sched.get(tid)
    assert info is not None and info.status is Status.DONE and info.attempts == 2
    assert "ack of " + tid + " refused" in workers.stderr_of(a)


def test_worker_paused_across_retry_dead_cannot_ack_the_new_run(
    sched: Scheduler, workers: WorkerProcesses, executions: Executions
) -> None:
    a = workers.start(lease=1.0)
    tid = sched.schedule_task(
        time.time(), {"sleep": 2.0}, task_type="record", task_id="paused", max_attempts=1
    )
    executions.wait_for(lambda ev: any(e["event"] == "start" for e in ev))
    os.killpg(a.pid, signal.SIGSTOP)
    c = workers.start(lease=1.0)  # its claim after A's lease expired buries the task
    wait_status(sched, tid, Status.DEAD)
    sched.retry_dead(tid)  # attempt 1 again: the number A holds
    executions.wait_for(lambda ev: any(e["event"] == "start" and e["pid"] == c.pid for e in ev))
    os.killpg(a.pid, signal.SIGCONT)  # A's handler ends about a second before C's
    executions.wait_for(lambda ev: any(e["event"] == "end" and e["pid"] == a.pid for e in ev))
    deadline = time.monotonic() + 10
    while f"ack of {tid} refused" not in workers.stderr_of(a) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert f"ack of {tid} refused" in workers.stderr_of(a)
    assert f"{tid} token" in workers.stderr_of(a)  # its renewal was refused too
    info = sched.get(tid)
    assert info is not None and info.status is Status.RUNNING  # C still holds it
    events = executions.wait_for(
        lambda ev: any(e["event"] == "end" and e["pid"] == c.pid for e in ev)
    )
    wait_status(sched, tid, Status.DONE)
    runs = [(e["event"], e["pid"], e["attempt"]) for e in events]
    assert runs == [
        ("start", a.pid, 1),
        ("start", c.pid, 1),
        ("end", a.pid, 1),
        ("end", c.pid, 1),
    ]
    assert "refused" not in workers.stderr_of(c)


def test_long_task_renews_its_lease_and_runs_once(
    sched: Scheduler, workers: WorkerProcesses, executions: Executions
) -> None:
    workers.start(lease=0.6)
    workers.start(lease=0.6)
    tid = sched.schedule_task(time.time(), {"sleep": 3}, task_type="record")
    wait_status(sched, tid, Status.DONE)
    events = executions.read()
    assert [e["event"] for e in events] == ["start", "end"]


def test_sigterm_finishes_running_tasks_then_exits(
    sched: Scheduler, workers: WorkerProcesses, executions: Executions
) -> None:
    a = workers.start(lease=5.0)
    tid = sched.schedule_task(time.time(), {"sleep": 1.0}, task_type="record")
    executions.wait_for(lambda ev: any(e["event"] == "start" for e in ev))
    a.send_signal(signal.SIGTERM)
    sched.schedule_task(time.time(), {}, task_type="record", task_id="after-sigterm")
    assert a.wait(timeout=10) == 0
    info = sched.get(tid)
    assert info is not None and info.status is Status.DONE
    later = sched.get("after-sigterm")
    assert later is not None and later.status is Status.SCHEDULED  # it stopped claiming


def test_sigterm_hands_back_what_outlives_the_grace_period_without_using_an_attempt(
    sched: Scheduler, workers: WorkerProcesses, executions: Executions
) -> None:
    a = workers.start(lease=30.0, grace=0.2)
    # Its only attempt: a deploy that stops its worker must not dead-letter it.
    tid = sched.schedule_task(time.time(), {"sleep": 2.0}, task_type="record", max_attempts=1)
    executions.wait_for(lambda ev: any(e["event"] == "start" for e in ev))
    a.send_signal(signal.SIGTERM)
    assert a.wait(timeout=10) == 0
    assert "handed back 1 running task at shutdown" in workers.stderr_of(a)
    b = workers.start(lease=30.0)
    executions.wait_for(lambda ev: any(e["event"] == "end" and e["pid"] == b.pid for e in ev))
    info = sched.get(tid)
    # Run again at once, not after 30 s, and on the attempt the shutdown gave back.
    assert info is not None and info.status is Status.DONE and info.attempts == 1
    starts = executions.events("start")
    assert [(e["pid"], e["attempt"]) for e in starts] == [(a.pid, 1), (b.pid, 1)]


def test_failing_handler_is_retried_with_backoff_then_dead_lettered(
    sched: Scheduler, workers: WorkerProcesses, executions: Executions
) -> None:
    from duetime import RetryPolicy

    # max_attempts is taken when scheduling; the backoff is the worker process's default.
    fast = Scheduler(
        sched.redis,
        namespace=sched.namespace,
        retry=RetryPolicy(max_attempts=3),
    )
    workers.start()
    ok = fast.schedule_task(time.time(), {"fail_attempts": 2}, task_type="record")
    dead = fast.schedule_task(
        time.time(), {"fail_attempts": 99}, task_type="record", max_attempts=2
    )
    wait_status(fast, ok, Status.DONE)
    wait_status(fast, dead, Status.DEAD)
    starts = [e for e in executions.read() if e["event"] == "start" and e["task_id"] == ok]
    assert [e["attempt"] for e in starts] == [1, 2, 3]
    assert len({e["key"] for e in starts}) == 1
    gaps = [b["time"] - a["time"] for a, b in itertools.pairwise(starts)]
    # RetryPolicy() waits 1 s, then 2 s, each jittered down by half at most.
    assert gaps[0] >= 0.5 and gaps[1] >= 1.0
    (letter,) = fast.dead_letters()
    assert letter.task_id == dead and "planned failure on attempt 2" in (letter.last_error or "")


def test_unknown_task_type_is_dead_lettered_with_a_log_line(
    sched: Scheduler, workers: WorkerProcesses
) -> None:
    a = workers.start()
    tid = sched.schedule_task(time.time(), {}, task_type="no_such_type")
    wait_status(sched, tid, Status.DEAD)
    info = sched.get(tid)
    assert info is not None and info.last_error is not None
    # A sentence a person reads in `dead list`, with no private class name in it.
    assert info.last_error.startswith("no handler for task type 'no_such_type' in this worker")
    assert "_NoHandler" not in info.last_error
    time.sleep(0.2)
    assert "no handler for task type 'no_such_type'" in workers.stderr_of(a)


def test_async_handlers_run(
    sched: Scheduler, workers: WorkerProcesses, executions: Executions
) -> None:
    workers.start()
    ids = [sched.schedule_task(time.time(), {}, task_type="record_async") for _ in range(5)]
    events = executions.wait_for(lambda ev: len(ended(ev)) == 5)
    assert sorted(e["task_id"] for e in ended(events)) == sorted(ids)


@pytest.fixture
def in_process_worker(sched: Scheduler) -> Iterator[list[Task]]:
    ran: list[Task] = []
    worker = Worker(sched, {"t": lambda task: ran.append(task)}, concurrency=2, lease_s=1)
    thread = threading.Thread(target=worker.run)
    thread.start()
    yield ran
    worker.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_a_skewed_worker_clock_changes_nothing(
    sched: Scheduler, monkeypatch: pytest.MonkeyPatch, in_process_worker: list[Task]
) -> None:
    real_time = time.time
    due = real_time() + 1.0
    monkeypatch.setattr(time, "time", lambda: real_time() + 3600)  # the worker is an hour ahead
    tid = sched.schedule_task(due, None, task_type="t")
    deadline = real_time() + 10
    while not in_process_worker and real_time() < deadline:
        time.sleep(0.005)
    ran_at = real_time()
    assert [t.task_id for t in in_process_worker] == [tid]
    assert due <= ran_at < due + 0.5


def test_wakes_for_new_earlier_tasks_without_polling(
    sched: Scheduler, in_process_worker: list[Task]
) -> None:
    sched.schedule_task(time.time() + 3600, None, task_type="t")  # the worker sleeps toward this
    time.sleep(0.3)
    lateness = []
    for _ in range(20):
        due = time.time() + 0.05
        sched.schedule_task(due, None, task_type="t")
        while len(in_process_worker) < len(lateness) + 1:
            time.sleep(0.001)
        lateness.append(time.time() - due)
    assert max(lateness) < 0.5  # a poll loop would show MAX_IDLE_S here
    assert sorted(lateness)[len(lateness) // 2] < 0.05


@pytest.mark.topologies
def test_duplicates_never_exceed_max_attempts(
    sched: Scheduler, workers: WorkerProcesses, executions: Executions
) -> None:
    a = workers.start(lease=0.5, concurrency=4)
    ids = [
        sched.schedule_task(time.time(), {"sleep": 0.3}, task_type="record", max_attempts=2)
        for _ in range(8)
    ]
    executions.wait_for(lambda ev: len([e for e in ev if e["event"] == "start"]) >= 4)
    os.killpg(a.pid, signal.SIGKILL)
    b = workers.start(lease=0.5, concurrency=4)
    os.killpg(b.pid, signal.SIGSTOP)
    time.sleep(1.5)  # b's leases, if any, expire too
    os.killpg(b.pid, signal.SIGCONT)
    workers.start(lease=0.5, concurrency=4)
    for tid in ids:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            info = sched.get(tid)
            if info is not None and info.status in (Status.DONE, Status.DEAD):
                break
            time.sleep(0.05)
    starts = Counter(e["task_id"] for e in executions.read() if e["event"] == "start")
    assert all(n <= 2 for n in starts.values()), starts


class TwiceHeld:
    """One in-process worker that runs one task twice at once.

    Renewals fail (a Redis blip) until the first run outlived its 0.3 s lease and the
    same worker claimed the task again; then they work again. Each run blocks until
    the test lets it return.
    """

    def __init__(self, sched: Scheduler, monkeypatch: pytest.MonkeyPatch) -> None:
        self.stalled = threading.Event()
        real_renew = worker_protocol.renew

        def renew(s: Scheduler, held: list[Lease], lease_ms: int) -> set[Lease]:
            if self.stalled.is_set():
                raise redis.ConnectionError("a Redis blip")
            return real_renew(s, held, lease_ms)

        monkeypatch.setattr(worker_protocol, "renew", renew)
        self.starts: list[Task] = []
        self.may_return = [threading.Event() for _ in range(3)]
        self.worker = Worker(
            sched, {"t": self.handler}, concurrency=2, lease_s=0.3, shutdown_grace_s=0.2, cron=False
        )
        self.thread = threading.Thread(target=self.worker.run)

    def handler(self, task: Task) -> None:
        self.starts.append(task)
        self.may_return[min(len(self.starts), 3) - 1].wait(timeout=30)

    def run_twice(self, sched: Scheduler) -> tuple[Task, Task]:
        self.stalled.set()
        self.thread.start()
        sched.schedule_task(time.time(), None, task_type="t")
        deadline = time.monotonic() + 10
        while len(self.starts) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.stalled.clear()
        first, second = self.starts
        assert first.task_id == second.task_id and first.token < second.token
        return first, second

    def close(self) -> None:
        for event in self.may_return:
            event.set()
        self.worker.stop()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()


@pytest.fixture
def twice_held(sched: Scheduler, monkeypatch: pytest.MonkeyPatch) -> Iterator[TwiceHeld]:
    setup = TwiceHeld(sched, monkeypatch)
    yield setup
    setup.close()


def test_a_run_whose_ack_is_refused_leaves_the_later_run_of_its_task_held(
    sched: Scheduler, twice_held: TwiceHeld
) -> None:
    _first, second = twice_held.run_twice(sched)
    twice_held.may_return[0].set()  # the first run returns; its ack is refused
    time.sleep(1.5)  # five leases: a second run nobody renews would be claimed again
    assert len(twice_held.starts) == 2
    assert twice_held.worker._held_pairs() == [(second.task_id, second.token)]
    twice_held.may_return[1].set()
    wait_status(sched, second.task_id, Status.DONE)
    info = sched.get(second.task_id)
    assert info is not None and info.attempts == 2 and len(twice_held.starts) == 2


def test_a_run_whose_ack_is_refused_leaves_the_later_run_to_be_handed_back_at_shutdown(
    sched: Scheduler, twice_held: TwiceHeld
) -> None:
    _first, second = twice_held.run_twice(sched)
    twice_held.may_return[0].set()  # its ack is refused
    time.sleep(0.1)  # less than a lease: the second run is not claimed a third time
    twice_held.worker.stop()  # the second run outlives the grace period
    twice_held.thread.join(timeout=10)
    info = sched.get(second.task_id)
    # Handed back, and the second run's attempt with it (a release is not a failure).
    assert info is not None and info.status is Status.SCHEDULED and info.attempts == 1


def test_the_observer_sees_each_claim_and_ack_with_its_token(sched: Scheduler) -> None:
    seen: list[LeaseChange] = []
    ran: list[Task] = []
    worker = Worker(sched, {"t": ran.append}, concurrency=2, lease_s=1, observer=seen.append)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        ids = [sched.schedule_task(time.time(), {}, task_type="t") for _ in range(3)]
        for tid in ids:
            wait_status(sched, tid, Status.DONE)
    finally:
        worker.stop()
        thread.join(timeout=10)
    by_action = {a: {(c.task_id, c.token) for c in seen if c.action == a} for a in ("claim", "ack")}
    ran_under = {(t.task_id, t.token) for t in ran}
    assert by_action["claim"] == by_action["ack"] == ran_under
    assert len({token for _, token in ran_under}) == 3  # one token per claim
    assert all(c.accepted and c.sent_at <= time.monotonic() for c in seen)


def test_an_observer_that_raises_changes_nothing(sched: Scheduler) -> None:
    def broken(change: LeaseChange) -> None:
        raise RuntimeError("observer bug")

    worker = Worker(sched, {"t": lambda task: None}, lease_s=1, observer=broken)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        tid = sched.schedule_task(time.time(), {}, task_type="t")
        wait_status(sched, tid, Status.DONE)
    finally:
        worker.stop()
        thread.join(timeout=10)


def test_counts_in_log_lines_agree_with_their_number() -> None:
    assert counted(1, "running task") == "1 running task"
    assert counted(2, "lease") == "2 leases"
    assert counted(0, "task ran", "tasks ran") == "0 tasks ran"


def test_a_worker_waiting_for_redis_backs_off_its_warnings_then_says_reconnected(
    tmp_path: Path,
) -> None:
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    procs = WorkerProcesses(url, "outage", tmp_path / "executions.jsonl")
    try:
        worker = procs.start()
        time.sleep(6)
        warnings = [x for x in procs.stderr_of(worker).splitlines() if " WARNING " in x]
        # Retried every second or faster, but said at 0, 1, 3 (7, 15, 30...) seconds.
        assert 2 <= len(warnings) <= 4, warnings
        assert warnings[0].endswith(f"waiting for Redis at {url}: Connection refused; retrying")
        assert all("still waiting for Redis" in x for x in warnings[1:]), warnings
        with RedisServer(Persistence(aof="off"), port=port):
            deadline = time.monotonic() + 5
            while "reconnected" not in procs.stderr_of(worker) and time.monotonic() < deadline:
                time.sleep(0.05)
            log = procs.stderr_of(worker)
            assert f" INFO duetime.redis: reconnected to Redis at {url} after " in log, log
            assert log.count("reconnected") == 1
    finally:
        procs.stop_all()

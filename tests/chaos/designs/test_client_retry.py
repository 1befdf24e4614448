"""client-retry (schedule-mq): what its re-issue-after-timeout does under crashes and slowness.

Process tests run real workers and cron processes on the session's redis-server;
the in-process tests drive :class:`ScheduleMQ`'s own steps with a hand-moved clock
to hit exact interleavings (a crash between two Redis commands, a lost reply).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from duetime.chaos.checker.facts import Execution
from duetime.chaos.designs import client_retry as design
from duetime.chaos.designs.contract import connect
from duetime.chaos.system.redis_server import RedisServer
from tests.chaos.designs.conftest import DesignProcesses

MODULE = "duetime.chaos.designs.client_retry"
T0 = 1_800_000_000.0


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def r(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = connect(redis_server.url)
    yield client
    client.close()


def runs_of(runs: list[Execution], task_id: str) -> list[Execution]:
    return sorted((e for e in runs if e.task_id == task_id), key=lambda e: e.start)


def wait_backlog_empty(client: design.ClientRetryClient, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while sum(client.backlog().values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.backlog() == {"pending": 0}


def schedule(client: design.ClientRetryClient, task_id: str, due: float, work_s: float) -> None:
    data = {"work_s": work_s, "fail_attempts": 0}
    client.schedule_task(due, data, task_type="chaos", task_id=task_id, max_attempts=3)


# -- real processes ---------------------------------------------------------------


def test_happy_path_each_task_runs_once_not_early(design_procs: DesignProcesses) -> None:
    client = design.client(design_procs.url, design_procs.namespace)
    design_procs.start(MODULE, "worker", "--concurrency", "2")
    now = time.time()
    due = {f"t{i}": now + 0.5 + 0.5 * i for i in range(3)}
    for task_id, at in due.items():
        schedule(client, task_id, at, 0.05)
    runs = design_procs.wait_for(lambda rs: sum(e.executed for e in rs) >= 3)
    for task_id, at in due.items():
        (run,) = runs_of(runs, task_id)
        assert run.executed and run.due_at == at
        # not early; late by at most the poll interval (the design's resolution) + slack
        assert at - 0.05 <= run.start <= at + design.POLL_INTERVAL_S + 0.5
    wait_backlog_empty(client)
    time.sleep(design.RETRY_TIMEOUT_S + design.POLL_INTERVAL_S)  # past any re-issue
    assert len(design_procs.executions()) == 3
    client.close()


def test_worker_killed_mid_handler_run_is_issued_again_after_retry_timeout(
    design_procs: DesignProcesses, r: redis.Redis
) -> None:
    client = design.client(design_procs.url, design_procs.namespace)
    first = design_procs.start(MODULE, "worker", "--concurrency", "1", name="w0")
    schedule(client, "k", time.time(), 1.5)
    design_procs.wait_for(lambda rs: any(e.end is None for e in runs_of(rs, "k")))
    # the claim left the re-issue entry, scored claim time + retry_timeout (in the future)
    (entry,) = r.zrange(f"{design_procs.namespace}:runs:chaos", 0, -1, withscores=True)
    assert float(entry[1]) / 1000 > time.time()
    design_procs.kill(first)
    design_procs.start(MODULE, "worker", "--concurrency", "1", name="w1")
    runs = runs_of(design_procs.wait_for(lambda rs: any(e.executed for e in rs)), "k")
    assert [(e.process, e.outcome) for e in runs] == [("w0", None), ("w1", "ok")]
    assert runs[1].start - runs[0].start >= design.RETRY_TIMEOUT_S - 0.1
    wait_backlog_empty(client)
    client.close()


def test_handler_slower_than_retry_timeout_runs_twice_concurrently(
    design_procs: DesignProcesses,
) -> None:
    client = design.client(design_procs.url, design_procs.namespace)
    for name in ("w0", "w1"):
        design_procs.start(MODULE, "worker", "--concurrency", "1", name=name)
    time.sleep(0.2)
    # 3.5 s of work: re-issued 2 s after the claim, claimed again within one poll (by any
    # worker: delivery does not wait for running handlers), and the first run's ZREM at
    # 3.5 s comes before the second re-issue.
    schedule(client, "slow", time.time(), 3.5)
    runs = runs_of(design_procs.wait_for(lambda rs: sum(e.executed for e in rs) >= 2), "slow")
    assert len(runs) == 2 and all(e.executed for e in runs)
    a, b = runs
    assert a.end is not None and b.start < a.end  # the duplicate started while the first ran
    assert b.start - a.start >= design.RETRY_TIMEOUT_S - 0.1
    wait_backlog_empty(client)
    client.close()


def test_cron_slot_fires_once_across_two_cron_processes(design_procs: DesignProcesses) -> None:
    spec = json.dumps([{"name": "every", "expr": "* * * * * *", "work_s": 0.01}])
    for name in ("c0", "c1"):
        design_procs.start(MODULE, "cron", "--schedules", spec, name=name)
    design_procs.start(MODULE, "worker", "--concurrency", "2", name="w0")
    runs = design_procs.wait_for(lambda rs: sum(e.executed for e in rs) >= 4)
    ids = [e.task_id for e in runs]
    assert len(ids) == len(set(ids))
    for e in runs:
        assert e.task_id == f"cron:every:{round(e.due_at * 1000)}"
    assert design_procs.started_early(tolerance=0.05) == []


# -- in-process, step by step -------------------------------------------------------


def recording(calls: list[Any]) -> design.Handler:
    def handler(data: Any) -> bool:
        calls.append(data)
        return True

    return handler


def mq(r: redis.Redis, namespace: str, clock: Clock, calls: list[Any]) -> design.ScheduleMQ:
    s = design.ScheduleMQ(r, f"{namespace}:", clock=clock)
    s.bind("job", recording(calls))
    return s


def test_crash_after_handler_returned_before_zrem_runs_again(
    r: redis.Redis, namespace: str
) -> None:
    clock, calls = Clock(), list[Any]()
    a, b = mq(r, namespace, clock, calls), mq(r, namespace, clock, calls)
    a.push("job", {"n": 1}, retry=True, retry_timeout=2.0)
    (run,) = a.claim_due(4)
    assert a.handlers["job"](run.data) is True  # the handler ran and succeeded ...
    # ... and instance a died before execute's ZREM: the re-issue entry is still there
    clock.t += 1.999
    assert b.claim_due(4) == []
    clock.t += 0.001
    (again,) = b.claim_due(4)
    assert again.member == run.member
    assert b.execute(again) is True
    assert calls == [{"n": 1}, {"n": 1}]
    assert r.zcard(f"{namespace}:runs:job") == 0


def test_without_retry_a_crash_after_the_claim_loses_the_run(
    r: redis.Redis, namespace: str
) -> None:
    clock, calls = Clock(), list[Any]()
    a, b = mq(r, namespace, clock, calls), mq(r, namespace, clock, calls)
    a.push("job", {"n": 1})
    assert len(a.claim_due(4)) == 1  # a dies before running it
    clock.t += 3600
    assert b.claim_due(4) == [] and calls == []
    assert r.zcard(f"{namespace}:runs:job") == 0


def test_producer_retrying_a_push_whose_reply_was_lost_makes_two_runs(
    redis_server: RedisServer, r: redis.Redis, namespace: str
) -> None:
    client = design.client(redis_server.url, namespace)
    due = time.time()
    for _ in range(2):  # the first reply "was lost": the producer calls again, same task_id
        schedule(client, "dup", due, 0.0)
    assert client.backlog() == {"pending": 2}
    got: list[Any] = []
    worker = design.ScheduleMQ(r, f"{namespace}:")
    worker.bind("chaos", recording(got))
    for run in worker.claim_due(4):
        worker.execute(run)
    assert [d["task_id"] for d in got] == ["dup", "dup"]
    assert client.backlog() == {"pending": 0}
    client.close()


def test_cron_two_instances_fire_a_slot_once_and_skip_missed_slots(
    r: redis.Redis, namespace: str
) -> None:
    clock = Clock(T0 + 0.5)
    instances = [design.ScheduleMQ(r, f"{namespace}:", clock=clock) for _ in range(2)]
    for s in instances:
        s.register("job", "*/10 * * * * *", make_data=lambda slot: {"slot": slot})
    assert [s.tick_cron() for s in instances] == [0, 0]  # first look: start from now
    clock.t = T0 + 25  # slots T0+10 and T0+20 passed
    assert [s.tick_cron() for s in instances] == [2, 0]
    got: list[Any] = []
    worker = design.ScheduleMQ(r, f"{namespace}:", clock=clock)
    worker.bind("job", got.append)
    for run in worker.claim_due(10):
        worker.execute(run)
    assert sorted(d["slot"] for d in got) == [T0 + 10, T0 + 20]
    # an instance (re)started later does not catch up on slots before its start
    late = design.ScheduleMQ(r, f"{namespace}:", clock=clock)
    late.register("job", "*/10 * * * * *", key="other")
    clock.t = T0 + 45
    assert late.tick_cron() == 0
    clock.t = T0 + 50
    assert late.tick_cron() == 1


def test_failing_handler_is_issued_again_without_limit(r: redis.Redis, namespace: str) -> None:
    clock = Clock()
    seen: list[Any] = []

    def fails(task: Any) -> None:
        seen.append(task)
        raise RuntimeError("always")

    s = design.ScheduleMQ(r, f"{namespace}:", clock=clock)
    s.bind("chaos", design.delivering("chaos", fails))
    s.push("chaos", {"task_id": "f", "due_at": T0, "data": {}}, retry=True, retry_timeout=2.0)
    for _ in range(5):  # no attempt count, no dead letter: every issue fails and comes back
        (run,) = s.claim_due(4)
        assert s.execute(run) is False
        assert s.claim_due(4) == []
        clock.t += 2.0
    assert len(seen) == 5 and {(d.task_id, d.attempt) for d in seen} == {("f", 1)}
    assert r.zcard(f"{namespace}:runs:chaos") == 1


def test_delivery_starts_every_due_run_without_waiting_for_handlers(
    r: redis.Redis, namespace: str
) -> None:
    """The library pops ready runs in a loop and does not await its handler: no cap."""
    import threading

    started = threading.Semaphore(0)
    release = threading.Event()

    def handler(_: Any) -> bool:
        started.release()
        release.wait(5)
        return True

    s = design.ScheduleMQ(r, f"{namespace}:")
    s.bind("job", handler)
    for _ in range(10):
        s.push("job", None, retry=True, retry_timeout=30.0)
    try:
        assert s.step() == 0.0  # claimed some: read again at once
        assert all(started.acquire(timeout=2) for _ in range(10))  # all ten run at once
    finally:
        release.set()


def test_cron_wakes_at_the_slot_not_at_the_next_poll(r: redis.Redis, namespace: str) -> None:
    clock = Clock(T0 + 0.3)
    s = design.ScheduleMQ(r, f"{namespace}:", clock=clock)
    s.register("job", "* * * * * *", key="every-second")
    assert s.step() == pytest.approx(0.7)  # sleeps until T0 + 1, not a full 1 s poll
    clock.t = T0 + 1.0
    assert s.tick_cron() == 1

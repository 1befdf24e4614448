"""The producer and admin API against a real redis-server."""

from __future__ import annotations

import datetime as dt
import threading
import time
from zoneinfo import ZoneInfo

import pytest

from duetime import (
    InvalidState,
    NewTask,
    RedisUnavailable,
    Retention,
    Scheduler,
    Status,
    Task,
    TaskNotFound,
    Worker,
    worker_protocol,
)
from duetime.chaos.system.redis_server import RedisServer
from tests.conftest import Clock


def test_schedule_and_get(sched: Scheduler) -> None:
    tid = sched.schedule_task(2_000_000_000, {"user": 42}, task_type="send_email")
    info = sched.get(tid)
    assert info is not None
    assert (info.status, info.task_type, info.data) == (
        Status.SCHEDULED,
        "send_email",
        {"user": 42},
    )
    assert info.due_at == 2_000_000_000 and info.run_at == 2_000_000_000
    assert info.attempts == 0 and info.max_attempts == 5 and info.last_error is None
    assert sched.get("no-such-task") is None


@pytest.mark.parametrize(
    ("zone", "wall", "fold", "utc"),
    [
        # a gap (clocks jump 02:00 -> 03:00): fold=0 reads it with the offset before
        # the change, fold=1 with the offset after, as zoneinfo does
        ("Europe/Madrid", "2024-03-31 02:30", 0, "2024-03-31 01:30"),  # = 03:30 CEST
        ("Europe/Madrid", "2024-03-31 02:30", 1, "2024-03-31 00:30"),  # = 01:30 CET
        # a fold (01:00-02:00 happens twice): fold=0 the first time, fold=1 the second
        ("America/New_York", "2024-11-03 01:30", 0, "2024-11-03 05:30"),  # EDT
        ("America/New_York", "2024-11-03 01:30", 1, "2024-11-03 06:30"),  # EST
    ],
)
def test_an_aware_datetime_in_a_gap_or_fold_is_stored_as_zoneinfo_reads_it(
    sched: Scheduler, zone: str, wall: str, fold: int, utc: str
) -> None:
    when = dt.datetime.fromisoformat(wall).replace(tzinfo=ZoneInfo(zone), fold=fold)
    info = sched.get(sched.schedule_task(when, task_type="t"))
    expected = dt.datetime.fromisoformat(utc).replace(tzinfo=dt.timezone.utc)
    assert info is not None and info.due_at == expected.timestamp()


def test_payload_reaches_the_handler_byte_for_byte(clocked: Scheduler, clock: Clock) -> None:
    data = {"f": 0.1 + 0.2, "big": 2**60, "text": 'ñ\n"|', "nested": [None, True, {"a": []}]}
    clocked.schedule_task(clock.ms / 1000, data)
    (task,) = worker_protocol.claim(clocked, 1000, 10).tasks
    assert task.data == data


@pytest.mark.topologies(quick=True)
def test_same_task_id_never_creates_a_second_task(sched: Scheduler) -> None:
    a = sched.schedule_task(2_000_000_000, {"v": 1}, task_id="sync:device-7")
    b = sched.schedule_task(2_000_000_100, {"v": 2}, task_id="sync:device-7")
    assert a == b == "sync:device-7"
    info = sched.get(a)
    assert info is not None and info.data == {"v": 1} and info.due_at == 2_000_000_000
    assert sched.stats().scheduled == 1


@pytest.mark.topologies
def test_an_id_in_use_is_refused_until_its_task_finishes(sched: Scheduler) -> None:
    def submit(tid: str, at: float = 0) -> bool:
        (result,) = sched.submit([NewTask(at, {"v": 2}, task_type="t", task_id=tid)])
        assert result.task_id == tid
        return result.created

    def claim_one(tid: str) -> Task:
        (task,) = worker_protocol.claim(sched, 60_000, 1, shard=sched.shard_of(tid)).tasks
        return task

    assert submit("pending", 2_000_000_000) is True
    assert submit("pending", 2_000_000_000) is False  # a producer's retry after a timeout
    assert submit("running") is True
    running = claim_one("running")
    assert submit("running") is False
    assert submit("retrying") is True
    retrying = claim_one("retrying")
    worker_protocol.fail(sched, retrying.task_id, retrying.token, "boom", 60_000)
    assert submit("retrying") is False
    sched.schedule_task(0, None, task_type="t", task_id="dead", max_attempts=1)
    dying = claim_one("dead")
    worker_protocol.fail(sched, dying.task_id, dying.token, "boom", None)
    assert submit("dead") is False  # a dead letter keeps its id until purged
    assert sched.purge_dead("dead") == 1
    assert submit("dead") is True
    assert running.task_id == "running"
    st = sched.stats()
    assert (st.scheduled, st.due, st.in_flight, st.retrying, st.dead) == (2, 1, 1, 1, 0)


@pytest.mark.topologies
def test_a_finished_id_is_scheduled_again_and_runs_again(sched: Scheduler) -> None:
    ran: list[tuple[str, int]] = []
    worker = Worker(sched, {"t": lambda task: ran.append((task.task_id, task.attempt))})
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        for round_ in (1, 2):
            # Another time: a new task. The same time: a retry of the call, no new task.
            (result,) = sched.submit([NewTask(round_, None, task_type="t", task_id="x")])
            assert result.created is True
            deadline = time.monotonic() + 5
            while (info := sched.get("x")) is not None and info.status is not Status.DONE:
                if time.monotonic() > deadline:
                    raise AssertionError(f"round {round_}: {info}")
                time.sleep(0.01)
            assert info is not None and info.due_at == round_
            assert ran == [("x", 1)] * round_
            (retry,) = sched.submit([NewTask(round_, None, task_type="t", task_id="x")])
            assert retry.created is False
        sched.schedule_task(time.time() + 3600, None, task_type="t", task_id="later")
        assert sched.cancel("later") is True
        assert sched.schedule_many([NewTask(0, {"v": 3}, task_type="t", task_id="later")]) == [
            "later"
        ]
        deadline = time.monotonic() + 5
        while len(ran) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ran[2:] == [("later", 1)]
    finally:
        worker.stop()
        thread.join(timeout=10)


def test_a_reused_id_outlives_its_old_record_s_expiry(
    redis_server: RedisServer, namespace: str, clock: Clock
) -> None:
    s = Scheduler.from_url(
        redis_server.url, namespace=namespace, clock=clock, retention=Retention(done_s=10)
    )
    s.schedule_task(clock.ms / 1000, None, task_type="t", task_id="x")
    (task,) = worker_protocol.claim(s, 60_000, 10).tasks
    worker_protocol.fail(s, task.task_id, task.token, "boom", 0)  # a last_error to clear
    (task,) = worker_protocol.claim(s, 60_000, 10).tasks
    worker_protocol.ack(s, [(task.task_id, task.token)])
    s.schedule_task(clock.ms / 1000 + 3600, {"new": True}, task_type="t", task_id="x")
    clock.advance(60)  # the old record's expiry is due: the next ack trims what expired
    s.schedule_task(clock.ms / 1000, None, task_type="t", task_id="y")
    (task,) = worker_protocol.claim(s, 60_000, 10).tasks
    worker_protocol.ack(s, [(task.task_id, task.token)])
    info = s.get("x")
    assert info is not None and info.status is Status.SCHEDULED and info.data == {"new": True}
    assert info.last_error is None and info.attempts == 0
    s.close()


def test_schedule_many(sched: Scheduler) -> None:
    ids = sched.schedule_many(NewTask(1, {"i": i}, task_id=f"b{i}") for i in range(2500))
    assert len(ids) == 2500 and ids[0] == "b0"
    assert sched.stats().due == 2500
    assert sched.schedule_many([NewTask(1, None, task_id="b7")]) == ["b7"]
    assert sched.stats().due == 2500


def test_cancel(sched: Scheduler) -> None:
    tid = sched.schedule_task(2_000_000_000, None)
    assert sched.cancel(tid) is True
    assert sched.cancel(tid) is False
    info = sched.get(tid)
    assert info is not None and info.status is Status.CANCELLED
    assert sched.stats().scheduled == 0
    with pytest.raises(TaskNotFound):
        sched.cancel("nope")


def test_cancel_running_task_fences_its_worker(clocked: Scheduler, clock: Clock) -> None:
    tid = clocked.schedule_task(clock.ms / 1000, None)
    (task,) = worker_protocol.claim(clocked, 1000, 1).tasks
    assert clocked.cancel(tid)
    assert worker_protocol.ack(clocked, [(tid, task.token)]) == [False]
    assert clocked.stats().in_flight == 0


def test_reschedule(sched: Scheduler) -> None:
    tid = sched.schedule_task(2_000_000_000, None)
    before = sched.get(tid)
    sched.reschedule(tid, 2_000_000_500)
    info = sched.get(tid)
    assert info is not None and before is not None
    assert info.due_at == info.run_at == 2_000_000_500
    with pytest.raises(TaskNotFound):
        sched.reschedule("nope", 1)
    sched.cancel(tid)
    with pytest.raises(InvalidState):
        sched.reschedule(tid, 1)


def test_stats_counts_each_state(clocked: Scheduler, clock: Clock) -> None:
    now = clock.ms / 1000
    clocked.schedule_task(now + 60, None)  # scheduled
    clocked.schedule_task(now - 4, None)  # running
    clocked.schedule_task(now - 3, None)  # retrying
    clocked.schedule_task(now - 2, None, max_attempts=1)  # dead
    clocked.schedule_task(now - 1, None)  # done
    clocked.schedule_task(now, None)  # due
    _running, retrying, dead, done = worker_protocol.claim(clocked, 60_000, 4).tasks
    worker_protocol.fail(clocked, retrying.task_id, retrying.token, "boom", 10_000)
    worker_protocol.fail(clocked, dead.task_id, dead.token, "boom", 10_000)
    worker_protocol.ack(clocked, [(done.task_id, done.token)])
    st = clocked.stats()
    assert (st.scheduled, st.due, st.in_flight, st.retrying, st.dead, st.done) == (2, 1, 1, 1, 1, 1)


def test_redis_down_raises_and_returns_no_id() -> None:
    server = RedisServer().start()
    s = Scheduler.from_url(server.url, namespace="down")
    server.stop()
    started = time.monotonic()
    with pytest.raises(RedisUnavailable, match="retry with task_id='fixed-id'") as exc:
        s.schedule_task(1, None, task_id="fixed-id")
    assert exc.value.task_id == "fixed-id"
    with pytest.raises(RedisUnavailable) as generated:
        s.schedule_task(1, None)
    assert generated.value.task_id  # the generated id, to retry with
    assert time.monotonic() - started < 10
    for call in (s.stats, lambda: s.get("x"), lambda: s.cancel("x")):
        with pytest.raises(RedisUnavailable):
            call()


def test_redis_that_does_not_answer_times_out(fresh_redis: RedisServer) -> None:
    import redis as redis_py

    client = redis_py.Redis.from_url(fresh_redis.url, socket_timeout=0.5)
    s = Scheduler(client, namespace="slow")
    s.stats()  # connect and load scripts while it answers
    fresh_redis.pause()
    try:
        with pytest.raises(RedisUnavailable, match="may or may not"):
            s.schedule_task(1, None, task_id="t1")
    finally:
        fresh_redis.resume()
    # Retrying with the same id is safe whichever way the first call went.
    assert s.schedule_task(1, None, task_id="t1") == "t1"
    assert s.stats().due == 1


def test_scripts_reload_after_redis_restarts_empty(fresh_redis: RedisServer) -> None:
    s = Scheduler.from_url(fresh_redis.url, namespace="restart")
    s.schedule_task(1, None)
    fresh_redis.restart()
    s.redis.script_flush()
    s.schedule_task(1, None)
    assert s.stats().due == 2  # aof=always kept the first one

"""Claim, ack, fail, renew and release, with time moved by hand."""

from __future__ import annotations

import random

from duetime import RetryPolicy, Scheduler, Status, worker_protocol
from duetime.results import Result
from tests.conftest import Clock


def test_nothing_is_claimed_before_its_due_time(clocked: Scheduler, clock: Clock) -> None:
    tid = clocked.schedule_task(clock.ms / 1000 + 10, None)
    got = worker_protocol.claim(clocked, 1000, 10)
    assert got.tasks == [] and got.next_wake_ms == clock.ms + 10_000
    clock.advance(9.999)
    assert worker_protocol.claim(clocked, 1000, 10).tasks == []
    clock.advance(0.001)
    (task,) = worker_protocol.claim(clocked, 1000, 10).tasks
    assert task.task_id == tid and task.attempt == 1


def test_claim_takes_a_batch_in_due_order(clocked: Scheduler, clock: Clock) -> None:
    for i in range(10):
        clocked.schedule_task(clock.ms / 1000 - i, {"i": i})
    got = worker_protocol.claim(clocked, 1000, 4)
    assert [t.data["i"] for t in got.tasks] == [9, 8, 7, 6]
    assert clocked.stats().in_flight == 4


def test_expired_lease_is_taken_over_and_the_stale_holder_is_fenced(
    clocked: Scheduler, clock: Clock
) -> None:
    tid = clocked.schedule_task(clock.ms / 1000, None)
    (first,) = worker_protocol.claim(clocked, 1000, 1).tasks
    clock.advance(0.5)
    assert worker_protocol.claim(clocked, 1000, 1).tasks == []  # lease still held
    clock.advance(0.6)
    (second,) = worker_protocol.claim(clocked, 1000, 1).tasks
    assert second.task_id == tid and second.attempt == 2
    assert second.idempotency_key == first.idempotency_key
    # The first holder can change nothing any more.
    assert worker_protocol.ack(clocked, [(tid, first.attempt)]) == [False]
    assert worker_protocol.fail(clocked, tid, first.attempt, "late", 0) is Result.REFUSED
    assert worker_protocol.renew(clocked, [(tid, first.attempt)], 1000) == {tid}
    assert worker_protocol.release(clocked, [(tid, first.attempt)]) == 0
    assert worker_protocol.ack(clocked, [(tid, second.attempt)]) == [True]
    info = clocked.get(tid)
    assert info is not None and info.status is Status.DONE and info.attempts == 2


def test_late_ack_is_accepted_while_nobody_took_over(clocked: Scheduler, clock: Clock) -> None:
    tid = clocked.schedule_task(clock.ms / 1000, None)
    (task,) = worker_protocol.claim(clocked, 1000, 1).tasks
    clock.advance(5)
    assert worker_protocol.ack(clocked, [(tid, task.attempt)]) == [True]
    assert worker_protocol.claim(clocked, 1000, 1).tasks == []


def test_renewal_keeps_the_lease(clocked: Scheduler, clock: Clock) -> None:
    tid = clocked.schedule_task(clock.ms / 1000, None)
    (task,) = worker_protocol.claim(clocked, 1000, 1).tasks
    for _ in range(5):
        clock.advance(0.8)
        assert worker_protocol.renew(clocked, [(tid, task.attempt)], 1000) == set()
        assert worker_protocol.claim(clocked, 1000, 1).tasks == []


def test_lease_expiry_counts_attempts_and_buries_the_last(clocked: Scheduler, clock: Clock) -> None:
    tid = clocked.schedule_task(clock.ms / 1000, None, max_attempts=3)
    for attempt in (1, 2, 3):
        (task,) = worker_protocol.claim(clocked, 1000, 1).tasks
        assert task.attempt == attempt
        clock.advance(1.001)
    got = worker_protocol.claim(clocked, 1000, 1)
    assert got.tasks == [] and got.buried == 1
    info = clocked.get(tid)
    assert info is not None and info.status is Status.DEAD and info.attempts == 3
    assert info.last_error is not None and "out of attempts" in info.last_error


def test_failure_retries_after_the_delay_then_dead_letters(
    clocked: Scheduler, clock: Clock
) -> None:
    tid = clocked.schedule_task(clock.ms / 1000, {"x": 1}, max_attempts=2)
    (task,) = worker_protocol.claim(clocked, 1000, 1).tasks
    assert worker_protocol.fail(clocked, tid, 1, "ValueError: nope", 2000) is Result.OK
    info = clocked.get(tid)
    assert (
        info is not None
        and info.status is Status.RETRYING
        and info.last_error == "ValueError: nope"
    )
    assert clocked.stats().retrying == 1
    clock.advance(1.999)
    assert worker_protocol.claim(clocked, 1000, 1).tasks == []
    clock.advance(0.001)
    (again,) = worker_protocol.claim(clocked, 1000, 1).tasks
    assert again.attempt == 2 and again.idempotency_key == task.idempotency_key
    assert clocked.stats().retrying == 0
    assert worker_protocol.fail(clocked, tid, 2, "ValueError: still", 2000) is Result.BURIED
    (dead,) = clocked.dead_letters()
    assert dead.task_id == tid and dead.last_error == "ValueError: still" and dead.data == {"x": 1}


def test_dead_letters_can_be_retried_and_purged(clocked: Scheduler, clock: Clock) -> None:
    ids = [clocked.schedule_task(clock.ms / 1000, None, max_attempts=1) for _ in range(3)]
    for t in worker_protocol.claim(clocked, 1000, 3).tasks:
        worker_protocol.fail(clocked, t.task_id, t.attempt, "boom", None)
    assert {d.task_id for d in clocked.dead_letters()} == set(ids)
    clocked.retry_dead(ids[0])
    (task,) = worker_protocol.claim(clocked, 1000, 1).tasks
    assert task.task_id == ids[0] and task.attempt == 1
    assert clocked.purge_dead(ids[1]) == 1
    assert clocked.purge_dead() == 1
    assert clocked.dead_letters() == [] and clocked.get(ids[2]) is None


def test_release_hands_back_for_another_worker(clocked: Scheduler, clock: Clock) -> None:
    tid = clocked.schedule_task(clock.ms / 1000, None)
    (task,) = worker_protocol.claim(clocked, 60_000, 1).tasks
    assert worker_protocol.release(clocked, [(tid, task.attempt)]) == 1
    (again,) = worker_protocol.claim(clocked, 60_000, 1).tasks
    assert again.attempt == 2


def test_finished_records_expire(redis_server: object, namespace: str, clock: Clock) -> None:
    from duetime import Retention

    s = Scheduler.from_url(
        redis_server.url,  # type: ignore[attr-defined]
        namespace=namespace,
        clock=clock,
        retention=Retention(done_s=60, dead_s=120),
    )
    old = [s.schedule_task(clock.ms / 1000, None) for _ in range(3)]
    for t in worker_protocol.claim(s, 1000, 3).tasks:
        worker_protocol.ack(s, [(t.task_id, t.attempt)])
    clock.advance(61)
    s.schedule_task(clock.ms / 1000, None)
    (t,) = worker_protocol.claim(s, 1000, 1).tasks
    worker_protocol.ack(s, [(t.task_id, t.attempt)])
    assert all(s.get(tid) is None for tid in old)
    assert s.stats().done == 1
    assert s.redis.hlen(s.keys.tasks) == 1


def test_retry_policy_backs_off_exponentially_with_jitter() -> None:
    policy = RetryPolicy(max_attempts=10, backoff_base_s=1, backoff_cap_s=30)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (5, 16), (6, 30), (9, 30)]:
        delays = [policy.delay_s(attempt, rng) for _ in range(200)]
        assert ceiling / 2 <= min(delays) and max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 4  # jitter spreads them

"""Claim, ack, fail, renew and release, with time moved by hand."""

from __future__ import annotations

import random

import pytest

from duetime import RetryPolicy, Scheduler, Status, worker_protocol
from duetime.results import Result
from duetime.worker_protocol import Lease
from tests.conftest import Clock

# How each way a holder ends its lease leaves a task on its first attempt (max_attempts 1).
FINISHES = {"ack": Status.DONE, "fail": Status.DEAD, "release": Status.SCHEDULED}


def assert_fenced_out(s: Scheduler, lease: Lease) -> None:
    tid, token = lease
    assert worker_protocol.ack(s, [lease]) == [False]
    assert worker_protocol.fail(s, tid, token, "late", 0) is Result.REFUSED
    assert worker_protocol.renew(s, [lease], 1000) == {lease}
    assert worker_protocol.release(s, [lease]) == [False]


def renew_and_finish(s: Scheduler, lease: Lease, finish: str) -> None:
    """The current holder renews, then ends its lease by ``finish``; each is accepted."""
    tid, token = lease
    assert worker_protocol.renew(s, [lease], 1000) == set()
    if finish == "ack":
        assert worker_protocol.ack(s, [lease]) == [True]
    elif finish == "fail":
        assert worker_protocol.fail(s, tid, token, "boom", 0) is Result.BURIED
    else:
        assert worker_protocol.release(s, [lease]) == [True]
    info = s.get(tid)
    assert info is not None and info.status is FINISHES[finish]


@pytest.mark.topologies(quick=True)
def test_nothing_is_claimed_before_its_due_time(clocked: Scheduler, clock: Clock) -> None:
    tid = clocked.schedule_task(clock.ms / 1000 + 10, None)
    got = worker_protocol.claim(clocked, 1000, 10, shard=clocked.shard_of(tid))
    assert got.tasks == [] and got.next_wake_ms == clock.ms + 10_000
    clock.advance(9.999)
    assert worker_protocol.claim(clocked, 1000, 10, shard=clocked.shard_of(tid)).tasks == []
    clock.advance(0.001)
    (task,) = worker_protocol.claim(clocked, 1000, 10, shard=clocked.shard_of(tid)).tasks
    assert task.task_id == tid and task.attempt == 1


def test_claim_takes_a_batch_in_due_order(clocked: Scheduler, clock: Clock) -> None:
    for i in range(10):
        clocked.schedule_task(clock.ms / 1000 - i, {"i": i})
    got = worker_protocol.claim(clocked, 1000, 4)
    assert [t.data["i"] for t in got.tasks] == [9, 8, 7, 6]
    assert clocked.stats().in_flight == 4


@pytest.mark.topologies
def test_expired_lease_is_taken_over_and_the_stale_holder_is_fenced(
    clocked: Scheduler, clock: Clock
) -> None:
    tid = clocked.schedule_task(clock.ms / 1000, None)
    (first,) = worker_protocol.claim(clocked, 1000, 1, shard=clocked.shard_of(tid)).tasks
    clock.advance(0.5)
    assert (
        worker_protocol.claim(clocked, 1000, 1, shard=clocked.shard_of(tid)).tasks == []
    )  # lease still held
    clock.advance(0.6)
    (second,) = worker_protocol.claim(clocked, 1000, 1, shard=clocked.shard_of(tid)).tasks
    assert second.task_id == tid and second.attempt == 2
    assert second.idempotency_key == first.idempotency_key
    # The first holder can change nothing any more.
    assert worker_protocol.ack(clocked, [(tid, first.token)]) == [False]
    assert worker_protocol.fail(clocked, tid, first.token, "late", 0) is Result.REFUSED
    assert worker_protocol.renew(clocked, [(tid, first.token)], 1000) == {(tid, first.token)}
    assert worker_protocol.release(clocked, [(tid, first.token)]) == [False]
    assert worker_protocol.ack(clocked, [(tid, second.token)]) == [True]
    info = clocked.get(tid)
    assert info is not None and info.status is Status.DONE and info.attempts == 2


@pytest.mark.topologies
@pytest.mark.parametrize("finish", FINISHES)
def test_retry_dead_does_not_reissue_the_token_of_an_earlier_holder(
    clocked: Scheduler, clock: Clock, finish: str
) -> None:
    tid = clocked.schedule_task(clock.ms / 1000, None, max_attempts=1)
    (stale,) = worker_protocol.claim(
        clocked, 1000, 1, shard=clocked.shard_of(tid)
    ).tasks  # its worker is paused
    clock.advance(1.001)
    assert (
        worker_protocol.claim(clocked, 1000, 1, shard=clocked.shard_of(tid)).buried == 1
    )  # out of attempts
    clocked.retry_dead(tid)
    (fresh,) = worker_protocol.claim(clocked, 1000, 1, shard=clocked.shard_of(tid)).tasks
    assert fresh.task_id == tid and fresh.attempt == stale.attempt == 1
    assert fresh.token > stale.token
    assert_fenced_out(clocked, (tid, stale.token))  # the paused worker resumes
    renew_and_finish(clocked, (tid, fresh.token), finish)
    assert_fenced_out(clocked, (tid, stale.token))


@pytest.mark.parametrize("finish", FINISHES)
def test_a_trimmed_task_id_scheduled_again_gets_a_new_token(
    clocked: Scheduler, clock: Clock, finish: str
) -> None:
    tid = clocked.schedule_task(clock.ms / 1000, None, task_id="report-7", max_attempts=1)
    (stale,) = worker_protocol.claim(clocked, 1000, 1).tasks  # its worker is paused
    clocked.cancel(tid)
    clock.advance(clocked.retention.done_s + 1)
    clocked.schedule_task(clock.ms / 1000, None, task_id="other")
    (other,) = worker_protocol.claim(clocked, 1000, 1).tasks
    assert worker_protocol.ack(clocked, [(other.task_id, other.token)]) == [True]  # trims
    assert clocked.get(tid) is None
    clocked.schedule_task(clock.ms / 1000, None, task_id=tid, max_attempts=1)
    (fresh,) = worker_protocol.claim(clocked, 1000, 1).tasks
    assert fresh.task_id == tid and fresh.attempt == stale.attempt == 1
    assert len({stale.token, other.token, fresh.token}) == 3
    assert_fenced_out(clocked, (tid, stale.token))
    renew_and_finish(clocked, (tid, fresh.token), finish)
    assert_fenced_out(clocked, (tid, stale.token))


def test_records_without_a_token_are_claimable_and_held_by_nobody(
    clocked: Scheduler, clock: Clock
) -> None:
    k, due = clocked.keys, clock.ms
    # The header format from before tokens: no sixth field.
    clocked.redis.hset(
        k.tasks,
        mapping={"old-waiting": f'P|0|3|{due}|t\n{{"v":1}}', "old-running": f"R|1|3|{due}|t\nnull"},
    )
    clocked.redis.zadd(k.due, {"old-waiting": due})
    clocked.redis.zadd(k.leases, {"old-running": due + 1000})
    info = clocked.get("old-waiting")
    assert info is not None and info.status is Status.SCHEDULED and info.data == {"v": 1}
    # Its holder, from before the upgrade, can only present its attempt (or nothing).
    assert_fenced_out(clocked, ("old-running", 1))
    assert_fenced_out(clocked, ("old-running", 0))
    (waiting,) = worker_protocol.claim(clocked, 60_000, 1).tasks
    assert waiting.task_id == "old-waiting" and waiting.attempt == 1 and waiting.token > 0
    assert waiting.data == {"v": 1}
    clock.advance(1)
    (running,) = worker_protocol.claim(clocked, 60_000, 1).tasks
    assert running.task_id == "old-running" and running.attempt == 2
    assert running.token > waiting.token
    leases = [(waiting.task_id, waiting.token), (running.task_id, running.token)]
    assert worker_protocol.ack(clocked, leases) == [True, True]


def test_late_ack_is_accepted_while_nobody_took_over(clocked: Scheduler, clock: Clock) -> None:
    tid = clocked.schedule_task(clock.ms / 1000, None)
    (task,) = worker_protocol.claim(clocked, 1000, 1).tasks
    clock.advance(5)
    assert worker_protocol.ack(clocked, [(tid, task.token)]) == [True]
    assert worker_protocol.claim(clocked, 1000, 1).tasks == []


def test_renewal_keeps_the_lease(clocked: Scheduler, clock: Clock) -> None:
    tid = clocked.schedule_task(clock.ms / 1000, None)
    (task,) = worker_protocol.claim(clocked, 1000, 1).tasks
    for _ in range(5):
        clock.advance(0.8)
        assert worker_protocol.renew(clocked, [(tid, task.token)], 1000) == set()
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
    assert worker_protocol.fail(clocked, tid, task.token, "ValueError: nope", 2000) is Result.OK
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
    outcome = worker_protocol.fail(clocked, tid, again.token, "ValueError: still", 2000)
    assert outcome is Result.BURIED
    (dead,) = clocked.dead_letters()
    assert dead.task_id == tid and dead.last_error == "ValueError: still" and dead.data == {"x": 1}


def test_dead_letters_can_be_retried_and_purged(clocked: Scheduler, clock: Clock) -> None:
    ids = [clocked.schedule_task(clock.ms / 1000, None, max_attempts=1) for _ in range(3)]
    for t in worker_protocol.claim(clocked, 1000, 3).tasks:
        worker_protocol.fail(clocked, t.task_id, t.token, "boom", None)
    assert {d.task_id for d in clocked.dead_letters()} == set(ids)
    clocked.retry_dead(ids[0])
    (task,) = worker_protocol.claim(clocked, 1000, 1).tasks
    assert task.task_id == ids[0] and task.attempt == 1
    assert clocked.purge_dead(ids[1]) == 1
    assert clocked.purge_dead() == 1
    assert clocked.dead_letters() == [] and clocked.get(ids[2]) is None


def test_release_hands_back_for_another_worker_and_gives_the_attempt_back(
    clocked: Scheduler, clock: Clock
) -> None:
    tid = clocked.schedule_task(clock.ms / 1000, None, max_attempts=1)
    (task,) = worker_protocol.claim(clocked, 60_000, 1).tasks
    assert worker_protocol.release(clocked, [(tid, task.token)]) == [True]
    # A release is not a failure: the last attempt is not used up by a shutdown.
    (again,) = worker_protocol.claim(clocked, 60_000, 1).tasks
    assert (again.attempt, again.token > task.token) == (1, True)
    assert worker_protocol.release(clocked, [(tid, task.token)]) == [False]


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
        worker_protocol.ack(s, [(t.task_id, t.token)])
    clock.advance(61)
    s.schedule_task(clock.ms / 1000, None)
    (t,) = worker_protocol.claim(s, 1000, 1).tasks
    worker_protocol.ack(s, [(t.task_id, t.token)])
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


def test_a_record_redis_lost_is_held_by_nobody_and_breaks_no_call(
    clocked: Scheduler, clock: Clock
) -> None:
    # As after a restart without persistence: the holder's calls are refused, not errors.
    tid = clocked.schedule_task(clock.ms / 1000, None, task_type="t")
    (task,) = worker_protocol.claim(clocked, 30_000, 10).tasks
    clocked.redis.hdel(clocked.keys.tasks, tid)
    lease = (tid, task.token)
    assert worker_protocol.renew(clocked, [lease], 30_000) == {lease}
    assert worker_protocol.ack(clocked, [lease]) == [False]
    assert worker_protocol.fail(clocked, tid, task.token, "boom", 1000) is Result.REFUSED
    assert worker_protocol.release(clocked, [lease]) == [False]
    assert clocked.schedule_task(clock.ms / 1000, None, task_type="t", task_id="fresh") == "fresh"

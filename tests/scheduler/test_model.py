"""A stateful model test: the scheduler's Redis state against a simple in-memory model.

Hypothesis drives the public API and the lease operations (schedule, cancel,
reschedule, claim, ack, fail, renew, release, crashes, dead-letter retries, moving
the clock) and after every step checks the whole state against the model: nothing
lost, nothing early, attempts within bounds, no fencing token issued twice for a
task, stale lease holders change nothing, dead letters are exactly the tasks that
ran out of attempts. It runs on fakeredis for many examples and on a real
redis-server for fewer. Broken scripts (``broken_lua.py``) must be caught: an
``ack.lua`` without the fence, shrunk to a short sequence; a ``claim.lua`` that takes
the attempt for the token, on the retry_dead sequence replayed as the machine's steps.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import fakeredis
import pytest
import redis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from duetime import InvalidState, Scheduler, TaskNotFound, worker_protocol
from duetime.chaos.system.redis_server import RedisServer
from duetime.results import Result
from tests.scheduler.broken_lua import broken

LEASE_MS = 1000
IDS = [f"task-{c}" for c in "abcdef"]


@dataclass
class ModelTask:
    status: str  # P scheduled, R running, Y retrying, D done, X dead, C cancelled
    attempt: int
    max_attempts: int
    due: int
    run_at: int | None = None
    lease_until: int | None = None
    token: int = 0  # of the latest claim, as Redis issued it
    issued: set[int] = field(default_factory=set)  # every token any claim of it got


@dataclass
class Model:
    now: int = 1_800_000_000_000
    tasks: dict[str, ModelTask] = field(default_factory=dict)

    def claim(self, limit: int) -> tuple[list[str], int]:
        """What claim.lua must return: expired leases first, then due tasks, by (score, id)."""
        claimed: list[str] = []
        buried = 0

        def take(tid: str) -> None:
            nonlocal buried
            t = self.tasks[tid]
            if t.attempt >= t.max_attempts:
                t.status, t.run_at, t.lease_until = "X", None, None
                buried += 1
                return
            t.status, t.attempt = "R", t.attempt + 1
            t.run_at, t.lease_until = None, self.now + LEASE_MS
            claimed.append(tid)

        expired = sorted(
            (t.lease_until, tid)
            for tid, t in self.tasks.items()
            if t.status == "R" and t.lease_until is not None and t.lease_until <= self.now
        )[:limit]
        for _, tid in expired:
            take(tid)
        room = limit - len(claimed)
        if room > 0:
            ready = sorted(
                (t.run_at, tid)
                for tid, t in self.tasks.items()
                if t.status in "PY" and t.run_at is not None and t.run_at <= self.now
            )[:room]
            for _, tid in ready:
                take(tid)
        return claimed, buried

    def holds(self, tid: str, token: int) -> bool:
        t = self.tasks.get(tid)
        return t is not None and t.status == "R" and t.token == token


def make_machine(
    connect: Callable[[], redis.Redis], variant: str | None = None
) -> type[RuleBasedStateMachine]:
    """The machine; ``variant`` names a broken script from ``broken_lua.MUTATIONS``."""

    class SchedulerMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.model = Model()
            self.sched = Scheduler(
                connect(), namespace=f"m{uuid.uuid4().hex[:10]}", clock=lambda: self.model.now
            )
            if variant is not None:
                self.sched.scripts.replace(*broken(variant))
            self.held: dict[int, list[tuple[str, int]]] = {0: [], 1: [], 2: []}
            # Generated ids are random; ties in due time are broken by id, so replays of
            # an example would differ. Number them instead.
            counter = itertools.count()
            self._ids = mock.patch(
                "duetime.client.new_task_id", lambda rng: f"gen-{next(counter):04d}"
            )
            self._ids.start()

        @initialize()
        def start(self) -> None:
            pass

        # -- producers -----------------------------------------------------

        @rule(
            tid=st.sampled_from(IDS),
            delay=st.integers(-2000, 4000),
            max_attempts=st.integers(1, 3),
        )
        def schedule(self, tid: str, delay: int, max_attempts: int) -> None:
            due = self.model.now + delay
            got = self.sched.schedule_task(
                due / 1000, {"id": tid}, task_id=tid, max_attempts=max_attempts
            )
            assert got == tid
            old = self.model.tasks.get(tid)
            # A finished task gives its id up to a task due at another time.
            if old is None or (old.status in "DC" and old.due != due):
                self.model.tasks[tid] = ModelTask("P", 0, max_attempts, due, run_at=due)

        @rule(delay=st.integers(0, 3000))
        def schedule_without_id(self, delay: int) -> None:
            due = self.model.now + delay
            tid = self.sched.schedule_task(due / 1000, None)
            assert tid not in self.model.tasks
            self.model.tasks[tid] = ModelTask("P", 0, 5, due, run_at=due)

        @rule(tid=st.sampled_from(IDS))
        def cancel(self, tid: str) -> None:
            t = self.model.tasks.get(tid)
            if t is None:
                with pytest.raises(TaskNotFound):
                    self.sched.cancel(tid)
                return
            expected = t.status in "PYR"
            assert self.sched.cancel(tid) is expected
            if expected:
                t.status, t.run_at, t.lease_until = "C", None, None

        @rule(tid=st.sampled_from(IDS), delay=st.integers(-1000, 3000))
        def reschedule(self, tid: str, delay: int) -> None:
            t = self.model.tasks.get(tid)
            due = self.model.now + delay
            if t is None:
                with pytest.raises(TaskNotFound):
                    self.sched.reschedule(tid, due / 1000)
            elif t.status in "PY":
                self.sched.reschedule(tid, due / 1000)
                t.due = t.run_at = due
            else:
                with pytest.raises(InvalidState):
                    self.sched.reschedule(tid, due / 1000)

        @rule(tid=st.sampled_from(IDS))
        def retry_dead(self, tid: str) -> None:
            t = self.model.tasks.get(tid)
            if t is not None and t.status == "X":
                self.sched.retry_dead(tid)
                t.status, t.attempt, t.run_at = "P", 0, self.model.now
            else:
                with pytest.raises((TaskNotFound, InvalidState)):
                    self.sched.retry_dead(tid)

        @rule(ms=st.integers(0, 2500))
        def advance(self, ms: int) -> None:
            self.model.now += ms

        @precondition(lambda self: any(t.status == "R" for t in self.model.tasks.values()))
        @rule()
        def expire_a_lease(self) -> None:
            """Time passes until the earliest lease runs out (its holder stalled)."""
            self.model.now = min(
                t.lease_until
                for t in self.model.tasks.values()
                if t.status == "R" and t.lease_until is not None
            )

        # -- workers -------------------------------------------------------

        @precondition(lambda self: bool(self.model.tasks))
        @rule(worker=st.integers(0, 2), limit=st.integers(1, 4))
        def claim(self, worker: int, limit: int) -> None:
            got = worker_protocol.claim(self.sched, LEASE_MS, limit)
            expected, buried = self.model.claim(limit)
            assert [t.task_id for t in got.tasks] == expected, "claim differs from the model"
            assert got.buried == buried
            for t in got.tasks:
                m = self.model.tasks[t.task_id]
                assert t.attempt == m.attempt
                assert t.due_at * 1000 <= self.model.now, "claimed before its due time"
                # Only uniqueness is promised, so the model takes the value Redis chose.
                assert t.token > 0 and t.token not in m.issued, "a token was issued twice"
                m.token = t.token
                m.issued.add(t.token)
                self.held[worker].append((t.task_id, t.token))

        def _pick(self, index: int) -> tuple[str, int]:
            """Take one lease some worker holds (stale or not) out of its hands."""
            holders = [(w, i) for w, held in self.held.items() for i in range(len(held))]
            worker, i = holders[index % len(holders)]
            return self.held[worker].pop(i)

        def _holding(self) -> bool:
            return any(self.held.values())

        @precondition(lambda self: self._holding())
        @rule(index=st.integers(0, 8))
        def ack(self, index: int) -> None:
            lease_ = self._pick(index)
            expected = self.model.holds(*lease_)
            assert worker_protocol.ack(self.sched, [lease_]) == [expected], "a stale holder acked"
            if expected:
                t = self.model.tasks[lease_[0]]
                t.status, t.lease_until = "D", None

        @precondition(lambda self: self._holding())
        @rule(index=st.integers(0, 8), delay=st.one_of(st.none(), st.integers(0, 3000)))
        def fail(self, index: int, delay: int | None) -> None:
            lease_ = self._pick(index)
            outcome = worker_protocol.fail(self.sched, *lease_, "boom", delay)
            if not self.model.holds(*lease_):
                assert outcome is Result.REFUSED
                return
            t = self.model.tasks[lease_[0]]
            t.lease_until = None
            if delay is not None and t.attempt < t.max_attempts:
                assert outcome is Result.OK
                t.status, t.run_at = "Y", self.model.now + delay
            else:
                assert outcome is Result.BURIED
                t.status = "X"

        @precondition(lambda self: self._holding())
        @rule(worker=st.integers(0, 2))
        def renew(self, worker: int) -> None:
            held = self.held[worker]
            lost = worker_protocol.renew(self.sched, held, LEASE_MS)
            assert lost == {(tid, tok) for tid, tok in held if not self.model.holds(tid, tok)}
            for tid, tok in held:
                if self.model.holds(tid, tok):
                    self.model.tasks[tid].lease_until = self.model.now + LEASE_MS
            self.held[worker] = [lease_ for lease_ in held if lease_ not in lost]

        @precondition(lambda self: self._holding())
        @rule(worker=st.integers(0, 2))
        def release(self, worker: int) -> None:
            held = self.held.pop(worker)
            self.held[worker] = []
            expected = [(tid, tok) for tid, tok in held if self.model.holds(tid, tok)]
            assert sum(worker_protocol.release(self.sched, held)) == len(expected)
            for tid, _ in expected:
                t = self.model.tasks[tid]
                t.status, t.run_at, t.lease_until = "P", self.model.now, None
                t.attempt = max(0, t.attempt - 1)  # a release is not a failure

        @precondition(lambda self: self._holding())
        @rule(worker=st.integers(0, 2))
        def crash(self, worker: int) -> None:
            self.held[worker] = []  # its leases just expire

        # -- what must always hold -------------------------------------------

        @invariant()
        def state_matches_the_model(self) -> None:
            m = self.model
            for tid, t in m.tasks.items():
                info = self.sched.get(tid)
                assert info is not None, f"{tid} was lost"
                assert info.status.value == t.status, (tid, info, t)
                assert info.attempts == t.attempt <= t.max_attempts
                assert info.due_at * 1000 == t.due
                if t.status in "PY":
                    assert info.run_at is not None and info.run_at * 1000 == t.run_at

        @invariant()
        def counts_match_the_model(self) -> None:
            m = self.model
            ts = list(m.tasks.values())
            waiting = [t for t in ts if t.status in "PY"]
            stats = self.sched.stats()
            assert stats.due == sum(
                1 for t in waiting if t.run_at is not None and t.run_at <= m.now
            )
            assert stats.scheduled == len(waiting) - stats.due
            assert stats.in_flight == sum(t.status == "R" for t in ts)
            assert stats.retrying == sum(t.status == "Y" for t in ts)
            assert stats.done == sum(t.status in "DC" for t in ts)
            dead = {d.task_id for d in self.sched.dead_letters(limit=1000)}
            assert dead == {tid for tid, t in m.tasks.items() if t.status == "X"}

        def teardown(self) -> None:
            self._ids.stop()
            self.sched.close()

    return SchedulerMachine


def fake_client() -> redis.Redis:
    return fakeredis.FakeRedis(server=fakeredis.FakeServer())


MODEL_SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_model_on_fakeredis() -> None:
    run_state_machine_as_test(make_machine(fake_client), settings=MODEL_SETTINGS)


def test_model_on_real_redis(redis_server: RedisServer) -> None:
    machine = make_machine(lambda: redis.Redis.from_url(redis_server.url))
    run_state_machine_as_test(
        machine,
        settings=settings(MODEL_SETTINGS, max_examples=max(10, settings().max_examples // 4)),
    )


def shrunk_failure(
    machine: type[RuleBasedStateMachine], max_examples: int, steps: int
) -> tuple[str, list[str]]:
    """Run a machine that must fail; return the error and the rule steps of the shrunk example."""
    with pytest.raises(AssertionError) as caught:
        run_state_machine_as_test(
            machine,
            settings=settings(
                MODEL_SETTINGS,
                max_examples=max_examples,
                stateful_step_count=steps,
                database=None,
                report_multiple_bugs=False,
            ),
        )
    notes: list[Any] = getattr(caught.value, "__notes__", [])
    rules = (
        "schedule",
        "schedule_without_id",
        "cancel",
        "reschedule",
        "retry_dead",
        "advance",
        "expire_a_lease",
        "claim",
        "ack",
        "fail",
        "renew",
        "release",
        "crash",
    )
    prefixes = tuple(f"state.{r}(" for r in rules)
    lines = "\n".join(notes).splitlines()
    steps = [n.strip() for n in lines if n.strip().startswith(prefixes)]
    return str(caught.value), [s.replace("schedule_without_id", "schedule") for s in steps]


# Slow (18-50 s of search): CI proves an early claim is caught through the testbed instead
# (the claim_early mutant of python -m duetime.chaos mutants, in .ci/run).
@pytest.mark.slow
def test_claim_that_takes_tasks_early_is_caught_and_shrunk() -> None:
    error, steps = shrunk_failure(make_machine(fake_client, "claim_early"), 500, 12)
    assert "claim differs from the model" in error
    # Shrunk to a few steps around the two that matter: schedule a task for later, claim it.
    names = [step.split("(")[0] for step in steps]
    assert len(steps) <= 5, steps
    assert "state.schedule" in names and names[-1] == "state.claim", steps


@pytest.mark.parametrize("variant", [None, "token_from_attempt"])
def test_the_model_replays_retry_dead_under_a_paused_holder(variant: str | None) -> None:
    """The issue's sequence as the machine's own steps, given rather than searched for
    (Hypothesis seldom draws these five in a row): the model must refuse a token issued
    twice, and with the real scripts the paused holder's ack must be refused."""
    machine = make_machine(fake_client, variant)()
    try:
        machine.schedule("task-a", 0, 1)
        machine.claim(0, 1)  # worker 0 pauses
        machine.expire_a_lease()
        machine.claim(1, 1)  # buries it: out of attempts
        machine.retry_dead("task-a")
        if variant is not None:
            with pytest.raises(AssertionError, match="a token was issued twice"):
                machine.claim(2, 1)
            return
        machine.claim(2, 1)
        machine.ack(0)  # worker 0 resumes; the model expects a refusal
        machine.state_matches_the_model()
        machine.ack(0)  # worker 2's ack
        machine.state_matches_the_model()
        assert machine.model.tasks["task-a"].status == "D"
    finally:
        machine.teardown()


@pytest.mark.slow
def test_unfenced_ack_is_caught_and_shrunk() -> None:
    error, steps = shrunk_failure(make_machine(fake_client, "ack_unfenced"), 5000, 40)
    assert "a stale holder acked" in error
    # Shrunk to: schedule, claim, let the lease expire, claim again, ack as the stale holder.
    names = [s.split("(")[0] for s in steps]
    # (the shrinker may leave a no-op step or two when the machine is busy)
    assert len(steps) <= 10, steps
    assert names[-1] == "state.ack" and names.count("state.claim") >= 2, steps

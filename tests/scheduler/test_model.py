"""A stateful model test: the scheduler's Redis state against a simple in-memory model.

Hypothesis drives the public API and the lease operations (schedule, cancel,
reschedule, claim, ack, fail, renew, release, crashes, dead-letter retries, moving
the clock) and after every step checks the whole state against the model: nothing
lost, nothing early, attempts within bounds, no fencing token issued twice for a
task, stale lease holders change nothing, dead letters are exactly the tasks that
ran out of attempts. It runs on fakeredis for many examples and on a real
redis-server for fewer. Three rules take a whole path to a state where a bug shows
in one step (a stale holder acting after another worker took its task over, a task
failing or expiring until it is out of attempts, a claim at a due time's edge), so
every broken script of ``broken_lua.py`` is caught in every run of the default
profile; two of them are also shrunk to a short sequence (slow).
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
from hypothesis import HealthCheck, Phase, settings
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
from duetime.client import _info as task_info
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
                for script, text in broken(variant):
                    self.sched.scripts.replace(script, text)
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
            self._ack(self._pick(index))

        def _ack(self, lease_: tuple[str, int]) -> None:
            expected = self.model.holds(*lease_)
            assert worker_protocol.ack(self.sched, [lease_]) == [expected], "a stale holder acked"
            if expected:
                t = self.model.tasks[lease_[0]]
                t.status, t.lease_until = "D", None

        @precondition(lambda self: self._holding())
        @rule(index=st.integers(0, 8), delay=st.one_of(st.none(), st.integers(0, 3000)))
        def fail(self, index: int, delay: int | None) -> None:
            self._fail(self._pick(index), delay)

        def _fail(self, lease_: tuple[str, int], delay: int | None) -> None:
            outcome = worker_protocol.fail(self.sched, *lease_, "boom", delay)
            if not self.model.holds(*lease_):
                assert outcome is Result.REFUSED, "a stale holder failed the task"
                return
            t = self.model.tasks[lease_[0]]
            t.lease_until = None
            if delay is not None and t.attempt < t.max_attempts:
                assert outcome is Result.OK, outcome
                t.status, t.run_at = "Y", self.model.now + delay
            else:
                assert outcome is Result.BURIED, f"{outcome}: retried past max_attempts"
                t.status = "X"

        @precondition(lambda self: self._holding())
        @rule(worker=st.integers(0, 2))
        def renew(self, worker: int) -> None:
            held = self.held[worker]
            lost = worker_protocol.renew(self.sched, held, LEASE_MS)
            stale = {(tid, tok) for tid, tok in held if not self.model.holds(tid, tok)}
            assert lost == stale, "a stale holder renewed" if stale - lost else "renew lost a lease"
            for tid, tok in held:
                if self.model.holds(tid, tok):
                    self.model.tasks[tid].lease_until = self.model.now + LEASE_MS
            self.held[worker] = [lease_ for lease_ in held if lease_ not in lost]

        @precondition(lambda self: self._holding())
        @rule(worker=st.integers(0, 2))
        def release(self, worker: int) -> None:
            held = self.held.pop(worker)
            self.held[worker] = []
            expected = [self.model.holds(tid, tok) for tid, tok in held]
            got = worker_protocol.release(self.sched, held)
            stale = any(g and not e for g, e in zip(got, expected, strict=True))
            assert got == expected, "a stale holder released" if stale else got
            for (tid, _), held_it in zip(held, expected, strict=True):
                if held_it:
                    t = self.model.tasks[tid]
                    t.status, t.run_at, t.lease_until = "P", self.model.now, None
                    t.attempt = max(0, t.attempt - 1)  # a release is not a failure

        @precondition(lambda self: self._holding())
        @rule(worker=st.integers(0, 2))
        def crash(self, worker: int) -> None:
            self.held[worker] = []  # its leases just expire

        # -- the states where fencing and max_attempts matter, reached on purpose --
        # The rules above reach them only by luck (a claim, the lease running out, another
        # claim, then the old holder acting); these take the whole path in one step, each
        # step checked against the model, so the default profile's few examples test them.

        def _new_task(self, max_attempts: int, delay: int = 0) -> str:
            due = self.model.now + delay
            tid = self.sched.schedule_task(due / 1000, None, max_attempts=max_attempts)
            self.model.tasks[tid] = ModelTask("P", 0, max_attempts, due, run_at=due)
            return tid

        def _claim_all(self, worker: int) -> tuple[str, int] | None:
            """Claim everything that is due or expired; the lease ``worker`` got last, if any."""
            before = len(self.held[worker])
            self.claim(worker, len(self.model.tasks))
            return self.held[worker][-1] if len(self.held[worker]) > before else None

        def _lease_of(self, worker: int, tid: str) -> tuple[str, int]:
            (found,) = [lease_ for lease_ in self.held[worker] if lease_[0] == tid]
            return found

        @rule(
            stale=st.integers(0, 2),
            other=st.integers(1, 2),
            acts=st.permutations(["renew", "release", "retry", "fail", "ack"]),
            max_attempts=st.integers(2, 3),
        )
        def stale_holder_acts(
            self, stale: int, other: int, acts: list[str], max_attempts: int
        ) -> None:
            """A holder stalls past its lease, another worker claims the task, then the
            stale holder tries every lease operation, in a drawn order: Redis must refuse
            each one (so nothing changes, and it can try the next)."""
            tid = self._new_task(max_attempts)
            self._claim_all(stale)
            old = self._lease_of(stale, tid)
            self.held[stale].remove(old)
            self.model.now = self.model.tasks[tid].lease_until or self.model.now
            taker = (stale + other) % 3
            self._claim_all(taker)
            assert self.model.holds(*self._lease_of(taker, tid))
            for act in acts:
                if act == "renew":
                    lost = worker_protocol.renew(self.sched, [old], LEASE_MS)
                    assert lost == {old}, "a stale holder renewed"
                elif act == "release":
                    released = worker_protocol.release(self.sched, [old])
                    assert released == [False], "a stale holder released"
                elif act == "ack":
                    self._ack(old)
                else:
                    self._fail(old, 0 if act == "retry" else None)

        def _run_until_dead(self, worker: int, tid: str, ending: str) -> None:
            task = self.model.tasks[tid]
            self._claim_all(worker)
            # The model ends the loop: each claim checked against it either runs the task
            # again or buries it, once it is out of attempts.
            while task.status == "R":
                lease_ = self._lease_of(worker, tid)
                self.held[worker].remove(lease_)
                if ending == "fail":
                    self._fail(lease_, 0)
                else:  # its holder died
                    self.model.now = task.lease_until or self.model.now
                if task.status != "X":
                    self._claim_all(worker)
            assert task.status == "X"
            assert task.attempt == task.max_attempts

        @rule(worker=st.integers(0, 2), max_attempts=st.integers(1, 3))
        def run_out_of_attempts(self, worker: int, max_attempts: int) -> None:
            """Two tasks run until they are out of attempts, every run of one failing with a
            retry asked for, every lease of the other expiring: each must be dead-lettered
            after exactly max_attempts runs. The first is purged (so the machine's state
            stays small); the other is retried from the dead letters and claimed again,
            with a token never issued before."""
            tids = [self._new_task(max_attempts) for _ in range(2)]
            self._run_until_dead(worker, tids[0], "fail")
            assert self.sched.purge_dead(tids[0]) == 1
            del self.model.tasks[tids[0]]
            self._run_until_dead(worker, tids[1], "expire")
            self.retry_dead(tids[1])
            self._claim_all(worker)

        @rule(delay=st.integers(1, 1500))
        def claim_at_the_due_time(self, delay: int) -> None:
            """A task due now and one due ``delay`` ms later: a claim takes the first only."""
            due_now = self._new_task(3)
            later = self._new_task(3, delay)
            self._claim_all(0)
            assert self.model.tasks[due_now].status == "R"
            assert self.model.tasks[later].status == "P"

        # -- what must always hold -------------------------------------------

        @invariant()
        def state_matches_the_model(self) -> None:
            m = self.model
            # One read of every task, as get() reads one: a call per task would make this
            # check most of the test's time.
            rows = self.sched._peek(list(m.tasks))
            for (tid, t), (raw, error, run_at) in zip(m.tasks.items(), rows, strict=True):
                assert raw is not None, f"{tid} was lost"
                info = task_info(tid, raw, error, run_at)
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
        "stale_holder_acts",
        "run_out_of_attempts",
        "claim_at_the_due_time",
    )
    prefixes = tuple(f"state.{r}(" for r in rules)
    lines = "\n".join(notes).splitlines()
    steps = [n.strip() for n in lines if n.strip().startswith(prefixes)]
    return str(caught.value), [s.replace("schedule_without_id", "schedule") for s in steps]


# Slow (4-11 s of search and shrinking each, measured): the default run proves every
# broken script is caught, without shrinking, in the parametrized test below.
@pytest.mark.slow
def test_claim_that_takes_tasks_early_is_caught_and_shrunk() -> None:
    error, steps = shrunk_failure(make_machine(fake_client, "claim_early"), 500, 12)
    assert "claim differs from the model" in error
    # Shrunk to a few steps around the two that matter: schedule a task for later, claim it.
    names = [step.split("(")[0] for step in steps]
    assert len(steps) <= 5, steps
    assert names[-1] in ("state.claim", "state.claim_at_the_due_time"), steps


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
    # Shrunk to the one rule that takes the whole path (schedule, claim, let the lease
    # expire, claim again, ack as the stale holder), or to those steps one by one.
    names = [s.split("(")[0] for s in steps]
    # (the shrinker may leave a no-op step or two when the machine is busy)
    assert len(steps) <= 10, steps
    assert names[-1] in ("state.ack", "state.stale_holder_acts"), steps


@pytest.mark.parametrize(
    ("variant", "error"),
    [
        ("claim_early", "claim differs from the model"),
        ("ack_unfenced", "a stale holder acked"),
        ("fence_ignores_token", "a stale holder (acked|failed the task|renewed|released)"),
        ("token_from_attempt", "a token was issued twice"),
        ("fail_ignores_max_attempts", "retried past max_attempts"),
        ("claim_ignores_max_attempts", "claim differs from the model"),
    ],
)
def test_every_run_of_the_default_profile_catches_a_broken_script(variant: str, error: str) -> None:
    """The default profile's examples, searched afresh (no example database) and not
    shrunk (the slow tests above shrink), must find each broken script."""
    with pytest.raises(AssertionError, match=error):
        run_state_machine_as_test(
            make_machine(fake_client, variant),
            settings=settings(
                MODEL_SETTINGS,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                report_multiple_bugs=False,
            ),
        )

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from duetime.chaos.client.workload import CronSpec, TaskKind, Workload


def test_same_seed_same_plan_other_seed_other_plan() -> None:
    w = Workload(tasks=50, duration=10.0)
    assert w.plan(random.Random(7)) == w.plan(random.Random(7))
    assert w.plan(random.Random(7)) != w.plan(random.Random(8))


def test_plan_respects_the_workload_shape() -> None:
    w = Workload(tasks=200, duration=10.0, lead=(0.5, 2.0), work=(0.1, 0.2), producers=3)
    plan = w.plan(random.Random(1))
    assert len({p.task_id for p in plan}) == 200
    assert [p.send_at for p in plan] == sorted(p.send_at for p in plan)
    for p in plan:
        assert 0 <= p.send_at <= p.due_in <= w.span
        assert p.due_in - p.send_at <= 2.0 + 1e-9
        assert 0.1 <= p.work_s <= 0.2
    assert {p.producer for p in plan} == {0, 1, 2}


def test_quick_scales_tasks_and_duration() -> None:
    w = Workload(tasks=100, duration=20.0).scaled(0.5)
    assert (w.tasks, w.duration) == (50, 10.0)


def test_bad_shapes_are_rejected() -> None:
    with pytest.raises(ValueError):
        Workload(lead=(3.0, 1.0))
    with pytest.raises(ValueError):
        CronSpec("c", "* * * * *")
    with pytest.raises(ValueError):
        CronSpec("c", "* * * * * *", misfire="sometimes")


def test_long_and_doomed_tasks_are_drawn_only_when_asked_for() -> None:
    base = Workload(tasks=50, duration=5.0)
    same = Workload(tasks=50, duration=5.0, long_work=(6.0, 7.0), doomed_max_attempts=3)
    assert base.plan(random.Random(3)) == same.plan(random.Random(3))


def test_long_tasks_outlive_a_pause_and_doomed_ones_fail_every_attempt() -> None:
    w = Workload(
        tasks=40, long_fraction=1.0, long_work=(6.0, 7.0), doomed_fraction=1.0,
        doomed_max_attempts=2,
    )  # fmt: skip
    for task in w.plan(random.Random(1)):
        assert 6.0 <= task.work_s <= 7.0
        assert task.max_attempts == task.fail_attempts == 2


def test_task_kinds_give_each_task_a_type_and_payload_of_the_application() -> None:
    kinds = (
        TaskKind("send_email", ({"user": 1}, {"user": 2})),
        TaskKind("resize", ({"ms": 5},), weight=3.0),
    )
    w = Workload(tasks=400, duration=10.0, kinds=kinds, doomed_fraction=0.05)
    plan = w.plan(random.Random(4))
    assert plan == w.plan(random.Random(4))
    by_type = {t: [p for p in plan if p.task_type == t] for t in ("send_email", "resize")}
    assert sum(map(len, by_type.values())) == 400
    # weight 3 against 1: about three quarters are resize
    assert 0.65 < len(by_type["resize"]) / 400 < 0.85
    assert {str(p.payload) for p in by_type["send_email"]} == {"{'user': 1}", "{'user': 2}"}
    assert any(p.fail_attempts for p in plan)  # injected failures still apply
    # Without kinds, the testbed's own tasks, and the same plan as before kinds existed.
    plain = Workload(tasks=50, duration=10.0)
    assert all(p.task_type is None and p.payload is None for p in plain.plan(random.Random(4)))


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (lambda: TaskKind(""), "needs a task_type"),
        (lambda: TaskKind("a", ()), "at least one payload"),
        (lambda: TaskKind("a", weight=0), "weight must be > 0"),
        (lambda: TaskKind("a", ({"when": object()},)), "payloads must be JSON"),
        (lambda: Workload(kinds=(TaskKind("a"), TaskKind("a"))), "each task kind once"),
    ],
)
def test_bad_task_kinds_are_refused(kind: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        kind()

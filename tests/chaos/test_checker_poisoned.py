"""poisoned: each poisoned record set aside with its reason, none ran, nothing else stopped."""

from __future__ import annotations

import pytest
from history_builder import HistoryBuilder

from duetime.chaos.checker import poisoned

BAD_JSON, BAD_HEADER = "poison-1-invalid_json", "poison-1-unparseable"


def poisoning(hb: HistoryBuilder) -> HistoryBuilder:
    """Two poisoned tasks and a poisoned spec, among a good task and a good schedule."""
    tasks = [
        {"task_id": BAD_JSON, "kind": "invalid_json"},
        {"task_id": BAD_HEADER, "kind": "unparseable"},
    ]
    hb.fault("poison_records", 1.0, 1.2, ["redis"], tasks=tasks, cron=["poison-1-cron"])
    return hb.schedule("good", due=1.0).run("good", 1.1, 1.2)


def set_aside(hb: HistoryBuilder, *task_ids: str) -> HistoryBuilder:
    for tid in task_ids:
        action = "fail" if tid == BAD_JSON else "quarantine"
        hb.lease(action, tid, 0, sent=1.3, answered=1.31, reason="unreadable record")
    return hb


def test_every_poisoned_task_set_aside_with_a_reason_passes(hb: HistoryBuilder) -> None:
    result = poisoned.check(set_aside(poisoning(hb), BAD_JSON, BAD_HEADER).build())
    assert (result.verdict, result.details["set_aside_with_reason"]) == ("valid", 2)


def test_a_poisoned_task_never_set_aside_fails(hb: HistoryBuilder) -> None:
    result = poisoned.check(set_aside(poisoning(hb), BAD_JSON).build())
    assert (result.verdict, result.details["not_set_aside_ids"]) == ("invalid", [BAD_HEADER])


def test_a_fail_without_a_reason_is_not_a_quarantine(hb: HistoryBuilder) -> None:
    hb = set_aside(poisoning(hb), BAD_JSON).lease("fail", BAD_HEADER, 3, sent=1.3, answered=1.31)
    assert poisoned.check(hb.build()).verdict == "invalid"


def test_a_poisoned_task_that_reached_a_handler_fails(hb: HistoryBuilder) -> None:
    hb = set_aside(poisoning(hb), BAD_JSON, BAD_HEADER).run(BAD_JSON, 1.4, None)
    result = poisoned.check(hb.build())
    assert (result.verdict, result.details["ran_ids"]) == ("invalid", [BAD_JSON])


def test_a_firing_of_a_poisoned_spec_fails(hb: HistoryBuilder) -> None:
    hb = set_aside(poisoning(hb), BAD_JSON, BAD_HEADER).cron_fire("poison-1-cron", 2.0)
    assert poisoned.check(hb.build()).verdict == "invalid"


@pytest.mark.parametrize("role", ["worker", "cron"])
def test_a_process_that_died_after_the_poisoning_fails(hb: HistoryBuilder, role: str) -> None:
    hb = set_aside(poisoning(hb), BAD_JSON, BAD_HEADER).process_exit(f"{role}-0", role, 1.5)
    assert poisoned.check(hb.build()).verdict == "invalid"


def test_a_process_killed_by_a_nemesis_is_not_a_death(hb: HistoryBuilder) -> None:
    hb = set_aside(poisoning(hb), BAD_JSON, BAD_HEADER)
    hb.process_exit("worker-0", "worker", 1.5, how="killed")
    assert poisoned.check(hb.build()).verdict == "valid"


def test_a_run_that_poisoned_nothing_is_unknown(hb: HistoryBuilder) -> None:
    assert poisoned.check(hb.schedule("good", due=1.0).run("good", 1.1, 1.2).build()).verdict == (
        "unknown"
    )

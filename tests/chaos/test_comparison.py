from __future__ import annotations

from typing import Any

from duetime.chaos.report.comparison import causes_of, render


def results(strategy: str, scenario: str = "kill_workers", **details: Any) -> dict[str, Any]:
    lost = {"acknowledged": 10, "lost": 0, **details.get("lost", {})}
    dup = {"duplicate_executions": 0, **details.get("dup", {})}
    return {
        "scenario": scenario,
        "config": "aof=always",
        "strategy": strategy,
        "status": "completed",
        "run_id": f"r-{strategy}",
        "checkers": {
            "lost": {"details": lost},
            "duplicated": {"details": dup},
            "early": {"details": {"early": details.get("early", 0)}},
            "lateness": {"details": {"p99_s": 0.01}},
            "cron": {"details": {"schedules": 0}},
        },
    }


def test_causes_split_losses_and_repeats_by_what_the_history_shows() -> None:
    r = results(
        "poll-remove-run",
        lost={"lost": 3, "lost_started_never_finished": 2, "lost_never_started": 1},
        dup={"duplicate_executions": 5, "overlapping_duplicates": 2},
    )
    assert causes_of(r) == {
        "lost_started_never_finished": 2,
        "lost_never_started": 1,
        "duplicate_overlapping": 2,
        "duplicate_after": 3,
    }


def test_report_has_one_column_per_strategy_and_explains_each_cause() -> None:
    text = render(
        [
            results("reference"),
            results(
                "poll-remove-run",
                lost={"lost": 2, "lost_started_never_finished": 2},
            ),
        ],
        "python -m duetime.chaos matrix scenarios/ --strategy all",
    )
    assert "| scenario | config | reference | poll-remove-run |" in text
    assert "| kill_workers | aof=always | 0/10 lost, 0 dup, p99 0.010 s | 2/10 lost" in text
    assert "lost: its only runs died mid-handler: 2** (kill_workers aof=always: 2)" in text
    assert "### reference" in text and "Nothing lost, repeated or early in any run." in text


def test_a_cause_without_an_explanation_is_flagged_not_hidden() -> None:
    text = render([results("no-such-design", early=4)], "cmd")
    assert "runs that started before their due time: 4" in text
    assert "investigate" in text


def test_lost_tasks_still_in_redis_at_the_end_are_counted_as_late() -> None:
    r = results(
        "client-retry",
        lost={"lost": 5, "lost_never_started": 3, "lost_started_never_finished": 2},
    )
    r["stats_at_end"] = {"pending": 4}
    assert causes_of(r) == {"lost_still_pending": 4, "lost_started_never_finished": 1}
    text = render([r], "cmd")
    assert "5/10 lost (4 still pending at the end)" in text
    assert "Late, not lost" in text

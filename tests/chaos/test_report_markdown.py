"""report.md of one run: words, not Python reprs; long id lists say how much is shown;
a skipped run says why and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from duetime.chaos.history.ops import Op
from duetime.chaos.report.markdown import SHOWN_IDS, render, write_report


def completed(**extra: Any) -> dict[str, Any]:
    lost_ids = [f"t-{i:03d}" for i in range(82)]
    return {
        "scenario": "kill_redis",
        "config": "aof=off",
        "seed": 1,
        "description": "Redis is killed.",
        "command": "python -m duetime.chaos run scenarios/kill_redis.py --config aof=off",
        "status": "completed",
        "verdict": "passed",
        "duration_s": 9.5,
        "redis": {"version": "7.0.15", "binary": "redis-server"},
        "expectations": [],
        "checkers": {
            "lost": {
                "verdict": "invalid",
                "summary": "82 acknowledged tasks lost",
                "details": {"lost": 82, "lost_ids": lost_ids},
            }
        },
        "nemeses": {"injected": {"kill_redis": 3}, "errors": [], "heal_failures": []},
        "stats_at_end": {"pending": 0, "running": 0},
        "run_id": "r",
        "started_at": 0.0,
        **extra,
    }


def test_injected_faults_read_as_words_not_a_python_dict() -> None:
    text = render(completed(), None)
    assert "Injected: kill_redis x3" in text
    assert "{'" not in text


def test_a_cut_id_list_says_how_many_are_shown() -> None:
    text = render(completed(), None)
    assert f"`lost_ids`: {SHOWN_IDS} of 82 shown (all in results.json)." in text
    assert '"t-049"' in text and '"t-050"' not in text


def test_scheduler_stats_read_as_words() -> None:
    assert "Left in the scheduler after the drain: pending 0, running 0." in render(
        completed(), None
    )
    unknown = render(completed(stats_at_end=None), None)
    assert "`None`" not in unknown and "not known" in unknown


def test_a_skipped_run_says_why_once_and_nothing_else(tmp_path: Path) -> None:
    reason = "no fault of this scenario can be injected here (power_loss needs FUSE)"
    results = completed(
        status="skipped",
        verdict="skipped",
        skip_reason=reason,
        checkers={},
        stats_at_end=None,
        nemeses={"injected": {}, "errors": [], "heal_failures": []},
    )
    skipped = Op("info", "runner", 1.0, "nemesis-skipped", {"fault": "power_loss"})
    report = write_report(tmp_path, results, [skipped])
    text = report.read_text()
    assert text.count(reason) == 1
    for absent in ("## Expectations", "## Figures", "## Checkers", "timeline", "None", "Injected"):
        assert absent not in text
    assert list(tmp_path.iterdir()) == [report]

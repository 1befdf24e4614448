"""The ratio table: values, ratios duetime / peer, and what is left out."""

from __future__ import annotations

from typing import Any

from benchmarks import table


def system(label: str, single: float, p99: float, early: int) -> dict[str, Any]:
    return {
        "label": label,
        "enqueue": {"single_per_s": single},
        "precision": {"default": {"p99_ms": p99, "early": early}},
    }


def test_ratio_is_duetime_over_peer_and_counts_get_none() -> None:
    md = table.markdown(
        {"arq": system("arq 1", 2_000, 500.0, 3), "duetime": system("duetime 0", 8_000, 2.0, 0)}
    )
    lines = md.splitlines()
    assert lines[0] == "| measure | unit | duetime 0 | arq 1 |"
    enqueue = next(line for line in lines if line.startswith("| enqueue, one call"))
    assert enqueue.endswith("| 8,000 | 2,000 (4.0x) |")
    p99 = next(line for line in lines if line.startswith("| lateness p99, 1 process, default"))
    assert p99.endswith("| 2.00 | 500 (0.004x) |")
    early = next(line for line in lines if line.startswith("| early, 1 process, default"))
    assert early.endswith("| 0 | 3 |")


def test_rows_nobody_measured_are_left_out() -> None:
    md = table.markdown({"duetime": system("duetime", 1.0, 1.0, 0)})
    assert "batch API" not in md
    assert "memory" not in md


def test_missing_values_show_a_dash_and_no_ratio() -> None:
    peer = {"label": "rq", "enqueue": {"single_per_s": None}}
    md = table.markdown({"duetime": system("duetime", 100, 1.0, 0), "rq": peer})
    enqueue = next(line for line in md.splitlines() if line.startswith("| enqueue, one call"))
    assert enqueue.endswith("| 100 | - |")


def test_scale_rows_pick_the_backlog_level() -> None:
    r = {
        "label": "duetime",
        "scale": [
            {"pending": 10_000, "drain": {"per_s": 30_000.0}},
            {"pending": 1_000_000, "drain": {"per_s": 29_000.0}},
        ],
    }
    md = table.markdown({"duetime": r}, [10_000, 1_000_000])
    assert "| drain with 10,000 pending (tuned, 1 process) | tasks/s | 30,000 |" in md
    assert "| drain with 1,000,000 pending (tuned, 1 process) | tasks/s | 29,000 |" in md


def test_ratio_formatting() -> None:
    assert table.fmt_ratio(123.4) == "123x"
    assert table.fmt_ratio(2.345) == "2.3x"
    assert table.fmt_ratio(0.01234) == "0.012x"
    assert table.ratio(1.0, 0.0) is None
    assert table.ratio(None, 1.0) is None
    assert table.ratio(2.0, -250.0) is None  # a design that runs tasks early

from __future__ import annotations

from pathlib import Path

import pytest

from duetime.chaos.history.ops import HistoryError, Op, parse_lines, read_history, write_history


def test_jsonl_round_trip_keeps_every_field(tmp_path: Path) -> None:
    ops = [
        Op("invoke", "producer-0", 1.25, "schedule", {"task_id": "t-1", "due_at": 3.5}),
        Op("info", "producer-0", 1.5, "schedule", {"task_id": "t-1", "error": "timeout"}),
        Op("ok", "worker-1", 4.0, "execute", {"nested": {"a": [1, 2]}}),
        Op("fail", "worker-1", 5.0, "execute"),
    ]
    path = tmp_path / "history.jsonl"
    write_history(path, ops)
    assert read_history(path) == ops
    assert len(path.read_text().splitlines()) == len(ops)


def test_unknown_op_type_is_rejected() -> None:
    with pytest.raises(HistoryError):
        Op("maybe", "p", 0.0, "schedule")  # type: ignore[arg-type]


def test_malformed_line_is_an_error() -> None:
    with pytest.raises(HistoryError):
        list(parse_lines(['{"type": "ok"}', '{"type": "ok", "process": "p"}']))


def test_a_torn_last_line_can_be_tolerated() -> None:
    good = Op("ok", "p", 1.0, "execute").to_json()
    ops = list(parse_lines([good, good[:10]], tolerate_torn_tail=True))
    assert len(ops) == 1
    with pytest.raises(HistoryError):
        list(parse_lines([good, good[:10]]))

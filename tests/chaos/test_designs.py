from __future__ import annotations

import pytest

from duetime.chaos.designs import (
    BATCH_DISPATCHER,
    DESIGNS,
    REFERENCE,
    WATCH_DISPATCHER,
    UnknownDesign,
    parse_strategies,
)


def test_all_is_every_design_with_the_reference_first() -> None:
    designs = parse_strategies("all")
    assert designs[0] is REFERENCE
    assert [d.name for d in designs] == list(DESIGNS)
    assert len(designs) == 6


def test_a_list_keeps_its_order_and_drops_repeats() -> None:
    assert parse_strategies("watch-dispatcher, reference,watch-dispatcher") == [
        WATCH_DISPATCHER,
        REFERENCE,
    ]


@pytest.mark.parametrize("text", ["", "nope", "reference,nope", "all,reference"])
def test_unknown_names_are_refused_with_the_known_ones(text: str) -> None:
    with pytest.raises(UnknownDesign, match="poll-remove-run"):
        parse_strategies(text)


def test_dispatchers_run_where_the_design_says() -> None:
    assert WATCH_DISPATCHER.worker_args(0) == WATCH_DISPATCHER.worker_args(2) == ("--dispatch",)
    assert BATCH_DISPATCHER.worker_args(0) == ("--dispatch",)
    assert BATCH_DISPATCHER.worker_args(1) == ()
    assert REFERENCE.worker_args(0) == ()


def test_only_the_reference_is_judged() -> None:
    assert [d.name for d in DESIGNS.values() if d.judged] == ["reference"]

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
    assert len(designs) == 9  # six designs (seed 002 included), two @source variants


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
    assert BATCH_DISPATCHER.worker_args(0) == BATCH_DISPATCHER.worker_args(1) == ()
    assert BATCH_DISPATCHER.dispatcher == "process"
    assert REFERENCE.worker_args(0) == ()


def test_variants_run_the_same_module_with_their_params_and_all_lists_them() -> None:
    variant = DESIGNS["client-retry@source"]
    assert variant.module == DESIGNS["client-retry"].module
    assert variant.worker_args(0) == (
        "--param",
        "retry_timeout_s=5",
        "--param",
        "cron_retry_timeout_s=10",
    )
    assert {"poll-remove-run@source", "client-retry@source", "priority-score"} <= {
        d.name for d in parse_strategies("all")
    }


def test_a_parameter_the_design_does_not_know_is_a_usage_error() -> None:
    from duetime.chaos.designs import client_retry

    with pytest.raises(SystemExit) as exit_info:
        client_retry.main(["worker", "--url", "redis://x", "--namespace", "n", "--param", "x=1"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        client_retry.main(
            ["worker", "--url", "redis://x", "--namespace", "n", "--param", "retry_timeout_s=-1"]
        )
    assert exit_info.value.code == 2


def test_only_the_reference_is_judged() -> None:
    assert [d.name for d in DESIGNS.values() if d.judged] == ["reference"]


def test_a_variants_params_reach_the_producers_client() -> None:
    from duetime.chaos.designs import open_client
    from duetime.chaos.designs.client_retry import RETRY_TIMEOUT_S, ClientRetryClient

    ours = open_client(DESIGNS["client-retry"], "redis://127.0.0.1:1/0", "n")
    source = open_client(DESIGNS["client-retry@source"], "redis://127.0.0.1:1/0", "n")
    assert isinstance(ours, ClientRetryClient) and isinstance(source, ClientRetryClient)
    assert (ours.retry_timeout_s, source.retry_timeout_s) == (RETRY_TIMEOUT_S, 5.0)

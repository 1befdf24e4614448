"""The published designs in the benchmark: registry, driver set-up, dispatcher election,
what they get at scale, and their own section of the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks import report, table
from benchmarks.peers import design as design_driver
from benchmarks.runner import Options, chosen_systems, peer_levels
from benchmarks.sizes import FULL, QUICK
from benchmarks.systems import (
    DESIGN_ENV,
    DESIGN_SYSTEMS,
    QUICK_SYSTEMS,
    SYSTEMS,
    driver,
    is_design,
)
from duetime.chaos.designs import DESIGNS

# The benchmark measures each design once; its @source variants are the chaos comparison's.
PUBLISHED = [d.name for d in DESIGNS.values() if d.own_processes and d.variant_of is None]


def opts(quick: bool, systems: list[str] | None = None) -> Options:
    return Options(quick, systems, Path("/nonexistent"), "python -m benchmarks run")


def test_one_system_per_published_design_and_not_the_reference() -> None:
    assert [s.name for s in DESIGN_SYSTEMS] == PUBLISHED
    assert len(PUBLISHED) == 6 and "reference" not in SYSTEMS
    assert not any("@" in name for name in SYSTEMS)
    for name in PUBLISHED:
        s = SYSTEMS[name]
        assert s.design == name and is_design(name)
        assert s.env is None and s.batch_api is None
        assert s.driver_module == "design"
        assert "4" in s.settings["default"] and "32" in s.settings["tuned"]
        assert s.label == name
    assert not is_design("duetime") and not is_design("arq")
    assert SYSTEMS["duetime"].driver_module == "duetime"


def test_design_driver_runs_in_the_main_environment_with_the_design_named() -> None:
    d = driver(SYSTEMS["batch-dispatcher"], Path("/nonexistent"))
    assert d.prefix[1:] == ("-m", "benchmarks.peers.design")
    assert d.env[DESIGN_ENV] == "batch-dispatcher"
    # One command per process: the processes elect the dispatcher themselves.
    assert len(d.workers("redis://x", "default", 2, Path("/tmp/out"))) == 2
    assert DESIGN_ENV not in driver(SYSTEMS["duetime"], Path("/nonexistent")).env


def test_quick_leaves_the_designs_out_and_the_full_run_takes_them() -> None:
    chosen, skipped = chosen_systems(opts(True))
    assert chosen == list(QUICK_SYSTEMS)
    assert all(name in skipped for name in PUBLISHED)
    chosen, skipped = chosen_systems(opts(False))
    assert chosen[-6:] == PUBLISHED and not skipped


def test_systems_selects_designs_by_name_or_all_of_them() -> None:
    chosen, _ = chosen_systems(opts(True, ["client-retry", "duetime"]))
    assert chosen == ["duetime", "client-retry"]
    chosen, skipped = chosen_systems(opts(False, ["duetime", "designs"]))
    assert chosen == ["duetime", *PUBLISHED]
    assert "arq" in skipped


def test_dispatcher_election() -> None:
    tickets = iter([1, 2])
    assert design_driver.runs_dispatcher("first", lambda: next(tickets)) is True
    assert design_driver.runs_dispatcher("first", lambda: next(tickets)) is False
    # A dispatcher process of its own is elected among the benchmark's workers too.
    tickets = iter([1, 2])
    assert design_driver.runs_dispatcher("process", lambda: next(tickets)) is True
    assert design_driver.runs_dispatcher("process", lambda: next(tickets)) is False

    def never() -> int:
        raise AssertionError("only a 'first' or 'process' dispatcher is elected")

    assert design_driver.runs_dispatcher("every", never) is True
    assert design_driver.runs_dispatcher("none", never) is False


def test_election_key_is_per_measurement_under_the_benchmark_namespace() -> None:
    a = design_driver.election_key("003-batch-dispatcher-drain-default-2")
    b = design_driver.election_key("004-batch-dispatcher-drain-tuned-1")
    assert a != b and a.startswith("bench:")


def test_settings_concurrency() -> None:
    assert design_driver.concurrency("default") == 4
    assert design_driver.concurrency("tuned") == 32


def test_scale_is_skipped_with_a_reason_when_draining_would_exceed_the_budget() -> None:
    s = SYSTEMS["client-retry"]
    levels, note = peer_levels(s, FULL, 5_000.0, 30.0)  # 10,000 tasks at 30/s: 6 min
    assert levels == () and "draining 10,000" in note and "6 min" in note
    levels, note = peer_levels(s, QUICK, 5_000.0, float("nan"))
    assert levels == () and "too few" in note
    assert peer_levels(s, FULL, 20_000.0, 5_000.0) == ((10_000, 1_000_000), "")


def measured(label: str, single: float, design: str | None = None) -> dict[str, Any]:
    return {"label": label, "design": design, "enqueue": {"single_per_s": single}}


def test_designs_get_their_own_table_with_duetime_over_design() -> None:
    systems = {
        "duetime": measured("duetime 0.1.0", 8_000),
        "arq": measured("arq 0.28.0", 2_000),
        "poll-remove-run": measured("poll-remove-run", 4_000, "poll-remove-run"),
    }
    md = table.sections(systems)
    peers_part, designs_part = md.split(table.DESIGNS_HEADING)
    assert "| measure | unit | duetime 0.1.0 | arq 0.28.0 |" in peers_part
    assert "poll-remove-run" not in peers_part
    assert "| measure | unit | duetime 0.1.0 | poll-remove-run |" in designs_part
    enqueue = next(x for x in designs_part.splitlines() if x.startswith("| enqueue, one call"))
    assert enqueue.endswith("| 8,000 | 4,000 (2.0x) |")


def test_without_designs_the_table_is_as_before() -> None:
    systems = {"duetime": measured("duetime", 8_000), "arq": measured("arq", 2_000)}
    assert table.sections(systems) == table.markdown(systems)


def test_designs_alone_leave_out_the_peers_table() -> None:
    systems = {
        "duetime": measured("duetime", 8_000),
        "client-retry": measured("client-retry", 1_000, "client-retry"),
    }
    md = table.sections(systems)
    assert md.startswith(table.DESIGNS_HEADING)
    assert md.count("| measure | unit |") == 1


def test_report_shows_the_designs_section_and_goals_of_duetime_only() -> None:
    results: dict[str, Any] = {
        "command": "python -m benchmarks run",
        "duration_s": 60.0,
        "when": "now",
        "machine": {
            "summary": "m",
            "load_before": [0.1],
            "load_after": [0.2],
            "load_max": 0.3,
            "busy": False,
        },
        "goals": [],
        "ceiling": {},
        "ceiling_fraction": {},
        "methodology": "",
        "sizes": {},
        "systems": {
            "duetime": {**measured("duetime", 8_000), "status": "ok", "settings": {}},
            "arq": {**measured("arq", 2_000), "status": "ok", "settings": {}},
            "idempotency-keys": {
                **measured("idempotency-keys", 3_000, "idempotency-keys"),
                "status": "ok",
                "settings": {"default": "concurrency 4"},
                "notes": ["design: run, then remove"],
            },
        },
    }
    md = report.markdown(results)
    assert table.DESIGNS_HEADING in md
    assert "| idempotency-keys (published design) | ok |" in md
    assert md.index(table.DESIGNS_HEADING) < md.index("## duetime's goals")


@pytest.mark.parametrize("name", PUBLISHED)
def test_design_modules_are_importable(name: str) -> None:
    import importlib

    module = importlib.import_module(DESIGNS[name].module)
    assert callable(module.client) and callable(module.run_worker)

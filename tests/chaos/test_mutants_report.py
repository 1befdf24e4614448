"""What a run's results say to the mutant suite, and the table it writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from duetime.chaos.checker.expectations import Expect, Outcome
from duetime.chaos.mutants.catalogue import CATALOGUE, CRASHED, UNTESTED
from duetime.chaos.mutants.report import headline, markdown, write_report
from duetime.chaos.mutants.run import RunRecord, Signal, signals_of
from duetime.chaos.mutants.suite import MutantOutcome, baseline_plan


def results(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "status": "completed",
        "error": "",
        "expectations": [
            Outcome(Expect("early", "valid", "never early"), "invalid", "3 early").to_dict(),
            Outcome(Expect("lost", "valid", "nothing lost"), "valid", "none lost").to_dict(),
        ],
        "nemeses": {"configured": ["kill_worker"], "skipped": {}, "injected": {"kill_worker": 1}},
    }
    return {**base, **overrides}


def test_a_checker_whose_expectation_failed_is_a_signal() -> None:
    assert signals_of(results()) == [Signal("early", "3 early")]


def test_a_crash_and_a_fault_never_injected_are_signals() -> None:
    crashed = results(
        status="crashed", error="Traceback\nRedisStartError: appendfsync", expectations=[]
    )
    assert signals_of(crashed)[0] == Signal(CRASHED, "RedisStartError: appendfsync")
    idle = results(nemeses={"configured": ["kill_worker"], "skipped": {}, "injected": {}})
    assert Signal(UNTESTED, "nemesis kill_worker injected no fault") in signals_of(idle)


def record(verdict: str, *signals: Signal, scenario: str = "kill_workers") -> RunRecord:
    return RunRecord(scenario, 1, (), verdict, tuple(s.summary for s in signals), signals)


def test_a_mutant_counts_as_caught_only_by_the_checker_the_catalogue_names() -> None:
    claim_early = next(m for m in CATALOGUE if m.name == "claim_early")
    assert MutantOutcome(claim_early, record("failed", Signal("early", "3 early"))).caught
    assert not MutantOutcome(claim_early, record("failed", Signal("lost", "1 lost"))).caught
    assert not MutantOutcome(claim_early, record("passed")).caught


def test_the_baseline_runs_each_scenario_the_mutants_use_for_seeds_one_to_n() -> None:
    plan = baseline_plan(CATALOGUE[:3], 2)
    scenarios = sorted({m.scenario for m in CATALOGUE[:3]})
    assert plan == [(s, seed) for s in scenarios for seed in (1, 2)]
    assert baseline_plan(CATALOGUE, 0) == []


def test_the_report_gives_the_headline_the_catcher_and_its_figure(tmp_path: Path) -> None:
    claim_early = next(m for m in CATALOGUE if m.name == "claim_early")
    outcomes = [MutantOutcome(claim_early, record("failed", Signal("early", "3 early")))]
    baseline = [record("passed"), record("unknown", Signal(UNTESTED, "no fault"))]
    assert headline(outcomes, baseline).startswith(
        "1 of 1 mutants caught; unmodified code: 1 of 2 baseline runs passed"
    )
    text = markdown(outcomes, baseline, "python -m duetime.chaos mutants")
    assert "| `claim_early` |" in text and "| caught | early | 3 early |" in text
    assert "| `kill_workers --quick --seed 1` | unknown | no fault |" in text
    md = write_report(tmp_path, outcomes, baseline, "cmd")
    assert md.name == "mutants.md" and (tmp_path / "mutants.json").is_file()

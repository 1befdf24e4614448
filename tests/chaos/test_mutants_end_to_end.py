"""Mutants run for real: a patched scratch copy, a chaos run as a subprocess, its verdict."""

from __future__ import annotations

from pathlib import Path

import pytest
from run_helpers import REPO_ROOT

from duetime.chaos.mutants.catalogue import CATALOGUE, Mutant
from duetime.chaos.mutants.suite import try_mutant


def mutant(name: str) -> Mutant:
    return next(m for m in CATALOGUE if m.name == name)


def test_a_testbed_that_runs_another_redis_config_than_it_names_is_caught(tmp_path: Path) -> None:
    """The fastest mutant (a few seconds): the run stops at the settings read back."""
    outcome = try_mutant(REPO_ROOT, mutant("testbed_redis_fsync_hardcoded"), tmp_path)
    assert outcome.caught, outcome.run
    assert outcome.run.verdict == "failed"
    assert outcome.evidence is not None and "appendfsync" in outcome.evidence.summary


@pytest.mark.slow
def test_a_claim_that_takes_tasks_early_is_caught_by_early(tmp_path: Path) -> None:
    outcome = try_mutant(REPO_ROOT, mutant("claim_early"), tmp_path)
    assert outcome.caught, outcome.run
    assert outcome.evidence is not None and outcome.evidence.source == "early"

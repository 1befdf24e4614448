"""The suite: each mutant run in its own patched copy, and the unmodified code as baseline."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .catalogue import Mutant
from .run import RunRecord, Signal, run_in_copy
from .scratch import scratch_copy

BASELINE = "baseline"


@dataclass(frozen=True)
class MutantOutcome:
    """A mutant and the run that had to catch it."""

    mutant: Mutant
    run: RunRecord

    @property
    def evidence(self) -> Signal | None:
        """The expected checker's failure, if the run showed it."""
        return None if self.run.passed else self.run.signal_of(self.mutant.catchers)

    @property
    def caught(self) -> bool:
        """Caught as the catalogue says: the run did not pass, and an expected catcher
        is among the reasons (a failure for another reason proves nothing about it)."""
        return self.evidence is not None


def try_mutant(root: Path, mutant: Mutant, out: Path) -> MutantOutcome:
    """Apply ``mutant`` to a scratch copy of ``root`` and run its scenario there."""
    with scratch_copy(root, mutant.name) as copy:
        mutant.apply(copy)
        run = run_in_copy(copy, mutant.scenario, mutant.seed, mutant.run_args, out / mutant.name)
    return MutantOutcome(mutant, run)


def baseline_plan(mutants: Sequence[Mutant], seeds: int) -> list[tuple[str, int]]:
    """(scenario, seed) for every scenario the mutants use and seeds 1..``seeds``."""
    scenarios = sorted({m.scenario for m in mutants})
    return [(s, seed) for s in scenarios for seed in range(1, seeds + 1)]


def run_baseline(
    root: Path,
    plan: Sequence[tuple[str, int]],
    out: Path,
    progress: Callable[[RunRecord], None] = lambda r: None,
) -> list[RunRecord]:
    """Run the plan on one unmodified scratch copy: the same runs, without a bug."""
    records = []
    with scratch_copy(root, BASELINE) as copy:
        for scenario, seed in plan:
            record = run_in_copy(copy, scenario, seed, (), out / BASELINE / f"{scenario}-s{seed}")
            progress(record)
            records.append(record)
    return records

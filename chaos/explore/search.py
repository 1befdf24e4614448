"""The search: Hypothesis draws cases, each runs for real, failed properties are shrunk.

Every example is a real run of ten seconds or so, which shapes the engine:

- results are kept per case, so a case Hypothesis reaches twice (or replays to
  report it) is never run twice, and a timing-dependent failure cannot turn
  into a flaky-test error;
- generation stops at the first failing example (``report_multiple_bugs`` off)
  and shrinking gets a wall-clock budget: once it is spent, cases not run yet
  count as passing without running, so Hypothesis ends at once with the
  smallest failing example it has so far;
- an example whose run broke (the testbed, not a property) is rejected, not
  shrunk, and real runs before the first failure are capped at ``examples``;
- no explain or target phase (they re-run examples), and an example database
  per configuration and search space, so a failure found once is replayed first
  the next time.

The engine knows nothing of Redis: it takes a strategy and ``run_case``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from hypothesis import HealthCheck, Phase, Verbosity, given, reject, seed, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import Unsatisfiable

from .case import ExploreCase
from .judge import Judgement

SearchPhase = Literal["search", "shrink"]
# Hypothesis stops shrinking after this long whatever the budget (its engine's
# MAX_SHRINKING_SECONDS): a shrink that took as long was cut short, not finished.
HYPOTHESIS_SHRINK_LIMIT_S = 300.0


@dataclass(frozen=True)
class Budget:
    """``examples``: real runs until the first failure; ``shrink_s``: seconds of shrinking
    after it (Hypothesis itself stops shrinking after 5 minutes)."""

    examples: int
    shrink_s: float

    def __post_init__(self) -> None:
        if self.examples < 1 or self.shrink_s < 0:
            raise ValueError("examples >= 1 and shrink_s >= 0 are required")


@dataclass(frozen=True)
class CaseResult:
    """What one real run said: a judgement, or why the run itself broke."""

    judgement: Judgement | None
    figures: Mapping[str, Any] = field(default_factory=dict)
    run_dir: str = ""
    duration_s: float = 0.0
    error: str = ""

    @property
    def failing(self) -> bool:
        return self.judgement is not None and self.judgement.failing


RunCase = Callable[[ExploreCase], CaseResult]


@dataclass(frozen=True)
class Example:
    """One real run of the search: its number, phase, case and result."""

    n: int
    phase: SearchPhase
    case: ExploreCase
    result: CaseResult


class SearchObserver(Protocol):
    def started(self, n: int, phase: SearchPhase, case: ExploreCase) -> None: ...

    def finished(self, example: Example) -> None: ...


class QuietObserver:
    def started(self, n: int, phase: SearchPhase, case: ExploreCase) -> None:
        pass

    def finished(self, example: Example) -> None:
        pass


@dataclass
class SearchOutcome:
    """The real runs in order, and the smallest failing example, if any."""

    examples: list[Example] = field(default_factory=list)
    calls: int = 0
    found: Example | None = None
    first_failure: Example | None = None
    shrink_cut_short: bool = False
    duration_s: float = 0.0
    shrink_s: float = 0.0

    @property
    def runs(self) -> int:
        return len(self.examples)

    def runs_in(self, phase: SearchPhase) -> int:
        return sum(1 for e in self.examples if e.phase == phase)


class CaseFailed(Exception):
    """Raised for Hypothesis when an example's properties failed."""

    def __init__(self, example: Example) -> None:
        judgement = example.result.judgement
        super().__init__(
            f"example {example.n}: {', '.join(judgement.failed) if judgement else '?'} failed"
        )
        self.example = example


def example_database(root: Path, config: str, space: str) -> DirectoryBasedExampleDatabase:
    """One database per configuration and search space: their examples differ."""
    label = "".join(c if c.isalnum() or c in "-_." else "-" for c in f"{space}-{config}")
    return DirectoryBasedExampleDatabase(root / label)


class _Engine:
    def __init__(
        self,
        run_case: RunCase,
        budget: Budget,
        observer: SearchObserver,
        clock: Callable[[], float],
    ) -> None:
        self.run_case = run_case
        self.budget = budget
        self.observer = observer
        self.clock = clock
        self.outcome = SearchOutcome()
        self.memo: dict[ExploreCase, Example] = {}
        self.shrink_deadline: float | None = None
        self.first_failure_at = 0.0

    def body(self, case: ExploreCase) -> None:
        self.outcome.calls += 1
        example = self.memo.get(case)
        if example is None:
            if self._budget_spent():
                return  # not run, counts as passing: Hypothesis winds down at once
            example = self._run(case)
        if example.result.error:
            reject()
        if example.result.failing:
            raise CaseFailed(example)

    def _budget_spent(self) -> bool:
        if self.shrink_deadline is not None and self.clock() >= self.shrink_deadline:
            self.outcome.shrink_cut_short = True
            return True
        # Broken runs are rejected, and Hypothesis would try many more: cap real runs.
        return self.outcome.first_failure is None and self.outcome.runs >= self.budget.examples

    def _run(self, case: ExploreCase) -> Example:
        phase: SearchPhase = "search" if self.outcome.first_failure is None else "shrink"
        n = self.outcome.runs + 1
        self.observer.started(n, phase, case)
        example = Example(n, phase, case, self.run_case(case))
        self.memo[case] = example
        self.outcome.examples.append(example)
        self.observer.finished(example)
        if example.result.failing and self.outcome.first_failure is None:
            self.outcome.first_failure = example
            self.first_failure_at = self.clock()
            self.shrink_deadline = self.first_failure_at + self.budget.shrink_s
        return example


def search(
    strategy: st.SearchStrategy[ExploreCase],
    run_case: RunCase,
    budget: Budget,
    *,
    seed_value: int,
    database: DirectoryBasedExampleDatabase | None,
    observer: SearchObserver | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> SearchOutcome:
    """Search for a case whose properties fail; shrink the first one found within budget."""
    engine = _Engine(run_case, budget, observer or QuietObserver(), clock)
    started = clock()

    @settings(
        max_examples=budget.examples,
        deadline=None,
        database=database,
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    @seed(seed_value)
    @given(strategy)
    def explore(case: ExploreCase) -> None:
        engine.body(case)

    try:
        explore()
    except CaseFailed as failed:
        engine.outcome.found = failed.example
    except Unsatisfiable:
        pass  # every example was rejected: every run broke (the examples say why)
    outcome = engine.outcome
    outcome.duration_s = clock() - started
    if outcome.first_failure is not None:
        outcome.shrink_s = clock() - engine.first_failure_at
        if outcome.shrink_s >= HYPOTHESIS_SHRINK_LIMIT_S:
            outcome.shrink_cut_short = True
    return outcome

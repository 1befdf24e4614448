"""The search engine with fake runs: it finds, shrinks, respects its budget, remembers."""

from __future__ import annotations

from pathlib import Path

from explore_helpers import PROCESS_REGISTRY, fake_result, loses_on_late_redis_kill
from hypothesis.database import DirectoryBasedExampleDatabase

from duetime.chaos.explore.case import ExploreCase, FaultEvent
from duetime.chaos.explore.search import Budget, CaseResult, SearchOutcome, example_database, search
from duetime.chaos.explore.strategy import SearchSpace, cases

STRATEGY = cases(SearchSpace(), PROCESS_REGISTRY)


class FakeRuns:
    """Runs nothing; a run takes ``run_s`` seconds on a fake clock."""

    def __init__(self, run_s: float = 10.0, broken: bool = False) -> None:
        self.now = 0.0
        self.run_s = run_s
        self.broken = broken
        self.ran: list[ExploreCase] = []

    def clock(self) -> float:
        return self.now

    def __call__(self, case: ExploreCase) -> CaseResult:
        self.now += self.run_s
        self.ran.append(case)
        if self.broken:
            return CaseResult(None, error="redis-server did not start")
        return fake_result(case, lost=loses_on_late_redis_kill(case))


def run(
    runs: FakeRuns,
    budget: Budget,
    database: DirectoryBasedExampleDatabase | None = None,
) -> SearchOutcome:
    return search(STRATEGY, runs, budget, seed_value=1, database=database, clock=runs.clock)


def test_a_failure_is_found_and_shrunk_to_the_smallest_schedule() -> None:
    runs = FakeRuns(run_s=1.0)
    outcome = run(runs, Budget(examples=100, shrink_s=1e9))
    assert outcome.found is not None
    assert not outcome.shrink_cut_short
    case = outcome.found.case
    kill = PROCESS_REGISTRY.get("kill_redis")
    assert case.faults == (FaultEvent(10, "kill_redis", kill.hold_ds[0]),)
    assert case.workload.tasks == 3
    assert outcome.found.result.judgement is not None
    assert outcome.found.result.judgement.outcome == "finding"
    assert outcome.first_failure is not None and outcome.first_failure.phase == "search"
    assert outcome.runs_in("shrink") > 0


def test_no_case_is_run_twice() -> None:
    runs = FakeRuns()
    outcome = run(runs, Budget(examples=100, shrink_s=1e9))
    assert len(set(runs.ran)) == len(runs.ran) == outcome.runs
    assert outcome.calls > outcome.runs


def test_shrinking_stops_at_its_budget_with_the_smallest_failure_so_far() -> None:
    runs = FakeRuns(run_s=10.0)
    outcome = run(runs, Budget(examples=100, shrink_s=60.0))
    assert outcome.shrink_cut_short
    assert outcome.runs_in("shrink") <= 6
    assert outcome.found is not None and outcome.found in outcome.examples
    assert outcome.found.result.failing
    assert outcome.found.n >= outcome.first_failure.n  # type: ignore[union-attr]


def test_without_failures_the_search_tries_its_examples_and_finds_nothing() -> None:
    runs = FakeRuns()
    outcome = search(
        STRATEGY,
        lambda case: fake_result(case, lost=False),
        Budget(examples=15, shrink_s=60.0),
        seed_value=1,
        database=None,
    )
    assert outcome.found is None and outcome.first_failure is None
    assert 1 <= outcome.runs <= 15
    assert runs.ran == []


def test_broken_runs_are_rejected_never_shrunk_or_reported_as_found() -> None:
    runs = FakeRuns(broken=True)
    outcome = run(runs, Budget(examples=5, shrink_s=60.0))
    assert outcome.found is None
    assert outcome.runs >= 1
    assert all(e.result.error for e in outcome.examples)


def test_a_failure_found_once_is_replayed_first_next_time(tmp_path: Path) -> None:
    database = example_database(tmp_path, "aof=off", "default")
    first = run(FakeRuns(), Budget(examples=100, shrink_s=1e9), database)
    assert first.found is not None
    again = run(FakeRuns(), Budget(examples=100, shrink_s=1e9), database)
    assert again.examples[0].case == first.found.case
    assert again.examples[0].result.failing


def test_each_configuration_and_space_has_its_own_database(tmp_path: Path) -> None:
    paths = {
        example_database(tmp_path, config, space).path
        for config in ("aof=everysec", "aof=always")
        for space in ("default", "ci")
    }
    assert len(paths) == 4


def test_broken_runs_count_against_the_example_budget() -> None:
    runs = FakeRuns(broken=True)
    run(runs, Budget(examples=5, shrink_s=60.0))
    assert len(runs.ran) == 5


def test_a_shrink_as_long_as_hypothesis_allows_is_reported_as_cut_short() -> None:
    runs = FakeRuns(run_s=100.0)
    outcome = run(runs, Budget(examples=100, shrink_s=1e9))
    assert outcome.shrink_s >= 300.0
    assert outcome.shrink_cut_short

"""One search under one configuration, end to end: search and shrink, write the replay
file and confirm it (:mod:`.found`), record everything, regenerate the report."""

from __future__ import annotations

import dataclasses
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis.database import DirectoryBasedExampleDatabase

from duetime.chaos.history.store import run_id
from duetime.chaos.system.redis_server import Persistence

from .execute import ObserverFactory, RealRuns, silent
from .found import FoundContext, relative, write_found
from .kinds import registry
from .record import save, search_record
from .report import write_report
from .search import Budget, SearchObserver, example_database, search
from .strategy import SearchSpace, cases


@dataclass(frozen=True)
class ExploreRequest:
    """What to search: one configuration, a budget, a space; where to write.

    ``out_dir`` gets ``<config>/`` (search.json, replay.py, the confirming runs)
    and ``report.md``; example runs go under ``runs_dir``; ``database_dir`` holds
    the example databases (None: no database). ``confirm``: how many failing
    examples, smallest first, may be rerun from their replay file until one fails
    again (0: write the smallest one's and rerun nothing).
    """

    persistence: Persistence
    seed: int
    budget: Budget
    command: str
    space: SearchSpace = dataclasses.field(default_factory=SearchSpace)
    kinds: tuple[str, ...] | None = None
    out_dir: Path = Path("reports/explore")
    runs_dir: Path = Path("reports/explore-runs")
    database_dir: Path | None = Path(".hypothesis/explore")
    confirm: int = 3
    keep_passing: bool = False


@dataclass(frozen=True)
class ExploreResult:
    record: dict[str, Any]
    directory: Path
    report: Path

    @property
    def result(self) -> str:
        return str(self.record["result"])


def config_slug(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in label)


def _saved_examples(database: DirectoryBasedExampleDatabase | None) -> int:
    """Examples earlier searches saved (failures first among them): replayed first."""
    if database is None or not database.path.exists():
        return 0
    return sum(1 for p in database.path.rglob("*") if p.is_file())


def explore(
    request: ExploreRequest,
    observer: SearchObserver | None = None,
    observe_run: ObserverFactory = silent,
) -> ExploreResult:
    """Search under one configuration and write its record, replay file and the report."""
    label = request.persistence.label
    reg = registry(only=request.kinds)
    started = time.time()
    runs_dir = request.runs_dir / run_id("explore", label, request.seed, started)
    database = (
        example_database(request.database_dir, label, request.space.name)
        if request.database_dir is not None
        else None
    )
    saved_before = _saved_examples(database)
    runner = RealRuns(
        reg,
        request.persistence,
        request.seed,
        runs_dir,
        observe=observe_run,
        keep_passing=request.keep_passing,
    )
    outcome = search(
        cases(request.space, reg),
        runner,
        request.budget,
        seed_value=request.seed,
        database=database,
        observer=observer,
    )
    directory = request.out_dir / config_slug(label)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    record = search_record(
        outcome,
        reg,
        config=label,
        seed=request.seed,
        command=request.command,
        space=dataclasses.asdict(request.space),
        budget=dataclasses.asdict(request.budget),
        started_at=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(started)),
        runs_dir=relative(runs_dir).as_posix(),
        database={
            "path": relative(database.path).as_posix() if database else None,
            "saved_before": saved_before,
        },
    )
    if outcome.found is not None:
        ctx = FoundContext(
            request.persistence, request.seed, request.command, request.confirm, directory
        )
        record["found"] = write_found(ctx, outcome, reg)
    save(directory, record)
    return ExploreResult(record, directory, write_report(request.out_dir))

"""The shrunk failure of a search: its replay file, and reruns that confirm it.

Shrinking accepts a smaller example as soon as it fails once, and a real run's
timing varies: the smallest failing example may not fail again. So the failing
examples are rerun from their replay file, smallest first, until one fails the
same way again; the replay file keeps that one (or the smallest, if none did).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from duetime.chaos.runner import RunRequest, run_scenario
from duetime.chaos.scenario import load_scenario
from duetime.chaos.system.redis_server import Persistence

from .build import scenario_for
from .judge import judge, replay_expectations
from .kinds import Registry
from .record import example_record
from .replay import run_command, write_replay
from .search import Example, SearchOutcome

REPLAY_FILE = "replay.py"
REPLAY_NAME = "explore_found"


@dataclass(frozen=True)
class FoundContext:
    """What writing and rerunning a replay file needs to know of the search."""

    persistence: Persistence
    seed: int
    command: str
    confirm: int
    directory: Path


def relative(path: Path) -> Path:
    """``path`` relative to the working directory, where commands are run from."""
    try:
        return Path(os.path.relpath(path.resolve(), Path.cwd()))
    except ValueError:
        return path


def _paragraphs(
    ctx: FoundContext, outcome: SearchOutcome, chosen: Example, reg: Registry
) -> list[str]:
    assert chosen.result.judgement is not None
    j, f = chosen.result.judgement, chosen.result.figures
    label = ctx.persistence.label
    what = f"failed {', '.join(j.failed)}"
    if "lost" in j.failed:
        what = f"lost {f.get('lost')} of {f.get('acknowledged')} acknowledged tasks ({what})"
    kind = "an expected finding" if j.outcome == "finding" else "a VIOLATION"
    shrink = "cut short by its budget" if outcome.shrink_cut_short else "to a fixpoint"
    faults = "; ".join(f.describe(reg) for f in chosen.case.faults) or "no faults"
    smallest = ""
    if outcome.found is not None and chosen.n != outcome.found.n:
        smallest = (
            f" The smallest failing example (run {outcome.found.n}) did not fail again when "
            f"rerun; this is run {chosen.n}, the smallest that did."
        )
    return [
        f"A fault schedule found by `{ctx.command}` and shrunk: under {label} it {what}, "
        f"{kind}: {j.because}.",
        f"Workload: {chosen.case.describe(reg).split('; ')[0]}. Faults, in seconds after the "
        f"load starts: {faults}.",
        f"The search ran {outcome.runs_in('search')} examples until the first failure, then "
        f"{outcome.runs_in('shrink')} shrinking runs in {outcome.shrink_s:.0f} s ({shrink})."
        f"{smallest} Generated file: rerun the search rather than editing it.",
    ]


def _confirm(ctx: FoundContext, found: Example, path: Path, command: str) -> dict[str, Any]:
    """Rerun the replay file as ``python -m duetime.chaos run`` would: same properties fail?"""
    scenario = load_scenario(path)
    outcome = run_scenario(
        RunRequest(
            scenario=scenario,
            persistence=ctx.persistence,
            seed=ctx.seed,
            out_root=ctx.directory,
            command=command,
        )
    )
    checkers = outcome.results.get("checkers", {})
    verdicts = {n: r["verdict"] for n, r in checkers.items()}
    again = judge(verdicts, ctx.persistence.aof, found.case.faults)
    assert found.result.judgement is not None
    return {
        "n": found.n,
        "reproduced": (again.outcome, again.failed)
        == (found.result.judgement.outcome, found.result.judgement.failed),
        "passed": outcome.passed,
        "run_dir": relative(outcome.run_dir).as_posix(),
        "verdicts": verdicts,
        "lost": checkers.get("lost", {}).get("details", {}).get("lost"),
        "acknowledged": checkers.get("lost", {}).get("details", {}).get("acknowledged"),
        "duration_s": outcome.results.get("duration_s"),
    }


def replay_candidates(outcome: SearchOutcome) -> list[Example]:
    """Failing examples, smallest first: the shrunk one, then those it was shrunk from
    (each failing example shrinking accepts is smaller than the one before)."""
    failing = [e for e in outcome.examples if e.result.failing]
    if outcome.found is not None and outcome.found in failing:
        failing.remove(outcome.found)
        failing.append(outcome.found)
    return failing[::-1]


def write_found(ctx: FoundContext, outcome: SearchOutcome, reg: Registry) -> dict[str, Any]:
    """Write the replay file of the smallest failing example that fails again when rerun
    (trying at most ``ctx.confirm`` of them), or of the smallest if none does."""
    candidates = replay_candidates(outcome)
    attempts: list[dict[str, Any]] = []
    chosen = candidates[0]
    for candidate in candidates[: ctx.confirm]:
        path, command = _write_replay(ctx, outcome, candidate, reg)
        attempts.append(_confirm(ctx, candidate, path, command))
        if attempts[-1]["reproduced"]:
            chosen = candidate
            break
    path, command = _write_replay(ctx, outcome, chosen, reg)
    return {
        **example_record(chosen, reg),
        "replay": relative(path).as_posix(),
        "replay_command": command,
        "confirm": attempts,
        "reproduced": any(a["reproduced"] for a in attempts),
        "shrunk_n": outcome.found.n if outcome.found else None,
    }


def _write_replay(
    ctx: FoundContext, outcome: SearchOutcome, example: Example, reg: Registry
) -> tuple[Path, str]:
    assert example.result.judgement is not None
    label = ctx.persistence.label
    path = ctx.directory / REPLAY_FILE
    command = run_command(relative(path), label, ctx.seed)
    scenario = scenario_for(
        example.case,
        reg,
        name=REPLAY_NAME,
        description=f"Shrunk by the explore search under {label}: " + example.case.describe(reg),
        expectations=replay_expectations(example.result.judgement, label),
        default_config=label,
    )
    write_replay(path, scenario, _paragraphs(ctx, outcome, example, reg), command)
    return path, command

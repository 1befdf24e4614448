"""The search's record as JSON: what ran, what failed, what was shrunk (``search.json``)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from .kinds import Registry
from .search import Example, SearchOutcome

SEARCH_FILE = "search.json"
ERROR_CHARS = 1500


def example_record(example: Example, registry: Registry) -> dict[str, Any]:
    result = example.result
    judgement = result.judgement
    return {
        "n": example.n,
        "phase": example.phase,
        "case": example.case.describe(registry),
        "faults": [f.describe(registry) for f in example.case.faults],
        "fault_events": [dataclasses.asdict(f) for f in example.case.faults],
        "workload": dataclasses.asdict(example.case.workload),
        "outcome": judgement.outcome if judgement else "error",
        "failed": list(judgement.failed) if judgement else [],
        "because": judgement.because if judgement else "",
        "figures": dict(result.figures),
        "run_dir": result.run_dir,
        "duration_s": result.duration_s,
        "error": result.error[-ERROR_CHARS:],
    }


def result_of(outcome: SearchOutcome) -> str:
    """``violation``, ``finding`` or ``none`` (nothing failed in the budget)."""
    if outcome.found is None or outcome.found.result.judgement is None:
        return "none"
    return outcome.found.result.judgement.outcome


def search_record(outcome: SearchOutcome, registry: Registry, **meta: Any) -> dict[str, Any]:
    """The whole record; ``meta`` adds the request (config, seed, command, budget...)."""
    return {
        **meta,
        "kinds": list(registry.names),
        "left_out": dict(registry.left_out),
        "result": result_of(outcome),
        "calls": outcome.calls,
        "runs": outcome.runs,
        "runs_search": outcome.runs_in("search"),
        "runs_shrink": outcome.runs_in("shrink"),
        "errors": sum(1 for e in outcome.examples if e.result.error),
        "duration_s": round(outcome.duration_s, 1),
        "shrink_s": round(outcome.shrink_s, 1),
        "shrink_cut_short": outcome.shrink_cut_short,
        "first_failure": (
            example_record(outcome.first_failure, registry) if outcome.first_failure else None
        ),
        "found": example_record(outcome.found, registry) if outcome.found else None,
        "examples": [example_record(e, registry) for e in outcome.examples],
    }


def save(directory: Path, record: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / SEARCH_FILE
    path.write_text(json.dumps(record, indent=1, sort_keys=True, default=str) + "\n")
    return path


def load_all(root: Path) -> list[dict[str, Any]]:
    """Every ``*/search.json`` under ``root``, by configuration."""
    records = [json.loads(p.read_text()) for p in sorted(root.glob(f"*/{SEARCH_FILE}"))]
    return sorted(records, key=lambda r: str(r.get("config")))

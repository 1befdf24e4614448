"""`.ci/run` runs every scenario: the two short matrices together name each one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_ci_matrices_cover_every_scenario() -> None:
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    named = [n for group in re.findall(r"--scenarios (\S+)", text) for n in group.split(",")]
    assert sorted(named) == sorted(p.stem for p in (ROOT / "scenarios").glob("[!_]*.py"))
    assert len(named) == len(set(named)), "a scenario runs twice in CI"

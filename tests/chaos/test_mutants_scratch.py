"""A scratch copy is the repository, links included, and its processes import its code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from run_helpers import REPO_ROOT

from duetime.chaos.mutants.catalogue import CATALOGUE
from duetime.chaos.mutants.scratch import scratch_copy

PROBE = (
    "import duetime, duetime.chaos, duetime.lua as lua; "
    "print(duetime.__file__); print(duetime.chaos.__file__); print(lua.source('claim'))"
)


def test_a_scratch_copy_keeps_the_package_links_and_is_removed_after() -> None:
    with scratch_copy(REPO_ROOT, "test") as copy:
        assert os.readlink(copy / "duetime") == "scheduler"
        assert os.readlink(copy / "scheduler" / "chaos") == "../chaos"
        assert (copy / "scenarios" / "kill_workers.py").is_file()
        assert not (copy / ".git").exists()
        parent = copy.parent
    assert not parent.exists()


def test_a_process_started_in_a_scratch_copy_imports_the_patched_code() -> None:
    claim_early = next(m for m in CATALOGUE if m.name == "claim_early")
    with scratch_copy(REPO_ROOT, "test") as copy:
        claim_early.apply(copy)
        out = subprocess.run(
            [sys.executable, "-c", PROBE],
            cwd=copy,
            env={**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    scheduler_file, chaos_file = (Path(p) for p in out.splitlines()[:2])
    assert scheduler_file.is_relative_to(copy)
    assert chaos_file.is_relative_to(copy)
    assert "now + 1000, 'LIMIT', 0, room)" in out
    # The real tree is untouched.
    assert "now + 1000" not in (REPO_ROOT / "scheduler" / "lua" / "claim.lua").read_text()

"""Scratch copies of the repository: each mutant runs in its own, never in the real tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Without git, copy everything but these (run folders, caches, the repository itself).
_SKIPPED = (
    ".git",
    "reports",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "*.egg-info",
    ".venv",
    "build",
)


def repository_root() -> Path:
    """The root of the repository this package was loaded from (it holds ``scheduler/``,
    ``chaos/`` and ``scenarios/``)."""
    root = Path(__file__).resolve().parents[2]
    for needed in ("scheduler", "chaos", "scenarios"):
        if not (root / needed).is_dir():
            raise FileNotFoundError(f"{root} is not a duetime checkout: no {needed}/")
    return root


def _listed_files(root: Path) -> list[str] | None:
    """Files git tracks, plus new ones it does not ignore; None without git."""
    if shutil.which("git") is None or not (root / ".git").exists():
        return None
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout
    return sorted({p for p in out.decode().split("\0") if p})


def copy_tree(root: Path, dest: Path) -> None:
    """Copy the repository's files at ``root`` into ``dest``, links kept as links
    (``duetime -> scheduler`` and ``scheduler/chaos -> ../chaos`` make the package)."""
    files = _listed_files(root)
    if files is None:
        shutil.copytree(
            root, dest, symlinks=True, ignore=shutil.ignore_patterns(*_SKIPPED), dirs_exist_ok=True
        )
        return
    for rel in files:
        src = root / rel
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the work tree, not yet in git
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), target)
        else:
            shutil.copy2(src, target)


@contextmanager
def scratch_copy(root: Path, label: str) -> Iterator[Path]:
    """A fresh copy of the repository at ``root``, removed on exit (also on Ctrl-C)."""
    parent = Path(tempfile.mkdtemp(prefix=f"duetime-mutant-{label}-"))
    try:
        copy = parent / "repo"
        copy.mkdir()
        copy_tree(root, copy)
        yield copy
    finally:
        shutil.rmtree(parent, ignore_errors=True)

"""Each peer's own environment, made once and kept in a cache folder.

Python peers get a virtualenv, ``<cache>/venvs/<peer>-<version>-py<X.Y>``, made with
``python -m venv`` and ``pip install`` of pinned requirements; BullMQ gets
``npm install`` of pinned packages into ``<cache>/node/<peer>-<version>``. A folder counts
as made only once its marker file (``.bench-ready``, holding the requirements) exists, so
an interrupted install is redone. The cache is ``$DUETIME_BENCH_CACHE``, else
``$XDG_CACHE_HOME/duetime-bench``, else ``~/.cache/duetime-bench``.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MARKER = ".bench-ready"
INSTALL_TIMEOUT_S = 900


class EnvUnavailable(RuntimeError):
    """The environment could not be made; the message says why.

    ``missing_tool`` is True when this machine lacks what the environment needs (node and
    npm): the system is then skipped. Otherwise an install failed, which is an error.
    """

    def __init__(self, message: str, *, missing_tool: bool = False) -> None:
        super().__init__(message)
        self.missing_tool = missing_tool


def cache_root() -> Path:
    if env := os.environ.get("DUETIME_BENCH_CACHE"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "duetime-bench"


@dataclass(frozen=True)
class PythonEnv:
    """A virtualenv with ``requirements`` installed."""

    name: str
    requirements: tuple[str, ...]

    def folder(self, cache: Path) -> Path:
        py = f"{sys.version_info.major}.{sys.version_info.minor}"
        return cache / "venvs" / f"{self.name}-py{py}"

    def ensure(self, cache: Path) -> Path:
        """Make the virtualenv if needed; return its ``python``."""
        folder = self.folder(cache)
        python = folder / "bin" / "python"
        spec = "\n".join(self.requirements) + "\n"
        with _locked(folder):
            if _ready(folder, spec):
                return python
            shutil.rmtree(folder, ignore_errors=True)
            _run([sys.executable, "-m", "venv", str(folder)], f"making the venv {folder}")
            pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            _run([*pip, *self.requirements], f"pip install {' '.join(self.requirements)}")
            (folder / MARKER).write_text(spec)
        return python

    def versions(self, cache: Path) -> str:
        """``pip freeze`` of the environment (for the report)."""
        python = self.folder(cache) / "bin" / "python"
        out = subprocess.run(
            [str(python), "-m", "pip", "freeze", "--disable-pip-version-check"],
            capture_output=True,
            text=True,
            check=False,
        )
        return " ".join(out.stdout.split())


@dataclass(frozen=True)
class NodeEnv:
    """An npm install of ``packages`` (``name@version``)."""

    name: str
    packages: tuple[str, ...]

    def folder(self, cache: Path) -> Path:
        return cache / "node" / self.name

    def ensure(self, cache: Path) -> Path:
        """Install the packages if needed; return the folder that holds ``node_modules``."""
        node, npm = shutil.which("node"), shutil.which("npm")
        if node is None or npm is None:
            raise EnvUnavailable("node and npm are not on PATH", missing_tool=True)
        folder = self.folder(cache)
        spec = "\n".join(self.packages) + "\n"
        with _locked(folder):
            if _ready(folder, spec):
                return folder
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            (folder / "package.json").write_text('{"private": true}\n')
            _run(
                [npm, "install", "--no-audit", "--no-fund", "--silent", *self.packages],
                f"npm install {' '.join(self.packages)}",
                cwd=folder,
            )
            (folder / MARKER).write_text(spec)
        return folder

    def versions(self, cache: Path) -> str:
        return " ".join(self.packages)


def _ready(folder: Path, spec: str) -> bool:
    marker = folder / MARKER
    return marker.is_file() and marker.read_text() == spec


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Serialise makers of one folder (two runs sharing a cache)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run(cmd: list[str], what: str, cwd: Path | None = None) -> None:
    try:
        proc = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvUnavailable(f"{what}: {exc}") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise EnvUnavailable(f"{what} failed: " + " | ".join(tail))

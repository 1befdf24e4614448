"""One chaos run as a subprocess of a scratch copy, and what its results say.

The run's workers are started by the run with its environment, so with ``cwd`` and
``PYTHONPATH`` set to the copy every process of the run imports the copy's code.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from duetime.chaos.checker.verdict import GOOD
from duetime.chaos.history.store import RESULTS_FILE

from .catalogue import CRASHED, UNTESTED

# A quick run takes 10-25 s; under load, and with a drain that times out, far longer.
RUN_TIMEOUT_S = 600.0
# After Ctrl-C, how long a run may take to stop its processes before it is killed.
STOP_GRACE_S = 60.0
# How long a run that got the terminal's Ctrl-C is left to act on it alone.
SIGINT_REACHED_S = 2.0


@dataclass(frozen=True)
class Signal:
    """Something in a run's results that says it did not pass: a checker or the run itself."""

    source: str
    summary: str


@dataclass(frozen=True)
class RunRecord:
    """What one run showed: its verdict, and each thing that kept it from passing."""

    scenario: str
    seed: int
    args: tuple[str, ...]
    verdict: str
    reasons: tuple[str, ...]
    signals: tuple[Signal, ...] = field(default=())
    run_dir: str = ""
    duration_s: float = 0.0

    @property
    def passed(self) -> bool:
        return self.verdict in GOOD

    def signal_of(self, sources: Sequence[str]) -> Signal | None:
        """The first signal from one of ``sources``, if any."""
        return next((s for s in self.signals if s.source in sources), None)


def signals_of(results: dict[str, Any]) -> list[Signal]:
    """The checkers whose expectation did not hold, a crash, and faults never injected."""
    found: list[Signal] = []
    if results.get("status") not in ("completed", "skipped"):
        error = str(results.get("error") or "").strip().splitlines()
        found.append(Signal(CRASHED, error[-1] if error else str(results.get("status"))))
    for outcome in results.get("expectations", []):
        if not outcome.get("held", True):
            name = str(outcome.get("checker", "?"))
            found.append(Signal(name, str(outcome.get("summary", ""))))
    nemeses = results.get("nemeses", {})
    for name in nemeses.get("configured", []):
        if name not in nemeses.get("skipped", {}) and not nemeses.get("injected", {}).get(name):
            found.append(Signal(UNTESTED, f"nemesis {name} injected no fault"))
    return found


def _find_results(out: Path) -> Path | None:
    found = sorted(out.glob(f"*/{RESULTS_FILE}"))
    return found[-1] if found else None


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Let the run stop its own processes, as it does on Ctrl-C; kill it if it will not.

    A Ctrl-C at the terminal reached the run too: it gets a moment to act on that one
    before a second SIGINT (which its cleanup ignores) is sent.
    """
    for send in (False, True):
        if send:
            proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=SIGINT_REACHED_S if not send else STOP_GRACE_S)
            return
        except subprocess.TimeoutExpired:
            continue
    proc.kill()
    proc.wait()


def run_in_copy(copy: Path, scenario: str, seed: int, args: Sequence[str], out: Path) -> RunRecord:
    """Run ``scenario`` (quick) in the scratch ``copy``; its run folder goes under ``out``."""
    out = out.resolve()  # the run's cwd is the copy
    out.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "duetime.chaos", "run", f"scenarios/{scenario}.py",
        "--quick", "--seed", str(seed), "--out", str(out), *args,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.monotonic()
    with (out / "run.log").open("wb") as log:
        proc = subprocess.Popen(command, cwd=copy, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            proc.wait(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _stop(proc)  # its results say "interrupted": a run that hangs never passes
        except BaseException:  # Ctrl-C or SIGTERM: never leave a run behind
            _stop(proc)
            raise
    duration = round(time.monotonic() - started, 1)
    path = _find_results(out)
    if path is None:
        tail = (out / "run.log").read_text(errors="replace").strip().splitlines()[-1:]
        return RunRecord(
            scenario, seed, tuple(args), "failed",
            (f"no {RESULTS_FILE} (exit {proc.returncode}): {' '.join(tail)}",),
            (Signal(CRASHED, f"no results: exit {proc.returncode}"),),
            str(out), duration,
        )  # fmt: skip
    results = json.loads(path.read_text())
    return RunRecord(
        scenario=scenario,
        seed=seed,
        args=tuple(args),
        verdict=str(results.get("verdict")),
        reasons=tuple(str(r) for r in results.get("verdict_reasons", [])),
        signals=tuple(signals_of(results)),
        run_dir=str(path.parent),
        duration_s=duration,
    )

"""Clock skew of one process that decides due times: restart it with its wall clock
shifted, then back. That is a worker, or a design's dispatcher process when it has one
(``Cluster.due_time_deciders``).

The shift comes from a tiny ``LD_PRELOAD`` shim (``clock_shift.c``, compiled on
first use) that moves only ``CLOCK_REALTIME``: the testbed clock (monotonic) is
untouched, so the history stays true. A worker that trusted its own clock for
due times would run tasks early (shifted ahead) or late (behind).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from duetime.chaos.system.cluster import Cluster

from .base import Fault, Nemesis, NemesisContext, NemesisUnavailable

SHIM_SOURCE = Path(__file__).with_name("clock_shift.c")
SHIFT_ENV = "CHAOS_CLOCK_SHIFT_NS"


def build_shim(cache_dir: Path | None = None) -> Path:
    """Compile the shim once per source version; raise NemesisUnavailable without a compiler."""
    source = SHIM_SOURCE.read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:12]
    target = (cache_dir or Path(tempfile.gettempdir())) / f"duetime-clock-shift-{digest}.so"
    if target.exists():
        return target
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise NemesisUnavailable("clock_skew needs a C compiler (cc) to build its clock shim")
    partial = target.with_suffix(f".{digest}.tmp")
    proc = subprocess.run(
        [compiler, "-shared", "-fPIC", "-O2", "-o", str(partial), str(SHIM_SOURCE), "-ldl"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise NemesisUnavailable(f"clock_skew: building the clock shim failed: {proc.stderr}")
    partial.replace(target)
    return target


def shift_env(shim: Path, shift_s: float) -> dict[str, str]:
    return {"LD_PRELOAD": str(shim), SHIFT_ENV: str(round(shift_s * 1e9))}


@dataclass(frozen=True)
class ClockSkew(Nemesis):
    """Restart one due-time-deciding process with its wall clock shifted by one of ``shifts_s``."""

    shifts_s: tuple[float, ...] = (30.0, -30.0)

    @property
    def name(self) -> str:
        return "clock_skew"

    def setup(self, cluster: Cluster) -> None:
        build_shim()

    def inject(self, ctx: NemesisContext) -> Fault | None:
        alive = [n for n in ctx.cluster.due_time_deciders() if ctx.cluster.alive(n)]
        if not alive:
            return None
        worker = ctx.rng.choice(alive)
        shift = ctx.rng.choice(self.shifts_s)
        # Standing: a kill and restart by another nemesis keeps the worker skewed.
        ctx.cluster.set_standing_env(worker, shift_env(build_shim(), shift))
        ctx.cluster.stop_process(worker)
        ctx.cluster.start_process(worker)

        def unskew() -> None:
            ctx.cluster.set_standing_env(worker, None)
            ctx.cluster.stop_process(worker)
            ctx.cluster.start_process(worker)

        return Fault(targets=(worker,), detail={"shift_s": shift}, healer=unskew)

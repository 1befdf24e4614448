"""Run the comparison: every chosen system against one redis-server, in one run.

Order: the ceiling (Redis alone), then each system's enqueue, drain, precision and memory
measurements, then the backlogs of the scale measurement (duetime's largest last).
"""

from __future__ import annotations

import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from duetime.chaos.system.redis_server import Persistence, RedisServer

from . import goals
from .bench import Bench
from .envs import EnvUnavailable
from .measures.ceiling import ceiling
from .measures.drain import drain
from .measures.enqueue import rates
from .measures.memory import memory
from .measures.precision import precision
from .measures.scale import scale
from .progress import BenchProgress
from .report import METHODOLOGY, ceiling_fraction
from .sizes import FULL, QUICK, Sizes
from .systems import DESIGNS_ALIAS, QUICK_SYSTEMS, SYSTEMS, Driver, System, driver, expand

CONFIGS = ("default", "tuned")
PROCS = (1, 2)
# A 1-minute load average this high before the run means others were using the machine.
BUSY_LOAD = 0.5
# Steps the progress counts: the environments and Redis alone, then per system its
# enqueue, each drain, each lateness and its memory (scale levels are added when known).
FIXED_STEPS = 2
STEPS_PER_SYSTEM = 1 + len(CONFIGS) * len(PROCS) + len(CONFIGS) + 1


@dataclass(frozen=True)
class Options:
    quick: bool
    systems: Sequence[str] | None
    cache: Path
    command: str


def chosen_systems(opts: Options) -> tuple[list[str], dict[str, str]]:
    """The systems to measure, and the others with why they are skipped.

    ``--systems designs`` stands for every published design of the chaos testbed.
    """
    if opts.systems:
        names = expand(opts.systems)
        unknown = [s for s in names if s not in SYSTEMS]
        if unknown:
            raise ValueError(
                f"unknown systems {unknown}; choose from {', '.join(SYSTEMS)} "
                f"(or {DESIGNS_ALIAS}: every design)"
            )
        chosen = [s for s in SYSTEMS if s in names]
        why = "not chosen with --systems"
    elif opts.quick:
        chosen = list(QUICK_SYSTEMS)
        why = "--quick measures duetime and arq only (run without --quick, or use --systems)"
    else:
        chosen, why = list(SYSTEMS), ""
    return chosen, {s: why for s in SYSTEMS if s not in chosen}


def peer_levels(
    system: System, sizes: Sizes, load_per_s: float, drain_per_s: float | None = None
) -> tuple[tuple[int, ...], str]:
    """The backlogs a peer (or design) is measured at, and why larger ones are not tried.

    ``drain_per_s``, the system's fastest drain, if given: no backlog is tried when
    draining each level's ``scale_drain`` tasks would take longer than the scale budget
    (or the drain ran too few tasks to be rated).
    """
    if drain_per_s is not None:
        if not math.isfinite(drain_per_s) or drain_per_s <= 0:
            return (), "scale not measured: its drains ran too few tasks to be rated"
        takes = sizes.scale_drain / drain_per_s
        if takes > sizes.scale_load_budget_s:
            return (), (
                f"scale not measured: draining {sizes.scale_drain:,} tasks at each backlog at "
                f"{drain_per_s:,.0f} tasks/s would take {_duration(takes)}"
            )
    levels: list[int] = []
    for level in sizes.scale_peer_levels:
        if levels:
            if system.scale_note:
                return tuple(
                    levels
                ), f"backlogs of {level:,} and more not tried: {system.scale_note}"
            if level / load_per_s > sizes.scale_load_budget_s:
                return tuple(levels), (
                    f"backlogs of {level:,} and more not tried: loading them at "
                    f"{load_per_s:,.0f} tasks/s would take {level / load_per_s / 60:.0f} min"
                )
        levels.append(level)
    return tuple(levels), ""


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def machine(server: RedisServer) -> dict[str, Any]:
    """What the run ran on, for the report."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    node = shutil.which("node")
    node_v = (
        subprocess.run(
            [node, "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if node
        else "not installed"
    )
    redis_v = ".".join(map(str, server.version))
    return {
        "host": platform.node(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "node": node_v,
        "redis_server": f"{redis_v} ({server.binary})",
        "summary": f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB, "
        f"{platform.system()} {platform.machine()}, Python {platform.python_version()}, "
        f"node {node_v}, redis-server {redis_v}",
    }


class LoadWatch:
    """Samples the 1-minute load average while the run goes."""

    def __init__(self) -> None:
        self.before = os.getloadavg()
        self.highest = self.before[0]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(10):
            self.highest = max(self.highest, os.getloadavg()[0])

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        return {
            "load_before": list(self.before),
            "load_after": list(os.getloadavg()),
            "load_max": self.highest,
            "busy": self.before[0] >= BUSY_LOAD,
        }


def prepare(
    names: Sequence[str], cache: Path, say: Callable[[str], None]
) -> dict[str, Driver | EnvUnavailable]:
    """Make every environment (in parallel), or say why one could not be made."""

    def one(name: str) -> Driver | EnvUnavailable:
        try:
            return driver(SYSTEMS[name], cache)
        except EnvUnavailable as exc:
            return exc

    say(f"preparing environments for {', '.join(names)} under {cache}")
    with ThreadPoolExecutor(len(names) or 1) as pool:
        made = dict(zip(names, pool.map(one, names), strict=True))
    for name, d in made.items():
        if isinstance(d, EnvUnavailable):
            say(f"{name}: {'skipped' if d.missing_tool else 'error'}: {d}")
    return made


def measure_system(b: Bench, d: Driver) -> dict[str, Any]:
    """Enqueue, drain (each setting, 1 and 2 processes), precision and memory of a system."""
    name = d.system.name
    b.progress.step(f"{name}: enqueue")
    out: dict[str, Any] = {"enqueue": rates(b, d)}
    e = out["enqueue"]
    batch = f", batch {e['batch_per_s']:,.0f}/s" if "batch_per_s" in e else ""
    b.say(f"{name}: enqueue one call per task {e['single_per_s']:,.0f}/s{batch}")
    out["drain"] = {}
    for config in CONFIGS:
        out["drain"][config] = {}
        for procs in PROCS:
            b.progress.step(f"{name}: drain, {config}, {procs} process(es)")
            r = drain(b, d, config, procs)
            out["drain"][config][str(procs)] = r
            b.say(f"{name}: drain, {config}, {procs} process(es): {r['per_s']:,.0f} tasks/s")
    out["precision"] = {}
    for config in CONFIGS:
        b.progress.step(f"{name}: lateness, {config}")
        r = precision(b, d, config)
        out["precision"][config] = r
        b.say(
            f"{name}: lateness, {config}: p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
            f"max {r['max_ms']:.1f} ms, early {r['early']}, missing {r['missing']}"
        )
    b.progress.step(f"{name}: memory")
    out["memory"] = memory(b, d)
    m = out["memory"]
    b.say(
        f"{name}: Redis bytes per pending task beyond payload: delayed "
        f"{m['delayed']['overhead_bytes']:.0f}, due now {m['due_now']['overhead_bytes']:.0f}"
    )
    return out


def _record_error(entry: dict[str, Any], key: str, exc: BaseException, b: Bench) -> None:
    entry[key] = f"{type(exc).__name__}: {exc}"
    (b.scratch / f"{entry['name']}-{key}.txt").write_text(traceback.format_exc())
    b.say(f"{entry['name']}: {key.replace('_', ' ')}: {entry[key]}")


@contextmanager
def _scratch() -> Iterator[tuple[Path, list[bool]]]:
    """A scratch folder, removed at the end unless something failed (then its path is shown)."""
    folder = Path(tempfile.mkdtemp(prefix="duetime-bench-"))
    failed = [False]
    try:
        yield folder, failed
    except BaseException:
        failed[0] = True
        raise
    finally:
        if failed[0]:
            print(f"worker logs and records kept in {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _entries(skipped: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {
        name: {
            "name": name,
            "label": s.label,
            "version": s.version,
            "batch_api": s.batch_api,
            "settings": dict(s.settings),
            "notes": list(s.notes),
            "design": s.design,
            "status": "skipped" if name in skipped else "pending",
            "reason": skipped.get(name, ""),
        }
        for name, s in SYSTEMS.items()
    }


def _measure_all(
    b: Bench, drivers: dict[str, Driver | EnvUnavailable], systems: dict[str, Any], cache: Path
) -> bool:
    """Each system's own measurements; False if any failed."""
    ok = True
    for name, d in drivers.items():
        entry = systems[name]
        if isinstance(d, EnvUnavailable):
            entry.update(status="skipped" if d.missing_tool else "error", reason=str(d))
            ok = ok and d.missing_tool
            continue
        entry["packages"] = d.system.env.versions(cache) if d.system.env else ""
        try:
            entry.update(measure_system(b, d), status="ok")
        except Exception as exc:
            entry["status"] = "error"
            _record_error(entry, "reason", exc, b)
            ok = False
    return ok


def _scale_all(
    b: Bench, drivers: dict[str, Driver | EnvUnavailable], systems: dict[str, Any]
) -> bool:
    """The scale measurement of each system measured so far, duetime's (the largest) last."""
    ok = True
    names = sorted(drivers, key=lambda n: n == "duetime")
    for name in names:
        entry, d = systems[name], drivers[name]
        if entry["status"] != "ok" or isinstance(d, EnvUnavailable):
            continue
        if name == "duetime":
            levels, note = b.sizes.scale_levels, ""
        else:
            drains = [r for c in entry["drain"].values() for r in c.values()]
            fastest = max(r["load_per_s"] for r in drains)
            rated = [r["per_s"] for r in drains if math.isfinite(r["per_s"])]
            levels, note = peer_levels(d.system, b.sizes, fastest, max(rated, default=math.nan))
        if note:
            entry["scale_note"] = note
            b.say(f"{name}: {note}")
        if not levels:
            continue
        b.progress.add_steps(len(levels))
        try:
            entry["scale"] = scale(b, d, levels)
        except Exception as exc:
            _record_error(entry, "scale_error", exc, b)
            ok = False
    return ok


def run(opts: Options) -> dict[str, Any]:
    """Measure; return the results (see ``report.write``). ``results["ok"]`` is False on errors."""
    sizes = QUICK if opts.quick else FULL
    chosen, skipped = chosen_systems(opts)
    load = LoadWatch()
    t0 = time.monotonic()
    systems = _entries(skipped)
    with (
        _scratch() as (scratch, failed),
        RedisServer(Persistence(aof="off")) as server,
        BenchProgress(FIXED_STEPS + STEPS_PER_SYSTEM * len(chosen)) as progress,
    ):
        b = Bench(server.url, server.client(), scratch, sizes, progress)
        progress.step("preparing environments")
        drivers = prepare(chosen, opts.cache, b.say)
        info = machine(server)
        b.say(f"redis-server {info['redis_server']} on {server.url}")
        progress.step("Redis alone")
        fixed = ceiling(b, server.host, server.port)
        b.say(
            "Redis alone: "
            + ", ".join(f"{k} {v:,.0f}" for k, v in fixed.items() if isinstance(v, float))
        )
        measured = _measure_all(b, drivers, systems, opts.cache)
        scaled = _scale_all(b, drivers, systems)
        failed[0] = not (measured and scaled)
    result: dict[str, Any] = {
        "command": opts.command,
        "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "duration_s": time.monotonic() - t0,
        "machine": {**info, **load.stop()},
        "sizes": sizes.as_dict(),
        "methodology": METHODOLOGY,
        "ceiling": fixed,
        "systems": systems,
        "ok": not failed[0],
    }
    duetime = systems["duetime"]
    measured_duetime = duetime["status"] == "ok"
    result["ceiling_fraction"] = ceiling_fraction(duetime, fixed) if measured_duetime else {}
    result["goals"] = goals.check(duetime) if measured_duetime else []
    return result

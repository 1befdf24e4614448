"""duetime on this machine: schedule rate, drain rate, lateness of delayed tasks."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scheduler import NewTask, Scheduler

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def worker_processes(url: str, namespace: str, n: int, env: dict[str, str]) -> Iterator[None]:
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scheduler",
                "worker",
                "--url",
                url,
                "--namespace",
                namespace,
                "--handlers",
                "benchmarks.handlers:HANDLERS",
                "--log-level",
                "WARNING",
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            start_new_session=True,
        )
        for _ in range(n)
    ]
    try:
        time.sleep(1.0)  # imports and subscriptions
        yield
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def schedule_rate(url: str, n: int) -> dict[str, float]:
    s = Scheduler.from_url(url, namespace=f"bench-{uuid.uuid4().hex[:8]}")
    due = time.time() + 3600
    t0 = time.perf_counter()
    for i in range(n):
        s.schedule_task(due + i, {"i": i}, task_type="noop")
    single = n / (time.perf_counter() - t0)
    batch_n = n * 10
    s2 = Scheduler.from_url(url, namespace=f"bench-{uuid.uuid4().hex[:8]}")
    tasks = [NewTask(due + i, {"i": i}, "noop") for i in range(batch_n)]
    t0 = time.perf_counter()
    s2.schedule_many(tasks)
    batch = batch_n / (time.perf_counter() - t0)
    return {"single_per_s": single, "batch_per_s": batch}


def drain_rate(url: str, n: int, processes: int) -> float:
    ns = f"bench-{uuid.uuid4().hex[:8]}"
    s = Scheduler.from_url(url, namespace=ns)
    with worker_processes(url, ns, processes, {}):
        due = time.time() + 2.0
        s.schedule_many(NewTask(due, None, "noop") for _ in range(n))
        time.sleep(max(0.0, due - time.time()))
        t0 = time.perf_counter()
        while s.stats().done < n:
            time.sleep(0.005)
        return n / (time.perf_counter() - t0)


def lateness(url: str, n: int, spread_s: float) -> dict[str, Any]:
    ns = f"bench-{uuid.uuid4().hex[:8]}"
    s = Scheduler.from_url(url, namespace=ns)
    log = Path(tempfile.mkdtemp(prefix="duetime-bench-")) / "lateness.log"
    with worker_processes(url, ns, 1, {"BENCH_LATENESS_LOG": str(log)}):
        start = time.time() + 1.0
        s.schedule_many(NewTask(start + spread_s * i / n, None, "lateness") for i in range(n))
        deadline = time.time() + spread_s + 30
        while s.stats().done < n and time.time() < deadline:
            time.sleep(0.05)
    values = sorted(float(line.split()[1]) for line in log.read_text().splitlines())
    return {
        "tasks": n,
        "ran": len(values),
        "early": sum(v < 0 for v in values),
        "p50_ms": statistics.median(values),
        "p99_ms": values[min(len(values) - 1, int(len(values) * 0.99))],
        "max_ms": values[-1],
    }


def run(url: str, quick: bool) -> dict[str, Any]:
    n = 2000 if quick else 20000
    return {
        "schedule": schedule_rate(url, n // 4),
        "drain_1_process_per_s": drain_rate(url, n, 1),
        "drain_2_processes_per_s": drain_rate(url, n, 2),
        "lateness": lateness(url, 400 if quick else 2000, 2.0 if quick else 10.0),
    }

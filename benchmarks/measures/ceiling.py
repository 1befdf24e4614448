"""The ceiling: what this redis-server does alone, with a trivial script (``return 1``).

From Python (redis-py with hiredis, one connection): ``EVALSHA`` calls per second one at a
time, and 16 deep in pipelines. From ``redis-benchmark`` when it is installed: 50 clients,
unpipelined and 16 deep. The client shares the machine with the server, as the workers do.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import time
from typing import Any

import redis

from ..bench import Bench

SCRIPT = "return 1"
DEPTH = 16
CLIENTS = 50


def python_rate(client: redis.Redis, sha: str, seconds: float, depth: int) -> float:
    """Scripted calls per second from one connection, ``depth`` per round trip."""
    calls = 0
    deadline = time.perf_counter() + seconds
    t0 = time.perf_counter()
    if depth == 1:
        while time.perf_counter() < deadline:
            for _ in range(100):
                client.evalsha(sha, 0)
            calls += 100
    else:
        pipe = client.pipeline(transaction=False)
        while time.perf_counter() < deadline:
            for _ in range(depth):
                pipe.evalsha(sha, 0)
            pipe.execute()
            calls += depth
    return calls / (time.perf_counter() - t0)


def parse_benchmark_csv(text: str) -> float:
    """Requests per second from ``redis-benchmark --csv`` output."""
    rows = [r for r in csv.reader(io.StringIO(text)) if r]
    header, last = rows[0], rows[-1]
    column = header.index("rps") if "rps" in header else 1
    return float(last[column])


def benchmark_rate(host: str, port: int, sha: str, n: int, depth: int) -> float:
    """Requests per second of ``redis-benchmark`` running EVALSHA, ``depth`` deep."""
    binary = shutil.which("redis-benchmark")
    assert binary is not None
    cmd = [binary, "-h", host, "-p", str(port), "-c", str(CLIENTS), "-n", str(n)]
    cmd += ["-P", str(depth), "--csv", "EVALSHA", sha, "0"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True)
    return parse_benchmark_csv(out.stdout)


def ceiling(b: Bench, host: str, port: int) -> dict[str, Any]:
    """Trivial scripted calls per second, each way this machine can make them."""
    sha = str(b.client.script_load(SCRIPT))
    client = redis.Redis(host=host, port=port)
    out: dict[str, Any] = {
        "python_unpipelined_per_s": python_rate(client, sha, b.sizes.ceiling_s, 1),
        f"python_pipelined_{DEPTH}_per_s": python_rate(client, sha, b.sizes.ceiling_s, DEPTH),
    }
    client.close()
    if shutil.which("redis-benchmark"):
        n = b.sizes.ceiling_bench_n
        out["redis_benchmark_unpipelined_per_s"] = benchmark_rate(host, port, sha, n, 1)
        out[f"redis_benchmark_pipelined_{DEPTH}_per_s"] = benchmark_rate(
            host, port, sha, n * 5, DEPTH
        )
    else:
        out["redis_benchmark"] = "not installed (apt-get install redis-tools)"
    return out

"""``python -m duetime``: the command names are a contract."""

from __future__ import annotations

import json
import subprocess
import sys

from duetime import Scheduler, Status
from tests.conftest import ROOT


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "duetime", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_schedule_then_stats(sched: Scheduler) -> None:
    url, ns = sched.redis.connection_pool.connection_kwargs, sched.namespace
    base = ["--url", f"redis://{url['host']}:{url['port']}/0", "--namespace", ns]
    out = cli(
        "schedule",
        *base,
        "--type",
        "send_email",
        "--at",
        "1767225600",
        "--data",
        '{"user": 42}',
        "--id",
        "cli-1",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "cli-1"
    info = sched.get("cli-1")
    assert info is not None and info.status is Status.SCHEDULED and info.data == {"user": 42}
    stats = cli("stats", *base, "--json")
    assert json.loads(stats.stdout)["due"] == 1


def test_bad_input_exits_non_zero_and_writes_nothing(sched: Scheduler) -> None:
    url = sched.redis.connection_pool.connection_kwargs
    base = ["--url", f"redis://{url['host']}:{url['port']}/0", "--namespace", sched.namespace]
    for args, message in [
        (["--at", "soon"], "--at must be epoch seconds"),
        (["--at", "1", "--data", "{not json"], "--data must be JSON"),
        (["--at", "-5"], "must not be negative"),
        (["--at", "2030-01-01T00:00:00"], "naive datetime"),
    ]:
        out = cli("schedule", *base, *args)
        assert out.returncode != 0 and message in out.stderr, (args, out.stderr)
    assert sched.stats().due == 0


def test_worker_with_bad_handlers_says_why() -> None:
    for spec, message in [
        ("no_colon", "MODULE:ATTR"),
        ("no_such_module:X", "cannot import 'no_such_module'"),
        ("scheduler:NOPE", "has no attribute 'NOPE'"),
        ("scheduler:__all__", "must be a non-empty dict"),
    ]:
        out = cli("worker", "--url", "redis://127.0.0.1:1/0", "--handlers", spec)
        assert out.returncode == 2 and message in out.stderr, (spec, out.stderr)


def test_unreachable_redis_is_a_clear_error() -> None:
    out = cli("stats", "--url", "redis://127.0.0.1:1/0")
    assert out.returncode == 1 and "Redis did not answer" in out.stderr

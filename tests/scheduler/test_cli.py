"""``python -m duetime``: the command names are a contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from duetime import Scheduler, Status
from duetime.chaos.system.redis_server import RedisServer
from tests.conftest import ROOT
from tests.scheduler.test_validation import snapshot


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "duetime", *args],
        cwd=ROOT,
        env=None if env is None else {**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def password_url(redis_server: RedisServer) -> Iterator[str]:
    """A URL with the user and password of a Redis user made for the test."""
    user, password = f"u{uuid.uuid4().hex[:8]}", f"SECRET{uuid.uuid4().hex}"
    admin = redis_server.client()
    admin.execute_command("ACL", "SETUSER", user, "on", f">{password}", "~*", "&*", "+@all")
    yield f"redis://{user}:{password}@127.0.0.1:{redis_server.port}/0"
    admin.execute_command("ACL", "DELUSER", user)
    admin.close()


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


def _nest(depth: int) -> str:
    return "[" * depth + "]" * depth


# Each row: a command, its flags after --url/--namespace, and a fragment of the message.
# "{db}" in a flag becomes the test server's URL with that DB index.
BAD_FLAGS = [
    pytest.param("schedule", ["--at", "soon"], "--at must be epoch seconds", id="at-word"),
    pytest.param("schedule", ["--at", "-5"], "must not be negative", id="at-negative"),
    pytest.param("schedule", ["--at", "2030-01-01T00:00:00"], "naive datetime", id="at-naive"),
    pytest.param("schedule", ["--at", "1e400"], "finite", id="at-1e400"),
    pytest.param("schedule", ["--at", "nan"], "finite", id="at-nan"),
    pytest.param("schedule", ["--at", "1" + "0" * 400], "after the year 9999", id="at-huge"),
    pytest.param(
        "schedule", ["--at", "1", "--data", "{not json"], "--data must be JSON", id="data-bad"
    ),
    pytest.param("schedule", ["--at", "1", "--data", _nest(3000)], "nested", id="data-3000-deep"),
    pytest.param("schedule", ["--at", "1", "--data", _nest(101)], "nested", id="data-101-deep"),
    pytest.param("schedule", ["--at", "1", "--data", '{"x": NaN}'], "JSON", id="data-nan"),
    pytest.param("schedule", ["--at", "1", "--data", "9" * 5000], "JSON", id="data-5000-digits"),
    pytest.param(
        "schedule", ["--at", "1", "--data", '"\\ud800"'], "surrogate", id="data-surrogate"
    ),
    pytest.param("schedule", ["--at", "1", "--id", "a\nb"], "printable", id="id-newline"),
    pytest.param("schedule", ["--at", "1", "--id", "a\x1bb"], "printable", id="id-escape"),
    pytest.param("schedule", ["--at", "1", "--id", "cron:x:1"], "reserved", id="id-cron-prefix"),
    pytest.param("schedule", ["--at", "1", "--id", ""], "empty", id="id-empty"),
    pytest.param("schedule", ["--at", "1", "--type", "a|b"], "task_type", id="type-pipe"),
    pytest.param(
        "schedule", ["--at", "1", "--max-attempts", "0"], "from 1 to 1000", id="attempts-0"
    ),
    pytest.param("schedule", ["--at", "1", "--max-attempts", "1001"], "1000", id="attempts-1001"),
    pytest.param("schedule", ["--at", "1", "--max-attempts", "x"], "expected int", id="attempts-x"),
    pytest.param("schedule", ["--at", "1", "--namespace", "has space"], "namespace", id="ns-space"),
    pytest.param("schedule", ["--at", "1", "--url", "{db}99"], "DB index", id="url-db-99"),
    pytest.param("schedule", ["--at", "1", "--url", "http://x"], "--url", id="url-scheme"),
    pytest.param("stats", ["--log-level", "bogus"], "--log-level", id="log-level"),
    pytest.param("stats", ["--url", "{db}99"], "DB index", id="stats-url-db-99"),
    pytest.param("worker", ["--lease", "inf"], "lease_s must be from 0.1", id="lease-inf"),
    pytest.param("worker", ["--lease", "nan"], "lease_s", id="lease-nan"),
    pytest.param("worker", ["--lease", "0"], "lease_s", id="lease-0"),
    pytest.param("worker", ["--lease", "-1"], "lease_s", id="lease-negative"),
    pytest.param("worker", ["--lease", "30s"], "expected float", id="lease-unit"),
    pytest.param("worker", ["--concurrency", "0"], "concurrency", id="concurrency-0"),
    pytest.param("worker", ["--concurrency", "5000"], "1024", id="concurrency-5000"),
    pytest.param("worker", ["--shutdown-grace", "-1"], "shutdown_grace_s", id="grace-neg"),
    pytest.param("worker", ["--shutdown-grace", "inf"], "shutdown_grace_s", id="grace-inf"),
    pytest.param(
        "dead", ["list", "--limit", "-1"], "--limit must be an int from 0", id="limit-neg"
    ),
    pytest.param("dead", ["retry"], "needs a task id", id="retry-no-id"),
    pytest.param("dead", ["retry", "a\nb"], "printable", id="retry-newline"),
    pytest.param("dead", ["purge", "a\x01b"], "printable", id="purge-control"),
    pytest.param("nonsense", [], "invalid choice", id="no-such-command"),
]


@pytest.mark.parametrize(("command", "flags", "message"), BAD_FLAGS)
def test_bad_flag_is_one_line_exit_2_and_writes_nothing(
    sched: Scheduler, command: str, flags: list[str], message: str
) -> None:
    kw = sched.redis.connection_pool.connection_kwargs
    url = f"redis://{kw['host']}:{kw['port']}/"
    flags = [f.replace("{db}", url) for f in flags]
    base = ["--url", f"{url}0", "--namespace", sched.namespace]
    if command == "worker":
        base += ["--handlers", "tests.scheduler.recording_handlers:HANDLERS"]
    before = snapshot(sched.redis)
    out = cli(command, *base, *flags) if command != "nonsense" else cli(command)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert out.stderr.endswith("\n") and out.stderr.count("\n") == 1, out.stderr
    assert message in out.stderr, out.stderr
    assert snapshot(sched.redis) == before


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
    # A refused connection is said as such: nothing listens there, Redis is not slow.
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr == (
        "error: connecting: Connection refused by redis://127.0.0.1:1/0 (is Redis running there?)\n"
    )
    assert "Traceback" not in out.stderr and out.stderr.count("\n") == 1


def test_worker_waits_for_an_unreachable_redis() -> None:
    # Checking the URL at start must not turn "Redis is still starting" into an exit.
    handlers = ["--handlers", "tests.scheduler.recording_handlers:HANDLERS"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "duetime", "worker", "--url", "redis://127.0.0.1:1/0", *handlers],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=3)
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_help_shows_no_password_from_duetime_url() -> None:
    for command in ("worker", "schedule", "stats", "cron", "dead"):
        out = cli(command, "--help", env={"DUETIME_URL": "redis://u:SECRET@h:1/0"})
        assert out.returncode == 0, out.stderr
        assert "SECRET" not in out.stdout + out.stderr
        assert "redis://u:***@h:1/0" in " ".join(out.stdout.split())


def test_url_file_keeps_the_password_off_the_command_line(
    password_url: str, namespace: str, tmp_path: Path
) -> None:
    url_file = tmp_path / "url"
    url_file.write_text(f"\n{password_url}\n")
    out = cli("stats", "--url-file", str(url_file), "--namespace", namespace, "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["due"] == 0
    assert out.stderr == ""


def test_duetime_url_from_the_environment_is_used(password_url: str, namespace: str) -> None:
    out = cli("stats", "--namespace", namespace, "--json", env={"DUETIME_URL": password_url})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["due"] == 0


def test_a_password_in_url_is_warned_about_and_never_echoed(
    password_url: str, namespace: str
) -> None:
    out = cli("stats", "--url", password_url, "--namespace", namespace)
    assert out.returncode == 0, out.stderr
    assert "visible to every user" in out.stderr and "--url-file" in out.stderr
    wrong = password_url.replace("SECRET", "WRONG")
    out = cli("stats", "--url", wrong, "--namespace", namespace)
    # A wrong password is the user's to fix: a usage error, like a DB that is not there.
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "WRONG" not in out.stderr and "SECRET" not in out.stderr
    assert "Redis refused the connection" in out.stderr.splitlines()[-1], out.stderr


def test_url_file_mistakes_are_clear_errors(tmp_path: Path) -> None:
    missing = cli("stats", "--url-file", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "--url-file: cannot read" in missing.stderr
    (tmp_path / "empty").write_text("\n  \n")
    empty = cli("stats", "--url-file", str(tmp_path / "empty"))
    assert empty.returncode == 2 and "holds no URL" in empty.stderr
    both = cli("stats", "--url", "redis://h/0", "--url-file", str(tmp_path / "empty"))
    assert both.returncode == 2 and "not allowed with" in both.stderr
    (tmp_path / "bad").write_text("http://u:SECRET@h/0\n")
    bad = cli("stats", "--url-file", str(tmp_path / "bad"))
    assert bad.returncode == 2 and "SECRET" not in bad.stderr, bad.stderr
    assert "http://u:***@h/0" in bad.stderr and "Traceback" not in bad.stderr

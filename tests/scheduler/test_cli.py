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
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "WRONG" not in out.stderr and "SECRET" not in out.stderr
    assert out.stderr.splitlines()[-1].startswith("error: stats: Redis refused it"), out.stderr


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
    assert bad.returncode == 1 and "SECRET" not in bad.stderr, bad.stderr
    assert "http://u:***@h/0" in bad.stderr and "Traceback" not in bad.stderr

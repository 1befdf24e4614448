"""Redis refusing a call (ACL ``NOPERM``): one clear line, never a traceback a second."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from duetime import Scheduler
from tests.conftest import ROOT, AclUsers
from tests.scheduler.test_cli import cli

BASE = "ACL SETUSER x reset on >pw ~dt:{shop}:* &dt:{shop}:* "
# What a producer may do: no leases key (so no claim), no TIME (so no cron tick), no
# SUBSCRIBE (so no wake-ups).
PRODUCER = (
    "ACL SETUSER producer reset on >pw ~dt:{shop}:tasks ~dt:{shop}:due ~dt:{shop}:done "
    "~dt:{shop}:errors &dt:{shop}:* +ping +evalsha +script|load +script|exists "
    "+hget +hset +hsetnx +hdel +zadd +zrange +zrem +zscore +publish"
)


def url_of(sched: Scheduler) -> str:
    kw = sched.redis.connection_pool.connection_kwargs
    return f"redis://{kw['username']}:{kw['password']}@{kw['host']}:{kw['port']}/0"


def test_cli_names_the_refused_command_in_one_line_and_exits_1(
    acl_users: AclUsers, namespace: str
) -> None:
    no_evalsha = acl_users.make(BASE + "+ping")
    out = cli("stats", "--namespace", namespace, env={"DUETIME_URL": url_of(no_evalsha)})
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1, out.stderr
    assert out.stderr.startswith("error: stats: Redis refused it: ")
    assert "'evalsha' command" in out.stderr and "Least privilege" in out.stderr


def test_cli_names_the_commands_of_a_script_refused_inside(
    acl_users: AclUsers, namespace: str
) -> None:
    no_zadd = acl_users.make(BASE + "+ping +evalsha +script|load +get +hsetnx +zrange +publish")
    env = {"DUETIME_URL": url_of(no_zadd)}
    out = cli("schedule", "--namespace", namespace, "--type", "t", "--at", "0", env=env)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1, out.stderr
    assert (
        "script 'schedule'" in out.stderr
        and "hdel hget hset hsetnx publish zadd zrange zrem zscore" in out.stderr
    )
    assert "pw" not in out.stderr.replace("password", "")


def start(args: list[str], url: str, err: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), DUETIME_URL=url)
    with open(err, "wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "duetime", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def test_refused_worker_and_cron_log_one_error_each_not_a_traceback_a_second(
    acl_users: AclUsers, namespace: str, tmp_path: Path
) -> None:
    producer = acl_users.make(PRODUCER)
    url = url_of(producer)
    handlers = "tests.scheduler.recording_handlers:HANDLERS"
    worker = start(
        ["worker", "--namespace", namespace, "--handlers", handlers], url, tmp_path / "w"
    )
    cron = start(["cron", "--namespace", namespace], url, tmp_path / "c")
    try:
        time.sleep(5)
        assert worker.poll() is None and cron.poll() is None, "a refusal must not end them"
    finally:
        stop(worker)
        stop(cron)
    for name, expected in [
        ("w", {"worker", "cron ticker", "wake listener"}),
        ("c", {"cron ticker"}),
    ]:
        text = (tmp_path / name).read_text()
        assert "Traceback" not in text, text
        errors = [line for line in text.splitlines() if " ERROR " in line]
        assert len(errors) == len(expected), text
        for who in expected:
            assert (
                sum(
                    f"duetime.{'cron' if who == 'cron ticker' else 'worker'}: {who}" in e
                    for e in errors
                )
                == 1
            ), text
        assert all("Redis refused" in e and "Least privilege" in e for e in errors), text

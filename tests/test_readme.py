"""The README's quickstart works as written (against a redis-server of the test's own)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from duetime import Scheduler
from duetime.chaos.system.redis_server import RedisServer
from tests.conftest import ROOT, TLSRedis, readme_block


def quickstart() -> str:
    text = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- quickstart:[^>]*-->\n```python\n(.*?)```", text, re.DOTALL)
    assert m, "README has no quickstart block"
    return m.group(1)


def test_readme_quickstart_runs_as_written(redis_server: RedisServer) -> None:
    code = quickstart()
    assert "redis://127.0.0.1:6379/0" in code
    code = code.replace("redis://127.0.0.1:6379/0", redis_server.url)
    # Twice against one Redis: the id of the task the first run cancelled is free again.
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert lines[0].startswith("Status.SCHEDULED Stats(scheduled=2"), lines
        assert lines[1].startswith("attempt 1: mail user 42, key shop/")
        assert lines[-1] == "Status.DONE"


def test_readme_mtls_example_runs_as_written(mtls_redis: TLSRedis) -> None:
    code = readme_block("tls-example")
    assert "rediss://127.0.0.1:6380/0" in code
    code = code.replace("rediss://127.0.0.1:6380/0", mtls_redis.url)
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=mtls_redis.certs,  # where the README's commands made tls/
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    tid = out.stdout.strip()
    sched = Scheduler.from_url(
        mtls_redis.url,
        namespace="shop",
        ssl_ca_certs=mtls_redis.path("ca.crt"),
        ssl_certfile=mtls_redis.path("client.crt"),
        ssl_keyfile=mtls_redis.path("client.key"),
    )
    try:
        info = sched.get(tid)
        assert info is not None and info.task_type == "send_email"
    finally:
        sched.close()


def test_readme_daylight_saving_snippet_prints_what_it_says() -> None:
    text = (ROOT / "README.md").read_text()
    m = re.search(
        r"<!-- dst-snippet:[^>]*-->\n```python\n(.*?)```\nprints\n```\n(.*?)```", text, re.DOTALL
    )
    assert m, "README has no daylight-saving snippet"
    out = subprocess.run(
        [sys.executable, "-c", m.group(1)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout == m.group(2)


@pytest.mark.slow
def test_readme_chaos_quickstart_runs_as_written(tmp_path: Path) -> None:
    """The user's handlers, scenario file and test from the README, run by pytest (~10 s;
    the plugin's default-run test is ``tests/chaos/test_pytest_plugin.py``)."""
    block = readme_block("chaos-quickstart")
    files = re.split(r"^# (\S+\.py)\n", block, flags=re.MULTILINE)
    assert files[0].strip() == "" and len(files) == 7, files
    for name, text in zip(files[1::2], files[2::2], strict=True):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert sorted(files[1::2]) == [
        "myapp/tasks.py",
        "scenarios/signup_burst.py",
        "tests/test_chaos.py",
    ]
    # -p: the plugin's entry point exists once duetime is installed from this tree.
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "duetime.chaos.pytest_plugin",
            "tests/test_chaos.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.search(r"passed  signup_burst aof=everysec seed 1  file://\S+/report\.md", out.stdout)

"""``python -m duetime``: the command names are a contract."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from duetime import NewTask, Scheduler, Status, worker_protocol
from duetime.chaos.system.redis_server import RedisServer
from duetime.cli import build_parser
from tests.conftest import ROOT, readme_block
from tests.scheduler.test_topologies import _wait_in_sync
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
    pytest.param(
        "schedule",
        ["--at", "2030-01-01T00:00:00"],
        "has no UTC offset: add one, e.g. 2030-01-01T00:00:00+00:00",
        id="at-naive",
    ),
    pytest.param(
        "schedule", ["--at", "2030-01-01"], "e.g. 2030-01-01T00:00:00+00:00", id="at-date-only"
    ),
    pytest.param("schedule", ["--at", "1"], "required: --type", id="type-missing"),
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
    pytest.param("cron", ["--heartbeat", "0.5"], "--heartbeat must be", id="heartbeat-short"),
    pytest.param("dead", ["list", "a", "b"], "unrecognized arguments", id="list-two-ids"),
    pytest.param("dead", ["retry", "a\nb"], "printable", id="retry-newline"),
    pytest.param("dead", ["purge", "a\x01b"], "printable", id="purge-control"),
    pytest.param("nonsense", [], "invalid choice", id="no-such-command"),
    pytest.param(
        "schedule", ["--at", "1", "--durability", "fast"], "expected none, wait:N", id="dur-word"
    ),
    pytest.param("schedule", ["--at", "1", "--durability", "wait"], "wait:N", id="dur-no-count"),
    pytest.param("schedule", ["--at", "1", "--durability", "wait:x"], "wait:N", id="dur-count-x"),
    pytest.param("schedule", ["--at", "1", "--durability", "wait:-1"], "wait:N", id="dur-neg"),
    pytest.param("schedule", ["--at", "1", "--durability", "wait:0"], "use none", id="dur-wait-0"),
    pytest.param("schedule", ["--at", "1", "--durability", "waitaof:1001"], "1000", id="dur-1001"),
    pytest.param(
        "schedule", ["--at", "1", "--durability", "wait:" + "9" * 5000], "wait:N", id="dur-huge"
    ),
    pytest.param(
        "schedule", ["--at", "1", "--durability", "none,timeout=1"], "no timeout", id="dur-none-t"
    ),
    pytest.param(
        "schedule", ["--at", "1", "--durability", "wait:1,timeout=x"], "seconds", id="dur-t-x"
    ),
    pytest.param(
        "schedule", ["--at", "1", "--durability", "wait:1,timeout=nan"], "timeout_s", id="dur-nan"
    ),
    pytest.param(
        "schedule", ["--at", "1", "--durability", "wait:1,timeout=-1"], "timeout_s", id="dur-t-neg"
    ),
    pytest.param(
        "schedule", ["--at", "1", "--durability", "wait:1,lag=1"], "timeout=SECONDS", id="dur-key"
    ),
    pytest.param("stats", ["--durability", "wait:1"], "unrecognized", id="dur-on-stats"),
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
    if command == "schedule" and "--type" not in flags and flags != ["--at", "1"]:
        base += ["--type", "t"]
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


def base_flags(sched: Scheduler, namespace: str | None = None) -> list[str]:
    kw = sched.redis.connection_pool.connection_kwargs
    url = f"redis://{kw['host']}:{kw['port']}/0"
    return ["--url", url, "--namespace", namespace or sched.namespace]


@pytest.fixture
def seeded(sched: Scheduler) -> Scheduler:
    """A namespace with one dead letter, ``dead-1``, and one pending task, ``pending-1``."""
    sched.schedule_task(0, {"n": 1}, task_type="t", task_id="dead-1", max_attempts=1)
    (task,) = worker_protocol.claim(sched, 60_000, 10).tasks
    worker_protocol.fail(sched, task.task_id, task.token, "boom", None)
    sched.schedule_task(2_000_000_000, None, task_type="t", task_id="pending-1")
    return sched


NOT_DEAD = "error: no dead letter {id!r} in namespace {ns!r} (dead list shows them)\n"

# Each row: the command after --url/--namespace, its exit status, and what stdout and
# stderr must be ("{ns}" is the namespace; a row's stream is matched as a regex).
CLI_CASES = [
    pytest.param(["dead", "purge", "nope-123"], 1, "", NOT_DEAD, id="purge-unknown-id"),
    pytest.param(["dead", "retry", "nope-123"], 1, "", NOT_DEAD, id="retry-unknown-id"),
    pytest.param(["dead", "list", "nope-123"], 1, "", NOT_DEAD, id="list-unknown-id"),
    pytest.param(["dead", "retry", "pending-1"], 1, "", NOT_DEAD, id="retry-not-dead"),
    pytest.param(["dead", "purge", "pending-1"], 1, "", NOT_DEAD, id="purge-not-dead"),
    pytest.param(
        ["dead", "list", "dead-1"], 0, '{"task_id": "dead-1", .*"boom"}\n', "", id="list-one"
    ),
    pytest.param(["dead", "list"], 0, '{"task_id": "dead-1", [^\n]*}\n', "", id="list-all"),
    pytest.param(
        ["dead", "retry", "dead-1"],
        0,
        "requeued dead letter 'dead-1': due now, with a fresh set of attempts\n",
        "",
        id="retry-ok",
    ),
    pytest.param(
        ["dead", "purge", "dead-1"], 0, "purged dead letter 'dead-1'\n", "", id="purge-one"
    ),
    pytest.param(["dead", "purge"], 0, "purged 1 dead letter\n", "", id="purge-all"),
    pytest.param(["stats"], 0, "(?s) +scheduled  1\n.* +dead  1\n.*", "", id="stats"),
    pytest.param(
        ["schedule", "--type", "t", "--at", "1", "--id", "pending-1"],
        0,
        "pending-1\n",
        "note: task 'pending-1' already exists in namespace 't[0-9a-f]+' "
        "\\(pending, running or dead, or finished at this same time\\): nothing scheduled\n",
        id="schedule-id-in-use",
    ),
    pytest.param(
        ["schedule", "--type", "t", "--at", "1", "--id", "fresh-1"],
        0,
        "fresh-1\n",
        "",
        id="schedule-new-id",
    ),
]


@pytest.mark.parametrize(("command", "status", "stdout", "stderr"), CLI_CASES)
def test_cli_outcomes(
    seeded: Scheduler, command: list[str], status: int, stdout: str, stderr: str
) -> None:
    tid = command[2] if len(command) > 2 else ""
    out = cli(*command, *base_flags(seeded))
    assert out.returncode == status, out.stderr
    if stderr == NOT_DEAD:
        assert out.stderr == NOT_DEAD.format(id=tid, ns=seeded.namespace)
    else:
        assert re.fullmatch(stderr, out.stderr), out.stderr
    assert re.fullmatch(stdout, out.stdout), out.stdout


def test_a_retried_dead_letter_and_a_purged_one_are_gone_from_the_list(seeded: Scheduler) -> None:
    assert cli("dead", "retry", "dead-1", *base_flags(seeded)).returncode == 0
    info = seeded.get("dead-1")
    assert info is not None and info.status is Status.SCHEDULED and info.attempts == 0
    assert seeded.dead_letters() == []


def test_stats_of_an_empty_namespace_says_so_on_stderr_only(sched: Scheduler) -> None:
    empty = base_flags(sched, f"{sched.namespace}-typo")
    out = cli("stats", *empty)
    assert out.returncode == 0
    assert out.stdout.split() == [w for k in STATS_KEYS for w in (k, "0")]
    assert out.stderr == (
        f"note: no task, schedule or dead letter in namespace '{sched.namespace}-typo' "
        "(is the namespace right?)\n"
    )
    as_json = cli("stats", "--json", *empty)
    assert as_json.returncode == 0 and as_json.stderr == ""
    assert json.loads(as_json.stdout) == dict.fromkeys(STATS_KEYS, 0)
    # A namespace holding only a recurring schedule is not empty.
    sched.schedule_recurring("r", "0 3 * * *", task_type="t")
    assert cli("stats", *base_flags(sched)).stderr == ""


STATS_KEYS = ["scheduled", "due", "in_flight", "retrying", "dead", "done", "lost"]


def test_help_is_for_users_and_shows_every_default() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DUETIME_URL"}
    top = subprocess.run(
        [sys.executable, "-m", "duetime", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert top.returncode == 0 and top.stderr == ""
    for internal in ("``", "The only place", "reads the environment"):
        assert internal not in top.stdout
    assert "examples:" in top.stdout and "exits with status 2" in top.stdout
    defaults = {
        "worker": ["(default: 32)", "(default: 30.0)", "(default: INFO)"],
        "schedule": ["(default: null)", "(default: 5)"],
        "stats": [],
        "cron": [],
        "dead": ["(default: 100)"],
    }
    for command, shown in defaults.items():
        out = subprocess.run(
            [sys.executable, "-m", "duetime", command, "--help"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert out.returncode == 0 and out.stderr == "", out.stderr
        text = " ".join(out.stdout.split())
        assert "``" not in text
        assert "(default: default)" in text  # --namespace
        assert "else redis://127.0.0.1:6379/0" in text  # --url, with $DUETIME_URL unset
        for default in shown:
            assert default in text, (command, default)
        assert "example:" in out.stdout


def test_every_flag_has_help() -> None:
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, sub in commands.choices.items():
        for action in sub._actions:
            assert action.help, (name, action.dest)


def test_dead_purge_of_many_counts_on_stderr_while_it_runs(sched: Scheduler) -> None:
    sched.schedule_many([NewTask(0, None, "t", f"d-{i}", 1) for i in range(1200)])
    claimed = worker_protocol.claim(sched, 60_000, 1200).tasks
    for task in claimed:
        worker_protocol.fail(sched, task.task_id, task.token, "boom", None)
    assert len(claimed) == 1200
    # --progress-after 0: from the first batch (by default, once it has run 2 s).
    out = cli("dead", "purge", *base_flags(sched), "--progress-after", "0")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "purged 1200 dead letters\n"
    # In a pipe: a plain line, not one rewritten in place; then at most one every 5 s.
    assert re.fullmatch(r"dead purge: 1,000 dead letters deleted \(\d+ s\)\n", out.stderr)
    assert sched.stats().dead == 0
    bad = cli("dead", "purge", *base_flags(sched), "--progress-after", "-1")
    assert bad.returncode == 2 and "--progress-after must be from 0 to 86400" in bad.stderr


def _script_calls(server: RedisServer, command: str) -> int:
    with server.client(decode_responses=True) as c:
        return int(c.info("commandstats").get(f"cmdstat_{command}", {"calls": 0})["calls"])


def test_schedule_waits_for_waitaof_and_says_when_a_replica_does_not_confirm(
    valkey_with_replica: tuple[RedisServer, RedisServer],
) -> None:
    primary, replica = valkey_with_replica
    _wait_in_sync(replica)
    line = readme_block("durability-cli").strip()
    assert "redis://127.0.0.1:6379/0" in line and "--durability waitaof:1" in line
    readme = line.replace("redis://127.0.0.1:6379/0", primary.url).split()
    assert readme[:3] == ["python", "-m", "duetime"]
    out = cli(*readme[3:])
    assert out.returncode == 0 and out.stdout == "welcome-42\n", out.stderr
    assert _script_calls(primary, "waitaof") >= 1
    keys = Scheduler.from_url(primary.url, namespace="shop").keys
    with replica.client() as on_replica:
        assert on_replica.hexists(keys.tasks, "welcome-42")  # confirmed: the replica has it
    base = ["schedule", "--url", primary.url, "--namespace", "cli-durable", "--type", "t"]
    replica.pause()
    try:
        late = cli(*base, "--at", "0", "--id", "late", "--durability", "waitaof:1,timeout=0.5")
    finally:
        replica.resume()
    assert late.returncode == 1 and late.stdout == ""
    assert late.stderr.count("\n") == 1 and "Traceback" not in late.stderr
    assert "WAITAOF 1 1 confirmed [1, 0] within 0.5s" in late.stderr, late.stderr
    assert "retry with task_id='late'" in late.stderr
    again = cli(*base, "--at", "0", "--id", "late", "--durability", "waitaof:1")
    assert again.returncode == 0 and "already exists" in again.stderr  # the retry is safe


def test_schedule_waits_for_wait_and_a_server_without_waitaof_refuses_it(
    system_with_replica: tuple[RedisServer, RedisServer],
) -> None:
    primary, replica = system_with_replica
    if primary.version >= (7, 2):
        pytest.skip(f"this redis-server ({primary.version}) has WAITAOF")
    _wait_in_sync(replica)
    base = ["schedule", "--url", primary.url, "--namespace", "cli-wait", "--type", "t"]
    out = cli(*base, "--at", "0", "--id", "one", "--durability", "wait:1")
    assert out.returncode == 0 and out.stdout == "one\n", out.stderr
    assert _script_calls(primary, "wait") >= 1
    with primary.client() as root:
        before = snapshot(root)
        refused = cli(*base, "--at", "0", "--id", "two", "--durability", "waitaof:1")
        assert snapshot(root) == before  # nothing written
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert "which has no WAITAOF: durability fsync=True needs Redis 7.2" in refused.stderr

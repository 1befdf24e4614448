"""Metrics: scraped from a real worker process and an exporter, checked against what ran."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from duetime import NewTask, Scheduler, Status, Task, Worker
from duetime.chaos.system.redis_server import free_port
from duetime.cli import main
from duetime.lease_events import LeaseChange
from duetime.metrics import NamespaceCollector, WorkerMetrics
from duetime.presence import ALIVE_S, Presence, workers_alive
from tests.conftest import ROOT, Executions, WorkerProcesses

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=5) as reply:
        text = reply.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of every sample of ``name`` whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def wait_until(pred: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_worker_s_metrics_count_what_it_did(
    sched: Scheduler, workers: WorkerProcesses, executions: Executions
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    a = workers.start(lease=1.0, extra=("--metrics-port", str(port), "--metrics-addr", "127.0.0.1"))
    exporter_url, exporter = start_exporter(workers.url, sched.namespace)
    wait_until(lambda: _answers(url))
    ns = sched.namespace
    now = time.time()
    ok = [sched.schedule_task(now + 0.3 * i, {}, task_type="record") for i in range(3)]
    flaky = sched.schedule_task(now, {"fail_attempts": 1}, task_type="record", max_attempts=3)
    doomed = sched.schedule_task(now, {"fail_attempts": 9}, task_type="record", max_attempts=1)
    unknown = sched.schedule_task(now, {}, task_type="nobody_handles_this")
    for tid in (*ok, flaky):
        _wait_status(sched, tid, Status.DONE)
    for tid in (doomed, unknown):
        _wait_status(sched, tid, Status.DEAD)

    # A run whose ack is fenced off: A paused past its lease, B runs the task again.
    paused = sched.schedule_task(time.time(), {"sleep": 1.0}, task_type="record")
    executions.wait_for(lambda ev: any(e["task_id"] == paused for e in ev))
    os.killpg(a.pid, signal.SIGSTOP)
    b = workers.start(lease=1.0, extra=("--no-cron",))
    executions.wait_for(lambda ev: any(e["event"] == "end" and e["task_id"] == paused for e in ev))
    os.killpg(a.pid, signal.SIGCONT)
    deadline = time.monotonic() + 10
    while f"ack of {paused} refused" not in workers.stderr_of(a):
        assert time.monotonic() < deadline, workers.stderr_of(a)
        time.sleep(0.05)

    m = scrape(url)
    runs = [e for e in executions.read() if e["pid"] == a.pid]
    starts = [e for e in runs if e["event"] == "start"]
    firsts = [e for e in starts if e["attempt"] == 1]
    rec = {"namespace": ns, "task_type": "record"}
    # Claims: every handler start of A, and the unknown type's claim (no handler ran).
    assert value(m, "duetime_tasks_claimed_total", **rec) == len(starts)
    assert value(m, "duetime_tasks_claimed_total", namespace=ns) == len(starts) + 1
    # Succeeded: A's ends, less the one whose ack was fenced off.
    ends = [e for e in runs if e["event"] == "end"]
    assert value(m, "duetime_tasks_succeeded_total", **rec) == len(ends) - 1 == 4
    assert value(m, "duetime_tasks_failed_total", **rec) == 2  # flaky once, doomed once
    assert value(m, "duetime_tasks_retried_total", **rec) == 1
    assert value(m, "duetime_tasks_dead_lettered_total", **rec) == 1
    unknown_labels = {"namespace": ns, "task_type": "nobody_handles_this"}
    assert value(m, "duetime_tasks_failed_total", **unknown_labels) == 1
    assert value(m, "duetime_tasks_dead_lettered_total", **unknown_labels) == 1
    assert value(m, "duetime_fenced_changes_total", kind="ack", **rec) == 1
    assert value(m, "duetime_fenced_changes_total", kind="fail") == 0
    assert value(m, "duetime_tasks_released_total") == 0
    assert value(m, "duetime_early_starts_total") == 0
    # Lateness: one observation per first run, none early, none late by a second.
    assert value(m, "duetime_task_lateness_seconds_count", **rec) == len(firsts) == 6
    assert 0 <= value(m, "duetime_task_lateness_seconds_sum", **rec) < len(firsts) * 1.0
    assert value(m, "duetime_task_lateness_seconds_bucket", le="1.0", **rec) == len(firsts)
    # Handler durations: every handler run of A; the paused one slept a second.
    assert value(m, "duetime_handler_duration_seconds_count", **rec) == len(starts)
    assert value(m, "duetime_handler_duration_seconds_sum", **rec) >= 1.0
    assert value(m, "duetime_handler_duration_seconds_bucket", le="0.5", **rec) == len(starts) - 1
    assert "refused" not in workers.stderr_of(b)

    # The exporter's gauges: what stats() says, with a task due since 5 s and both alive.
    sched.schedule_task(time.time() + 600, {}, task_type="later")
    sched.schedule_task(time.time() - 5, {}, task_type="nobody_handles_this", task_id="held")
    wait_until(lambda: (info := sched.get("held")) is not None and info.status is Status.DEAD)
    os.killpg(a.pid, signal.SIGSTOP)  # A and B hold nothing now; B claims what is due
    os.killpg(b.pid, signal.SIGSTOP)
    try:
        sched.schedule_task(time.time() - 5, {}, task_type="record", task_id="waiting")
        try:
            g = scrape(exporter_url)
        finally:
            exporter.send_signal(signal.SIGTERM)
            _, err = exporter.communicate(timeout=10)
        assert exporter.returncode == 0, err
        stats = sched.stats()
    finally:
        os.killpg(a.pid, signal.SIGCONT)
        os.killpg(b.pid, signal.SIGCONT)
    for state in ("due", "scheduled", "in_flight", "retrying", "dead"):
        assert value(g, "duetime_tasks", namespace=ns, state=state) == getattr(stats, state)
    assert (stats.due, stats.scheduled, stats.dead) == (1, 1, 3)
    assert 5 <= value(g, "duetime_oldest_due_age_seconds", namespace=ns) < 30
    assert value(g, "duetime_workers_alive", namespace=ns) == 2
    assert value(g, "duetime_redis_up", namespace=ns) == 1


def start_exporter(url: str, namespace: str) -> tuple[str, subprocess.Popen[bytes]]:
    """``python -m duetime metrics`` for ``namespace``; the caller stops it."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "duetime", "metrics", "--url", url, "--namespace", namespace,
         "--port", str(port), "--addr", "127.0.0.1"],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stderr=subprocess.PIPE,
    )  # fmt: skip
    return f"http://127.0.0.1:{port}/metrics", proc


def test_early_starts_and_refusals_are_counted_from_the_changes_a_worker_reports() -> None:
    metrics = WorkerMetrics("n")
    task = Task("t1", "mail", {}, 1, 3, due_at=1000.0, idempotency_key="k", token=7)

    def change(action: Any, accepted: bool = True, claimed_at: float | None = None) -> LeaseChange:
        return LeaseChange(action, "t1", 7, accepted, 0.0, 1, task=task, claimed_at=claimed_at)

    metrics.observe(change("claim", claimed_at=999.999))  # a millisecond early
    metrics.observe(change("renew", accepted=False))
    metrics.observe(change("ack", accepted=False))
    r, labels = metrics.registry, {"namespace": "n", "task_type": "mail"}
    assert r.get_sample_value("duetime_early_starts_total", labels) == 1
    assert r.get_sample_value("duetime_task_lateness_seconds_count", labels) == 1
    for kind in ("renew", "ack"):
        assert r.get_sample_value("duetime_fenced_changes_total", {**labels, "kind": kind}) == 1
    assert r.get_sample_value("duetime_tasks_succeeded_total", labels) == 0  # shown at 0
    metrics.observe(change("claim", claimed_at=1000.0))  # on the dot: not early
    assert r.get_sample_value("duetime_early_starts_total", labels) == 1


def test_records_set_aside_lost_or_evicted_are_counted() -> None:
    metrics = WorkerMetrics("n")
    metrics.observe(LeaseChange("quarantine", "bad", 0, True, 0.0, reason="unreadable"))
    metrics.observe(LeaseChange("lost", "", 0, True, 0.0, count=3))
    metrics.observe(LeaseChange("evicted", "", 0, True, 0.0, count=40))
    r = metrics.registry
    unreadable = {"namespace": "n", "task_type": "unreadable"}
    assert r.get_sample_value("duetime_tasks_dead_lettered_total", unreadable) == 1
    assert r.get_sample_value("duetime_records_lost_total", {"namespace": "n"}) == 3
    assert r.get_sample_value("duetime_redis_keys_evicted_total", {"namespace": "n"}) == 40
    assert (
        r.get_sample_value("duetime_fenced_changes_total", {**unreadable, "kind": "lost"}) is None
    )


def test_released_and_scheduled_are_counted(sched: Scheduler, redis_server: Any) -> None:
    metrics = WorkerMetrics(sched.namespace)
    producer = Scheduler.from_url(
        redis_server.url, namespace=sched.namespace, on_scheduled=metrics.scheduled
    )
    started = threading.Event()

    def hang(task: Task) -> None:
        started.set()
        time.sleep(2)

    created = producer.submit(
        [NewTask(0, {}, "hang", "h1"), NewTask(time.time() + 600, {}, "later", "l1")]
    )
    again = producer.submit([NewTask(time.time() + 600, {}, "later", "l1")])  # nothing created
    assert [s.created for s in created + again] == [True, True, False]
    worker = Worker(
        producer,
        metrics.instrument({"hang": hang}),
        shutdown_grace_s=0,
        observer=metrics.observe,
    )
    thread = threading.Thread(target=worker.run)
    thread.start()
    assert started.wait(10)
    wait_until(lambda: worker.name in workers_alive(sched))
    worker.stop()
    thread.join(10)
    assert workers_alive(sched) == {}  # a worker that stops says so
    r = metrics.registry
    ns = sched.namespace
    assert (
        r.get_sample_value("duetime_tasks_released_total", {"namespace": ns, "task_type": "hang"})
        == 1
    )
    for task_type in ("hang", "later"):
        labels = {"namespace": ns, "task_type": task_type}
        assert r.get_sample_value("duetime_tasks_scheduled_total", labels) == 1
    info = sched.get("h1")
    assert info is not None and info.status is Status.SCHEDULED  # handed back
    producer.close()


def test_a_silent_worker_is_forgotten_after_alive_s(clocked: Scheduler, clock: Any) -> None:
    a, b = Presence(clocked, "a"), Presence(clocked, "b")
    assert a.beat() == 1 and b.beat() == 2
    clock.advance(ALIVE_S - 1)
    assert a.beat() == 2
    clock.advance(2)  # b silent for ALIVE_S + 1
    assert a.beat() == 1
    assert clocked.redis.zrange(clocked.keys.workers, 0, -1) == [b"a"]  # b forgotten


def test_a_scrape_with_redis_down_says_so(sched: Scheduler) -> None:
    down = Scheduler.from_url(f"redis://127.0.0.1:{free_port()}/0", namespace="x")
    collected = list(NamespaceCollector(down).collect())
    assert [(f.name, f.samples[0].value) for f in collected] == [("duetime_redis_up", 0)]


def test_alert_rules_parse_and_name_metrics_that_exist() -> None:
    rules = yaml.safe_load((ROOT / "docs" / "alerts.yml").read_text())
    alerts = [r for g in rules["groups"] for r in g["rules"]]
    names = {r["alert"] for r in alerts}
    assert {"DuetimeEarlyStart", "DuetimeOldestDueTooOld", "DuetimeDeadLettersGrowing"} <= names
    exported = _metric_names()
    for rule in alerts:
        assert set(rule) >= {"alert", "expr", "labels", "annotations"}, rule
        used = {w for w in _words(rule["expr"]) if w.startswith("duetime_")}
        assert used and used <= exported, (rule["alert"], used - exported)


def _metric_names() -> set[str]:
    metrics = WorkerMetrics("n")
    names = set()
    for family in metrics.registry.collect():
        names |= {family.name + suffix for suffix in ("", "_total", "_bucket", "_sum", "_count")}
    return (
        names
        | {"duetime_tasks", "duetime_oldest_due_age_seconds", "duetime_workers_alive"}
        | {"duetime_redis_up"}
    )


def _words(expr: str) -> list[str]:
    import re

    return re.findall(r"[a-z_][a-z0-9_]*", expr)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except OSError:
        return False


def _wait_status(s: Scheduler, tid: str, status: Status) -> None:
    wait_until(lambda: (info := s.get(tid)) is not None and info.status is status)


def test_a_metrics_port_in_use_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        argv = ["worker", "--url", f"redis://127.0.0.1:{free_port()}/0", "--handlers",
                "tests.scheduler.recording_handlers:HANDLERS", "--metrics-port", port,
                "--metrics-addr", "127.0.0.1"]  # fmt: skip
        assert main(argv) == 1
    err = capsys.readouterr().err
    assert err == f"error: cannot serve metrics on 127.0.0.1:{port}: Address already in use\n"

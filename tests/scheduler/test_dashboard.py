"""The dashboard, in a real browser (Debian's chromium) against a real redis-server."""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from duetime import Scheduler, Status, Task, Worker, worker_protocol
from duetime.chaos.system.redis_server import free_port
from duetime.cli import main
from duetime.dashboard.lateness import buckets_of, quantile
from duetime.dashboard.server import create_app
from duetime.dashboard.trend import Trend
from duetime.metrics import WorkerMetrics, serve
from duetime.settings import RetryPolicy
from tests.conftest import ROOT

# The committed screenshot is refreshed on request only, so a test run leaves the tree clean:
# DUETIME_REFRESH_SCREENSHOTS=1 python -m pytest tests/scheduler/test_dashboard.py
COMMITTED_SCREENSHOT = ROOT / "reports" / "dashboard" / "dashboard.png"
STATES = ("due", "scheduled", "in_flight", "retrying", "dead", "done")


def wait_until(pred: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


class Workload:
    """A worker of two threads with tasks in every state: both threads held by ``hold``
    tasks, so due tasks stay due, until :meth:`let_go`."""

    def __init__(self, url: str, namespace: str) -> None:
        self.metrics = WorkerMetrics(namespace)
        self.sched = Scheduler.from_url(
            url,
            namespace=namespace,
            retry=RetryPolicy(max_attempts=3, backoff_base_s=300, backoff_cap_s=600),
        )
        self.healed = threading.Event()
        self.released = threading.Event()
        self.ran: list[str] = []
        self.worker = Worker(
            self.sched,
            self.metrics.instrument({"ok": self.ok, "fails": self.fails, "hold": self.hold}),
            concurrency=2,
            observer=self.metrics.observe,
        )
        self.thread = threading.Thread(target=self.worker.run)

    def ok(self, task: Task) -> None:
        self.ran.append(task.task_id)

    def fails(self, task: Task) -> None:
        if not self.healed.is_set():
            raise RuntimeError("the mail server said no")
        self.ran.append(task.task_id)

    def hold(self, task: Task) -> None:
        self.released.wait(30)

    def fill(self) -> None:
        s, now = self.sched, time.time()
        self.thread.start()
        s.schedule_task(now, {}, task_type="ok", task_id="welcome-mail")
        s.schedule_task(now, {"to": "a@example.com"}, task_type="fails", task_id="invoice-17",
                        max_attempts=1)  # fmt: skip
        s.schedule_task(now, {}, task_type="fails", task_id="sync-3")  # then waits 150 s+
        wait_until(lambda: (st := s.stats()).dead == 1 and st.retrying == 1 and st.done == 1)
        s.schedule_task(now, {}, task_type="hold", task_id="report-a")
        s.schedule_task(now, {}, task_type="hold", task_id="report-b")
        wait_until(lambda: s.stats().in_flight == 2)
        for i in range(3):
            s.schedule_task(now, {}, task_type="ok", task_id=f"due-{i}")
        for i in range(2):
            s.schedule_task(now + 3600, {}, task_type="ok", task_id=f"later-{i}")
        s.schedule_recurring("nightly-report", "0 3 * * *", task_type="ok",
                             timezone="Europe/Madrid", misfire="skip")  # fmt: skip

    def let_go(self) -> None:
        self.healed.set()
        self.released.set()

    def stop(self) -> None:
        self.let_go()
        self.worker.stop()
        if self.thread.is_alive():
            self.thread.join(15)
        self.sched.close()


@pytest.fixture
def workload(redis_server: Any, namespace: str) -> Iterator[Workload]:
    w = Workload(redis_server.url, namespace)
    try:
        yield w
    finally:
        w.stop()


def shown_counts(driver: Any, namespace: str) -> dict[str, int]:
    from selenium.webdriver.common.by import By

    cells = driver.find_elements(By.CSS_SELECTOR, f"#ns-{namespace} td[data-state]")
    return {c.get_attribute("data-state"): int(c.text) for c in cells}


def test_the_page_shows_stats_and_retries_a_dead_letter(
    browser: Any,
    dashboard_process: Callable[..., str],
    workload: Workload,
    redis_server: Any,
    tmp_path: Path,
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    ns = workload.sched.namespace
    workload.fill()
    port = free_port()
    stop_metrics = serve(workload.metrics.registry, port, "127.0.0.1")
    try:
        base = dashboard_process(
            "--url", redis_server.url, "--namespace", ns,
            "--metrics-url", f"http://127.0.0.1:{port}/metrics",
        )  # fmt: skip
        browser.get(base)
        stats = workload.sched.stats()
        assert {s: getattr(stats, s) for s in STATES} == {
            s: shown_counts(browser, ns)[s] for s in STATES
        }
        assert (stats.due, stats.scheduled, stats.in_flight) == (3, 3, 2)
        assert (stats.retrying, stats.dead, stats.done) == (1, 1, 1)
        page = browser.find_element(By.ID, f"ns-{ns}").text
        assert "nightly-report" in page and "skip" in page and "0 3 * * *" in page
        assert workload.worker.name in page  # alive: its heartbeat
        assert "invoice-17" in page and "the mail server said no" in page
        count = browser.find_element(By.CSS_SELECTOR, "td[data-lateness=count]").text
        assert int(count) == 5  # first runs claimed so far: every claim but none of due-*
        screenshot = tmp_path / "dashboard.png"
        if os.environ.get("DUETIME_REFRESH_SCREENSHOTS") == "1":
            screenshot = COMMITTED_SCREENSHOT
            screenshot.parent.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(screenshot))

        # Dismissing the confirmation changes nothing.
        retry = "tr[data-task='invoice-17'] button.retry"
        browser.find_element(By.CSS_SELECTOR, retry).click()
        WebDriverWait(browser, 5).until(expected_conditions.alert_is_present())
        browser.switch_to.alert.dismiss()
        assert workload.sched.stats().dead == 1

        workload.let_go()
        browser.find_element(By.CSS_SELECTOR, retry).click()
        WebDriverWait(browser, 5).until(expected_conditions.alert_is_present())
        browser.switch_to.alert.accept()
        WebDriverWait(browser, 5).until(
            lambda d: "invoice-17 is due again" in d.find_element(By.ID, "message").text
        )
        wait_until(lambda: "invoice-17" in workload.ran)
        info = workload.sched.get("invoice-17")
        assert info is not None and info.status is Status.DONE
        browser.get(base)
        assert shown_counts(browser, ns)["dead"] == workload.sched.stats().dead == 0
    finally:
        stop_metrics()


def dead_letter(sched: Scheduler, task_id: str) -> None:
    sched.schedule_task(0, {}, task_type="t", task_id=task_id, max_attempts=1)
    (task,) = worker_protocol.claim(sched, 10_000, 1).tasks
    worker_protocol.fail(sched, task.task_id, task.token, "RuntimeError: no", 0)


def test_a_post_without_the_page_s_secret_or_the_token_is_refused(sched: Scheduler) -> None:
    dead_letter(sched, "invoice-17")
    app = create_app({sched.namespace: sched}, token="s3cret", metrics_urls=[],
                     trends={sched.namespace: Trend()})  # fmt: skip
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    secret = page.split('name="form_secret" value="')[1].split('"')[0]
    form = {"namespace": sched.namespace, "task_id": "invoice-17"}
    for extra in ({}, {"form_secret": secret}, {"form_secret": secret, "token": "wrong"}):
        assert client.post("/dead/purge", data={**form, **extra}).status_code == 403
    assert sched.stats().dead == 1
    done = client.post("/dead/purge", data={**form, "form_secret": secret, "token": "s3cret"})
    assert done.status_code == 303 and "purged+invoice-17" in done.headers["Location"]
    assert sched.stats().dead == 0


def test_without_a_token_a_post_still_needs_the_page_s_secret(sched: Scheduler) -> None:
    dead_letter(sched, "invoice-18")
    app = create_app({sched.namespace: sched}, token=None, metrics_urls=[],
                     trends={sched.namespace: Trend()})  # fmt: skip
    client = app.test_client()
    form = {"namespace": sched.namespace, "task_id": "invoice-18"}
    assert client.post("/dead/retry", data=form).status_code == 403  # a cross-site post
    assert sched.stats().dead == 1
    page = client.get("/").get_data(as_text=True)
    secret = page.split('name="form_secret" value="')[1].split('"')[0]
    assert client.post("/dead/retry", data={**form, "form_secret": secret}).status_code == 303
    info = sched.get("invoice-18")
    assert info is not None and info.status is Status.SCHEDULED


def test_a_dashboard_reachable_from_other_machines_needs_a_token(
    redis_server: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DUETIME_DASHBOARD_TOKEN", raising=False)
    argv = ["dashboard", "--url", redis_server.url, "--host", "0.0.0.0", "--port", "1"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --host 0.0.0.0 is reachable from other machines")
    assert len(err.splitlines()) == 1


def test_without_its_extra_the_dashboard_says_what_to_install(
    redis_server: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "flask", None)  # what an install without the extra has
    monkeypatch.delitem(sys.modules, "duetime.dashboard.server")
    assert main(["dashboard", "--url", redis_server.url, "--namespace", "x"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the dashboard needs its extra: pip install 'duetime[dashboard]'")
    assert len(err.splitlines()) == 1


def test_lateness_quantiles_interpolate_within_buckets_as_prometheus_does() -> None:
    text = "\n".join(
        f'duetime_task_lateness_seconds_bucket{{namespace="{ns}",task_type="{t}",le="{le}"}} {n}'
        for ns, t, le, n in [
            ("a", "x", "0.1", 30), ("a", "x", "0.5", 60), ("a", "x", "+Inf", 60),
            ("a", "y", "0.1", 20), ("a", "y", "0.5", 40), ("a", "y", "+Inf", 40),
            ("b", "x", "0.1", 0), ("b", "x", "0.5", 0), ("b", "x", "+Inf", 5),
        ]
    )  # fmt: skip
    text = "# TYPE duetime_task_lateness_seconds histogram\n" + text + "\n"
    buckets = buckets_of(text, "a")
    assert buckets == {0.1: 50, 0.5: 100, math.inf: 100}
    assert quantile(0.5, buckets) == pytest.approx(0.1)
    assert quantile(0.9, buckets) == pytest.approx(0.1 + 0.4 * 40 / 50)
    assert quantile(0.5, buckets_of(text, "b")) == 0.5  # past the last bound: that bound

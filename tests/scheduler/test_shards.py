"""Sharded namespaces (``Scheduler(shards=N)``): where each shard's tag falls, how ids are
routed, the stored count and its refusal, and a 3-master Cluster with one namespace of
3 shards (the guarantee tests of the other files run on it too: topology "sharded").
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import pytest
import redis
from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

from duetime import InvalidInput, NewTask, Scheduler, Status, Worker, worker_protocol
from duetime.chaos.system.redis_cluster import LocalCluster
from duetime.chaos.system.redis_server import RedisServer
from duetime.errors import ShardsMismatch
from duetime.keys import Keys, routing_key, schedule_shard, shard_of, shard_tags
from tests.conftest import SHARDED
from tests.scheduler.test_cli import cli
from tests.scheduler.test_validation import snapshot

on_sharded_cluster = pytest.mark.parametrize("redis_server", ["sharded"], indirect=True)


# -- tags and routing: no Redis ------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 4, 5, 8])
def test_shard_i_lands_in_the_middle_of_the_ith_slot_range(n: int) -> None:
    tags = shard_tags("shop", n)
    assert tags == shard_tags("shop", n)  # every process derives the same tags
    assert len(set(tags)) == n
    width = REDIS_CLUSTER_HASH_SLOTS / n
    for i, tag in enumerate(tags):
        assert tag.startswith(f"shop#{i}")
        assert width * i + width / 4 <= key_slot(tag.encode()) < width * (i + 0.75)
    # A shard's tag is never another namespace's plain tag: '#' is not allowed in one.
    with pytest.raises(InvalidInput):
        Keys(tags[0])


def test_one_shard_is_the_plain_tag() -> None:
    assert shard_tags("shop", 1) == ["shop"]
    assert Keys("shop", tag="").tasks == "dt:{shop}:tasks"
    assert Keys("shop", tag="shop#1").tasks == "dt:{shop#1}:tasks"
    assert all(shard_of(f"id-{i}", 1) == 0 for i in range(100))


def test_ids_spread_evenly_and_cron_slot_tasks_follow_their_schedule() -> None:
    spread = Counter(shard_of(f"order-{i}", 3) for i in range(30_000))
    assert set(spread) == {0, 1, 2}
    assert all(9_000 < c < 11_000 for c in spread.values()), spread
    for name in ("daily", "a:b", "report:7", "x"):
        home = schedule_shard(name, 3)
        for slot in (1_800_000_000_000, 1_800_000_060_000):
            assert routing_key(f"cron:{name}:{slot}") == name.encode()
            assert shard_of(f"cron:{name}:{slot}", 3) == home
            assert shard_of(f"cron:{name}:{slot}".encode(), 3) == home
    # Not a slot id (no slot number): routed by the whole id.
    assert routing_key("cron:x:") == b"cron:x:"


# -- the stored count ----------------------------------------------------------------


def test_the_count_is_stored_on_first_use_and_read_by_the_others(
    redis_server: RedisServer, namespace: str
) -> None:
    unset = Scheduler.from_url(redis_server.url, namespace=namespace)
    assert unset.shards == 1 and unset.shard_keys() == [unset.keys]
    assert redis_server.client().exists(unset.keys.shards) == 0  # reading stores nothing
    first = Scheduler.from_url(redis_server.url, namespace=namespace, shards=SHARDED)
    assert first.shards == SHARDED
    later = Scheduler.from_url(redis_server.url, namespace=namespace)
    assert later.shards == SHARDED
    assert [k.tag for k in later.shard_keys()] == shard_tags(namespace, SHARDED)
    for s in (unset, first, later):
        s.close()


def test_a_different_count_is_refused_on_every_call_and_writes_nothing(
    redis_server: RedisServer, namespace: str
) -> None:
    Scheduler.from_url(redis_server.url, namespace=namespace, shards=3).schedule_task(0, None)
    r = redis_server.client()
    before = snapshot(r)
    wrong = Scheduler.from_url(redis_server.url, namespace=namespace, shards=2)
    calls = [
        lambda: wrong.schedule_task(0, None, task_id="x"),
        lambda: wrong.schedule_many([NewTask(0, None)] * 3),
        lambda: wrong.get("x"),
        lambda: wrong.stats(),
        lambda: wrong.schedule_recurring("r", "* * * * *", task_type="t"),
        lambda: worker_protocol.claim(wrong, 1000, 10),
        lambda: wrong.shards,
    ]
    for call in calls:
        with pytest.raises(ShardsMismatch) as exc:
            call()
        assert isinstance(exc.value, InvalidInput)
        assert f"namespace {namespace!r} has 3 shards in Redis, but shards=2" in str(exc.value)
        assert (exc.value.stored, exc.value.wanted) == (3, 2)
    assert snapshot(r) == before


def test_sharding_a_namespace_that_holds_unsharded_data_is_refused(
    redis_server: RedisServer, namespace: str
) -> None:
    old = Scheduler.from_url(redis_server.url, namespace=namespace)
    old.schedule_task(2_000_000_000, None, task_id="kept")
    r = redis_server.client()
    before = snapshot(r)
    sharded = Scheduler.from_url(redis_server.url, namespace=namespace, shards=3)
    with pytest.raises(ShardsMismatch, match="has 1 shard in Redis, but shards=3"):
        sharded.schedule_task(0, None)
    assert snapshot(r) == before  # not even the count was stored
    # Asking for 1 stores it, and the namespace carries on as it was.
    assert Scheduler.from_url(redis_server.url, namespace=namespace, shards=1).shards == 1
    assert old.get("kept") is not None


def test_the_cli_refuses_a_mismatch_in_one_line_with_status_2(
    redis_server: RedisServer, namespace: str
) -> None:
    Scheduler.from_url(redis_server.url, namespace=namespace, shards=3).schedule_task(0, None)
    before = snapshot(redis_server.client())
    for command in (
        ["stats"],
        ["worker", "--handlers", "tests.scheduler.recording_handlers:HANDLERS"],
    ):
        out = cli(*command, "--url", redis_server.url, "--namespace", namespace, "--shards", "2")
        assert out.returncode == 2, out.stderr
        assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
        assert "has 3 shards in Redis, but shards=2" in out.stderr
    out = cli("stats", "--url", redis_server.url, "--namespace", namespace, "--shards", "0")
    assert out.returncode == 2 and "--shards" in out.stderr
    assert snapshot(redis_server.client()) == before
    out = cli("stats", "--url", redis_server.url, "--namespace", namespace, "--shards", "3")
    assert out.returncode == 0, out.stderr


# -- one namespace of 3 shards on a 3-master Cluster ----------------------------------


def masters_of(cluster: LocalCluster, s: Scheduler) -> list[int]:
    """The port of the master holding each shard."""
    return [cluster.master_of(k.tasks).port for k in s.shard_keys()]


def evalsha_calls(cluster: LocalCluster) -> dict[int, int]:
    """EVALSHA calls served so far, per master port."""
    out = {}
    for node in cluster.running():
        r = node.client()
        if r.info("replication")["role"] == "master":
            stats = r.info("commandstats").get("cmdstat_evalsha", {"calls": 0})
            out[node.port] = int(stats["calls"])
        r.close()
    return out


@on_sharded_cluster
def test_schedule_many_5000_spreads_tasks_and_script_calls_over_the_masters(
    redis_server: LocalCluster, namespace: str
) -> None:
    s = Scheduler.from_url(redis_server.url, namespace=namespace)
    assert s.shards == SHARDED
    ports = masters_of(redis_server, s)
    assert len(set(ports)) == SHARDED, "each shard should sit on its own master"
    ids = s.schedule_many(NewTask(time.time() + 3600, {"i": i}) for i in range(5000))
    assert len(set(ids)) == 5000 and s.stats().scheduled == 5000
    assert not any(x.created for x in s.submit(NewTask(0, None, task_id=t) for t in ids[:50]))
    per_master = Counter(
        {port: int(s.redis.hlen(k.tasks)) for port, k in zip(ports, s.shard_keys(), strict=True)}
    )
    assert sum(per_master.values()) == 5000
    assert all(5000 / 3 * 0.85 < n < 5000 / 3 * 1.15 for n in per_master.values()), per_master

    ran: list[str] = []
    due = s.schedule_many(NewTask(0, None, task_type="t") for _ in range(300))
    before = evalsha_calls(redis_server)
    worker = Worker(s, {"t": lambda task: ran.append(task.task_id)}, cron=False, lease_s=10)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while s.stats().done < 300:
            assert time.monotonic() < deadline, s.stats()
            time.sleep(0.05)
    finally:
        worker.stop()
        thread.join(10)
    assert sorted(ran) == sorted(due)
    grown = {port: n - before[port] for port, n in evalsha_calls(redis_server).items()}
    # Claims and acks of each shard went to its own master, every one of them busy.
    assert all(grown[port] >= 0.15 * sum(grown.values()) for port in ports), grown
    s.close()


@on_sharded_cluster
def test_get_cancel_reschedule_stats_and_dead_letters_work_across_shards(
    redis_server: LocalCluster, namespace: str
) -> None:
    s = Scheduler.from_url(redis_server.url, namespace=namespace)
    ids = [f"job-{i}" for i in range(30)]
    s.schedule_many(NewTask(2_000_000_000, {"i": i}, task_id=t) for i, t in enumerate(ids))
    homes = {s.shard_of(t) for t in ids}
    assert homes == set(range(SHARDED))
    for t in ids[:3]:
        info = s.get(t)
        assert info is not None and info.status is Status.SCHEDULED
    assert s.cancel(ids[0]) is True
    s.reschedule(ids[1], 0)
    st = s.stats()
    assert (st.scheduled, st.due, st.done) == (28, 1, 1)
    # Dead letters on every shard, listed oldest first across them, retried and purged by id.
    dying = [f"die-{i}" for i in range(12)]
    for t in dying:
        s.schedule_task(0, None, task_type="t", task_id=t, max_attempts=1)
        (task,) = worker_protocol.claim(s, 1000, 1, shard=s.shard_of(t)).tasks
        assert worker_protocol.fail(s, t, task.token, "boom", None).name == "BURIED"
        time.sleep(0.002)  # distinct death times
    assert {s.shard_of(t) for t in dying} == set(range(SHARDED))
    assert [d.task_id for d in s.dead_letters(limit=100)] == dying
    assert [d.task_id for d in s.dead_letters(limit=5, offset=4)] == dying[4:9]
    s.retry_dead(dying[0])
    assert s.get(dying[0]).status is Status.SCHEDULED  # type: ignore[union-attr]
    assert s.purge_dead(dying[1]) == 1
    assert s.purge_dead() == 10
    assert s.stats().dead == 0 and s.dead_letters() == []
    s.close()


@on_sharded_cluster
def test_a_recurring_schedule_lives_with_its_slot_tasks(
    redis_server: LocalCluster, namespace: str
) -> None:
    s = Scheduler.from_url(redis_server.url, namespace=namespace)
    names = [f"r{i}" for i in range(9)]
    for name in names:
        s.schedule_recurring(name, "* * * * * *", task_type="t")
    assert {s.shard_of(f"cron:{n}:0") for n in names} == set(range(SHARDED))
    assert sorted(s.recurring()) == names
    deadline = time.monotonic() + 5
    while s.stats().due < len(names):
        assert time.monotonic() < deadline
        s.tick_cron()
        time.sleep(0.1)
    for name in names:
        k = s.schedule_keys(name)
        (tid,) = [
            t.decode() for t in s.redis.hkeys(k.tasks) if t.decode().startswith(f"cron:{name}:")
        ][:1]
        assert s.get(tid) is not None  # get() routes a slot task by its schedule's name
    assert all(s.unschedule_recurring(n) for n in names) and s.recurring() == {}
    s.close()


def test_a_namespace_with_no_count_stored_uses_no_extra_key(
    redis_server: RedisServer,
) -> None:
    namespace = f"t{uuid.uuid4().hex[:12]}"
    s = Scheduler.from_url(redis_server.url, namespace=namespace)
    s.schedule_task(0, None)
    keys = {k.decode() for k in redis_server.client().scan_iter(match=f"dt:{{{namespace}}}:*")}
    assert keys == {f"dt:{{{namespace}}}:tasks", f"dt:{{{namespace}}}:due"}
    s.close()


def test_shards_out_of_range_is_refused() -> None:
    r = redis.Redis(port=1)  # never contacted
    for bad in (0, 257, True, "3", 1.5):
        with pytest.raises(InvalidInput, match="shards must be an int from 1 to 256"):
            Scheduler(r, namespace="n", shards=bad)  # type: ignore[arg-type]


@on_sharded_cluster
def test_a_new_head_on_one_shard_wakes_the_worker_for_that_shard(
    redis_server: LocalCluster, namespace: str
) -> None:
    s = Scheduler.from_url(redis_server.url, namespace=namespace)
    worker = Worker(s, {"t": lambda task: None}, cron=False)
    listener = threading.Thread(target=worker._listen)
    listener.start()
    try:
        assert worker._collect([], 5) == {None}  # subscribed: look at every shard once
        for shard in range(SHARDED):
            tid = next(f"w-{i}" for i in range(1000) if s.shard_of(f"w-{i}") == shard)
            s.schedule_task(0, None, task_type="t", task_id=tid)
            assert worker._collect([], 5) == {shard}
    finally:
        worker._halt.set()
        listener.join(5)
    s.close()

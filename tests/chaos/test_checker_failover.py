"""The checkers on replication faults: what a failover may lose under each durability
setting, on hand-written histories.

``hb.schedule(id, due, at=t)`` acknowledges the task at ``t + 0.01``; ``hb.failover`` records
a replication fault as the replication nemeses do (``struck_at``, ``behind_since``,
``promoted_at``, and ``demoted_at`` at heal for a partitioned primary).
"""

from __future__ import annotations

import pytest
from history_builder import HistoryBuilder

from duetime.chaos.checker import duplicated, early, fenced, lost
from duetime.chaos.checker.expectations import expectations_for
from duetime.chaos.checker.failovers import failovers
from duetime.chaos.checker.loss_bounds import ACK_SLACK_S, REPLICATION_LAG_S
from duetime.chaos.checker.redis_docs import (
    FAILOVER_LOSES_ONLY_WHAT_REPLICAS_LACKED,
    REPLICATION_EXPECTATIONS,
    WAIT_LOSES_NOTHING_IN_A_FAILOVER,
)
from duetime.chaos.scenario import NO_UNEXPLAINED_LOSS, STANDARD_EXPECTATIONS
from duetime.chaos.system.redis_server import Persistence, RedisServer, read_settings

REPLICATED = {"topology": "replicated"}
# Longer before the strike than a replica may lag (plus a racing reply): never excused.
TOO_OLD_S = 2.0


def test_too_old_is_beyond_the_lag() -> None:
    assert REPLICATION_LAG_S + ACK_SLACK_S < TOO_OLD_S


def killed_with(hb: HistoryBuilder, durability: str, acked_before_s: float) -> HistoryBuilder:
    """The primary SIGKILLed at 10 s, a replica promoted at 13 s; one task ran before, one
    acknowledged ``acked_before_s`` before the kill never ran."""
    hb.redis_config("everysec", durability=durability, **REPLICATED)
    hb.failover("kill_primary", struck_at=10.0, promoted_at=13.0)
    hb.schedule("ran", due=5, at=4).run("ran", 5, 5.2)
    hb.schedule("gone", due=15, at=10.0 - acked_before_s - 0.01)
    return hb


def test_async_replication_may_lose_what_the_replica_lacked(hb: HistoryBuilder) -> None:
    result = lost.check_unexplained(killed_with(hb, "none", acked_before_s=0.3).build())
    assert result.verdict == "valid", result.summary
    assert result.details["explained_by_strike"] == {"kill_primary-0": 1}


def test_a_loss_older_than_the_replication_lag_is_unexplained(hb: HistoryBuilder) -> None:
    history = killed_with(hb, "none", acked_before_s=TOO_OLD_S).build()
    result = lost.check_unexplained(history)
    assert result.verdict == "invalid"
    assert result.details["unexplained_ids"] == ["gone"]


@pytest.mark.parametrize("durability", ["wait", "waitaof"])
def test_under_wait_a_failover_may_lose_nothing_acknowledged(
    hb: HistoryBuilder, durability: str
) -> None:
    result = lost.check_unexplained(killed_with(hb, durability, acked_before_s=0.3).build())
    assert result.verdict == "invalid"
    assert result.details["unexplained_ids"] == ["gone"]


@pytest.mark.parametrize("durability", ["wait", "waitaof"])
def test_a_not_durable_reply_is_no_acknowledgement(hb: HistoryBuilder, durability: str) -> None:
    # The write made it to the primary only: NotDurable, recorded as info, is never charged.
    hb.redis_config("everysec", durability=durability, **REPLICATED)
    hb.failover("lag_replica", struck_at=10.0, promoted_at=13.0, behind_since=7.0)
    hb.schedule("unsure", due=15, at=8.0, outcomes=("info",), error="NotDurable('...')")
    hb.schedule("ran", due=5, at=4).run("ran", 5, 5.2)
    assert lost.check_unexplained(hb.build()).verdict == "valid"
    assert lost.check(hb.build()).details["indeterminate"] == 1


def test_a_loss_with_no_failover_on_a_replicated_topology_fails(hb: HistoryBuilder) -> None:
    hb.redis_config("everysec", durability="none", **REPLICATED)
    hb.fault("partition_workers", 4, 8, targets=["worker-0"])
    hb.schedule("gone", due=6, at=3.0)
    assert lost.check_unexplained(hb.build()).verdict == "invalid"


def stopped_replicas(hb: HistoryBuilder, acked_at: float) -> HistoryBuilder:
    """The replicas SIGSTOPped at 7 s, the primary killed at 10 s, one promoted at 13 s."""
    hb.redis_config("everysec", durability="none", **REPLICATED)
    hb.failover("lag_replica", struck_at=10.0, promoted_at=13.0, behind_since=7.0)
    hb.schedule("gone", due=15, at=acked_at)
    return hb


def test_a_stopped_replica_lacks_everything_since_it_stopped(hb: HistoryBuilder) -> None:
    # Acknowledged 2.5 s before the kill: only the stopped replica explains it.
    assert lost.check_unexplained(stopped_replicas(hb, acked_at=7.5).build()).verdict == "valid"


def test_a_loss_from_before_the_replica_stopped_is_unexplained(hb: HistoryBuilder) -> None:
    history = stopped_replicas(hb, acked_at=7.0 - TOO_OLD_S).build()
    assert lost.check_unexplained(history).verdict == "invalid"


def partitioned(hb: HistoryBuilder, acked_at: float, **settings: str) -> HistoryBuilder:
    """The primary cut off at 10 s, a replica promoted at 13 s, the old primary told to
    step down when the cut healed (demoted at 20 s)."""
    hb.redis_config("everysec", durability="none", **{**REPLICATED, **settings})
    hb.failover("partition_primary", 10.0, 13.0, healed_at=19.5, demoted_at=20.0)
    hb.schedule("gone", due=25, at=acked_at)
    return hb


def test_a_cut_off_primary_loses_what_it_took_until_demoted(hb: HistoryBuilder) -> None:
    result = lost.check_unexplained(partitioned(hb, acked_at=18.0).build())
    assert result.verdict == "valid", result.summary
    windows = lost.check(partitioned(HistoryBuilder(), acked_at=18.0).build()).details
    assert windows["lost_by_fault"] == {"partition_primary": 1}


def test_a_write_after_the_demotion_is_kept(hb: HistoryBuilder) -> None:
    assert lost.check_unexplained(partitioned(hb, acked_at=21.0).build()).verdict == "invalid"


def test_a_loss_acknowledged_while_no_primary_answered_is_unexplained(
    hb: HistoryBuilder,
) -> None:
    # Killed at 10 s, promoted at 13 s: a reply at 11.5 s came from no old primary.
    result = lost.check_unexplained(killed_with(hb, "none", acked_before_s=-1.5).build())
    assert result.verdict == "invalid"


def test_a_cluster_master_cut_off_stops_after_the_node_timeout(hb: HistoryBuilder) -> None:
    timeout = {"cluster-node-timeout": "3000", "topology": "cluster"}
    assert lost.check_unexplained(partitioned(hb, 13.5, **timeout).build()).verdict == "valid"
    late = partitioned(HistoryBuilder(), 15.0, **timeout).build()
    assert lost.check_unexplained(late).verdict == "invalid"


def test_min_replicas_to_write_bounds_the_cut_off_primarys_window(hb: HistoryBuilder) -> None:
    bounded = {"min-replicas-to-write": "1", "min-replicas-max-lag": "2"}
    # Cut at 10 s, max lag 2 s, acks once a second: writes refused from 13 s on.
    assert lost.check_unexplained(partitioned(hb, 12.0, **bounded).build()).verdict == "valid"
    late = partitioned(HistoryBuilder(), 16.0, **bounded).build()
    assert lost.check_unexplained(late).verdict == "invalid"


def test_the_bound_rests_on_what_a_real_primary_reports(hb: HistoryBuilder) -> None:
    # The settings as a run records them: read back from a server started with them.
    bounded = ["min-replicas-to-write 1", "min-replicas-max-lag 2"]
    with RedisServer(Persistence("everysec"), extra=bounded) as server:
        settings = read_settings(server.url)
    late = partitioned(hb, 16.0, **settings).build()
    assert lost.check_unexplained(late).verdict == "invalid"


# A Cluster master serving the first third of the slots is killed at 10 s, its replica
# promoted at 12 s.
STRUCK_SLOTS = ((0, 5460),)
ON_STRUCK_MASTER, ON_ANOTHER_MASTER = 100, 9000


def cluster_failover(hb: HistoryBuilder, lost_slot: int | None) -> HistoryBuilder:
    """The task ``gone`` (of ``lost_slot``, None: not recorded), acknowledged 0.2 s before
    the kill, never ran."""
    hb.redis_config("everysec", durability="none", topology="cluster")
    hb.failover("kill_primary", struck_at=10.0, promoted_at=12.0, struck_slots=STRUCK_SLOTS)
    hb.schedule("gone", due=15, at=9.79, slot=lost_slot)
    return hb


def test_a_cluster_failover_explains_only_a_loss_on_the_struck_master(hb: HistoryBuilder) -> None:
    mine = cluster_failover(hb, ON_STRUCK_MASTER).build()
    assert lost.check_unexplained(mine).verdict == "valid"
    # The same loss on a master nobody struck: nothing Redis documents takes it.
    theirs = cluster_failover(HistoryBuilder(), ON_ANOTHER_MASTER).build()
    result = lost.check_unexplained(theirs)
    assert result.verdict == "invalid"
    assert result.details["unexplained_ids"] == ["gone"]


def test_a_loss_whose_slot_is_unknown_is_judged_by_time_alone(hb: HistoryBuilder) -> None:
    unknown = cluster_failover(hb, None).build()
    assert lost.check_unexplained(unknown).verdict == "valid"


def test_only_tasks_on_the_struck_master_are_at_risk(hb: HistoryBuilder) -> None:
    cluster_failover(hb, ON_STRUCK_MASTER)
    for task_id, slot in (("mine", ON_STRUCK_MASTER + 1), ("theirs", ON_ANOTHER_MASTER)):
        hb.schedule(task_id, due=13, at=9.0, slot=slot).run(task_id, 13.0, 13.2)
    windows = lost.check(hb.build()).details["loss_windows"]
    assert [(w["lost"], w["at_risk"]) for w in windows] == [(1, 2)]


def power_lost(hb: HistoryBuilder, durability: str, promoted: bool) -> HistoryBuilder:
    """The primary's machine loses power at 10 s (its unsynced AOF gone); a task
    acknowledged 1.5 s before is lost: within everysec's window, beyond the lag's."""
    hb.redis_config("everysec", durability=durability, **REPLICATED)
    if promoted:
        hb.failover("failover_power_loss", struck_at=10.0, promoted_at=13.0)
    else:  # no replica promoted: the old primary came back with what its disk kept
        hb.fault("failover_power_loss", 10.0, 14.0, struck_at=10.0, behind_since=10.0)
    hb.schedule("gone", due=15, at=8.49)
    return hb


def test_a_promoted_replica_makes_the_old_disk_irrelevant(hb: HistoryBuilder) -> None:
    # The old primary resyncs from the promoted one: its 2 s everysec window excuses nothing.
    history = power_lost(hb, "none", promoted=True).build()
    assert lost.check_unexplained(history).verdict == "invalid"


@pytest.mark.parametrize("durability", ["none", "wait"])
def test_without_a_promotion_the_old_disk_decides(hb: HistoryBuilder, durability: str) -> None:
    # WAIT put it on a replica, but the replicas resync from the restarted primary.
    history = power_lost(hb, durability, promoted=False).build()
    assert lost.check_unexplained(history).verdict == "valid"


def test_waitaof_fsynced_it_on_the_primary(hb: HistoryBuilder) -> None:
    history = power_lost(hb, "waitaof", promoted=False).build()
    assert lost.check_unexplained(history).verdict == "invalid"


def repeat_after_kill(hb: HistoryBuilder, durability: str, first_ended: float) -> HistoryBuilder:
    """A run acknowledged at ``first_ended``; the primary killed at 10 s; the promoted
    replica, which lacked the ack, hands the task out again at 14 s."""
    hb.redis_config("everysec", durability=durability, **REPLICATED)
    hb.failover("kill_primary", struck_at=10.0, promoted_at=13.0)
    hb.schedule("t", due=6.5, at=1.0)
    hb.run("t", first_ended - 0.2, first_ended, token=5)
    hb.run("t", 14.0, 14.2, process="worker-1", attempt=2, token=6)
    return hb


@pytest.mark.parametrize("durability", ["none", "wait", "waitaof"])
def test_an_ack_the_promoted_replica_lacked_explains_a_repeat(
    hb: HistoryBuilder, durability: str
) -> None:
    # Acked 0.8 s before the kill, within the lag; acks are never WAITed.
    result = duplicated.check(repeat_after_kill(hb, durability, first_ended=9.2).build())
    assert result.verdict == "valid", result.summary
    assert result.details["explained_by_fault"] == {"kill_primary": 1}


def test_an_ack_older_than_the_replication_lag_explains_no_repeat(hb: HistoryBuilder) -> None:
    history = repeat_after_kill(hb, "none", first_ended=10.0 - TOO_OLD_S).build()
    result = duplicated.check(history)
    assert (result.verdict, result.details["unexplained"]) == ("invalid", 1)


def test_an_ack_while_the_replicas_were_stopped_explains_a_repeat(hb: HistoryBuilder) -> None:
    hb.redis_config("everysec", durability="wait", **REPLICATED)
    hb.failover("lag_replica", struck_at=10.0, promoted_at=13.0, behind_since=7.0)
    hb.schedule("t", due=6.5, at=1.0)
    hb.run("t", 6.6, 6.8, token=5)  # acked 0.2 s before the replicas stopped
    hb.run("t", 14.0, 14.2, process="worker-1", attempt=2, token=6)
    assert duplicated.check(hb.build()).verdict == "valid"


def split_brain(hb: HistoryBuilder, durability: str, claimed_at: float) -> HistoryBuilder:
    """Cut off at 10 s, the old primary hands out token 9 at ``claimed_at`` to a worker that
    still reaches it; the promoted one, which never saw that claim, accepts the ack of
    token 8 at 16 s."""
    hb.redis_config("everysec", durability=durability, **REPLICATED)
    hb.failover("partition_primary", 10.0, 13.0, healed_at=19.5, demoted_at=20.0)
    hb.lease("claim", "t", 8, sent=3.0, answered=3.01)
    hb.lease("claim", "t", 9, sent=claimed_at - 0.01, answered=claimed_at, process="worker-1")
    hb.lease("ack", "t", 8, sent=16.0, answered=16.01)
    return hb


@pytest.mark.parametrize("durability", ["none", "wait"])
def test_a_claim_the_cut_off_primary_gave_fences_nothing(
    hb: HistoryBuilder, durability: str
) -> None:
    # Claims are never WAITed: the rule holds under every durability setting.
    result = fenced.check(split_brain(hb, durability, claimed_at=14.0).build())
    assert (result.verdict, result.details["stale_accepted"]) == ("valid", 0)


def test_a_claim_from_before_the_cut_still_fences(hb: HistoryBuilder) -> None:
    result = fenced.check(split_brain(hb, "none", claimed_at=6.0).build())
    assert (result.verdict, result.details["stale_accepted"]) == ("invalid", 1)


def test_a_failover_excuses_no_early_run(hb: HistoryBuilder) -> None:
    killed_with(hb, "none", acked_before_s=0.3).run("gone", 12.0, 12.1, due=15)
    assert early.check(hb.build()).verdict == "invalid"


def test_the_documented_expectations_follow_the_config_label() -> None:
    table = {**STANDARD_EXPECTATIONS, **REPLICATION_EXPECTATIONS}
    waited = expectations_for(table, "topology=replicated,durability=wait,aof=everysec")
    assert waited["lost"] is WAIT_LOSES_NOTHING_IN_A_FAILOVER
    assert waited["unexplained_loss"] is FAILOVER_LOSES_ONLY_WHAT_REPLICAS_LACKED
    plain = expectations_for(table, "topology=cluster,aof=everysec")
    assert "lost" not in plain  # durability=none: a loss is allowed, within the window
    assert plain["unexplained_loss"] is FAILOVER_LOSES_ONLY_WHAT_REPLICAS_LACKED
    assert expectations_for(table, "aof=everysec")["unexplained_loss"] is NO_UNEXPLAINED_LOSS


def test_each_failover_says_who_fell_who_took_over_and_when_clients_saw_it(
    hb: HistoryBuilder,
) -> None:
    killed_with(hb, "none", acked_before_s=0.3)
    hb.lease(
        "claim", "ran", 3, sent=10.5, answered=10.6
    )  # answered before the promotion: not counted
    hb.lease("lost", "", 0, sent=13.2, answered=13.2)  # a worker's notice, not Redis answering
    hb.schedule("after", due=20, at=13.4).run("after", 20, 20.1)
    hb.fault(
        "failover_power_loss",
        30.0,
        34.0,
        struck_at=30.0,
        old_primary="127.0.0.1:7002",
        missing_bytes=0,
    )
    hb.schedule("later", due=40, at=31.5).run("later", 40, 40.1)
    first, unpromoted = failovers(hb.build())
    assert (first.old_primary, first.promoted, first.promotion_s) == (
        "127.0.0.1:7001",
        "127.0.0.1:7002",
        3.0,
    )
    assert first.clients_answered_at == pytest.approx(13.41)
    assert first.clients_waited_s == pytest.approx(3.41)
    assert (unpromoted.promoted, unpromoted.promotion_s) == (None, None)
    assert (first.missing_bytes, unpromoted.missing_bytes) == (None, 0)
    assert unpromoted.clients_answered_at == pytest.approx(31.51)
    listed = lost.check(hb.build()).details["failovers"]
    assert [f["fault"] for f in listed] == ["kill_primary", "failover_power_loss"]


def test_a_partitioned_primarys_demotion_is_reported(hb: HistoryBuilder) -> None:
    (failover,) = failovers(partitioned(hb, acked_at=18.0).build())
    assert (failover.fault, failover.demoted_at) == ("partition_primary", 20.0)

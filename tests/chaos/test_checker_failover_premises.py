"""What the failover loss rules (``loss_bounds.documented_span``) rest on, shown on real
redis-servers with the failover played by hand: the replica with the largest offset
promoted, as Sentinel and Cluster do.

- async replication: a promoted replica lacks what the primary acknowledged while the
  replica was cut off (``durability=none`` may lose it);
- ``WAIT 1``: a confirmed write is on a replica, and the best replica has it;
- a primary that took writes alone, then rejoined as a replica, discards them (the
  ``partition_primary`` window, and why a power-lost primary's own disk does not matter
  once a replica was promoted).
"""

from __future__ import annotations

from collections.abc import Callable

from replication_helpers import link_up, offset, promote_best, wait_until

from duetime.chaos.system.redis_server import RedisServer

Servers = Callable[[int], tuple[RedisServer, list[RedisServer]]]


def cut_link(primary: RedisServer, replica: RedisServer) -> None:
    """Close the replica's link on the primary's side (the replica is stopped first, so it
    cannot reconnect): the primary streams it nothing more."""
    with replica.client() as r:
        (link,) = r.client_list(_type="master")
    replica.pause()
    with primary.client() as p:
        linked = int(p.info("replication")["connected_slaves"])
        p.client_kill_filter(_type="replica", addr=link["laddr"])
        wait_until(lambda: p.info("replication")["connected_slaves"] == linked - 1)


def has(server: RedisServer, key: str) -> bool:
    with server.client() as client:
        return bool(client.exists(key))


def test_a_promoted_replica_lacks_what_it_was_cut_off_from(
    primary_with_replicas: Servers,
) -> None:
    primary, (replica,) = primary_with_replicas(1)
    with primary.client() as p:
        p.set("replicated", 1)
        assert p.wait(1, 5000) == 1
        cut_link(primary, replica)
        p.set("acknowledged", 1)  # the reply a producer would count as acknowledged
        assert p.wait(1, 100) == 0  # under durability=wait: NotDurable, no acknowledgement
    primary.kill()
    replica.resume()
    promoted = promote_best([replica])
    assert has(promoted, "replicated") and not has(promoted, "acknowledged")


def test_a_wait_confirmed_write_survives_on_the_best_replica(
    primary_with_replicas: Servers,
) -> None:
    primary, (ahead, behind) = primary_with_replicas(2)
    cut_link(primary, behind)
    with primary.client() as p:
        p.set("waited", 1)
        assert p.wait(1, 5000) == 1  # on `ahead` only
    primary.kill()
    behind.resume()
    assert offset(ahead) > offset(behind)
    assert promote_best([behind, ahead]) is ahead
    assert has(ahead, "waited") and not has(behind, "waited")


def test_a_demoted_primary_discards_what_it_took_alone(primary_with_replicas: Servers) -> None:
    old, (new,) = primary_with_replicas(1)
    with old.client() as o, new.client() as n:
        o.set("before", 1)
        assert o.wait(1, 5000) == 1
        n.replicaof("NO", "ONE")  # promoted while the old primary still answers
        o.set("alone", 1)  # acknowledged by the old primary alone
        n.set("after", 1)
        o.replicaof(new.host, new.port)  # told to step down: a replica of the new one
        wait_until(lambda: link_up(old) and offset(old) >= offset(new))
        assert (o.exists("before"), o.exists("alone"), o.exists("after")) == (1, 0, 1)

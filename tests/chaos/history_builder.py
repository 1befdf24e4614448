"""HistoryBuilder: hand-written histories for the checker tests."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from duetime.chaos.history.ops import (
    CRON_READY,
    CRON_SCHEDULE,
    EXECUTE,
    FAULT_END,
    FAULT_START,
    HOST_CLOCK,
    LEASE,
    PROCESS_END,
    REDIS_CONFIG,
    SCHEDULE,
    Op,
    OpType,
    sorted_by_time,
)


class HistoryBuilder:
    """Appends the operations the testbed would record, in a few readable calls."""

    def __init__(self) -> None:
        self.ops: list[Op] = []
        self._ids = itertools.count()

    def redis_config(
        self,
        aof: str,
        at: float = 0.0,
        policy: str = "",
        *,
        topology: str = "",
        durability: str = "",
        **more: str,
    ) -> HistoryBuilder:
        """The persistence settings read back from Redis at its start, for ``aof=<aof>``
        (and ``maxmemory=<policy>``, ``topology=``, ``durability=``, if given; ``more``:
        other settings read back, e.g. ``min-replicas-to-write``)."""
        settings = {"asked": f"aof={aof}", "appendonly": "no" if aof == "off" else "yes"}
        settings["appendfsync"] = "everysec" if aof == "off" else aof
        if policy:
            settings["maxmemory-policy"] = policy
        if topology:
            settings["topology"] = topology
        if durability:
            settings["durability"] = durability
        settings.update(more)
        self.ops.append(Op("info", "cluster", at, REDIS_CONFIG, settings))
        return self

    def schedule(
        self,
        task_id: str,
        due: float,
        at: float = 0.0,
        outcomes: Sequence[OpType] = ("ok",),
        max_attempts: int = 3,
        fail_attempts: int = 0,
        error: str = "",
        slot: int | None = None,
    ) -> HistoryBuilder:
        """One schedule call per outcome (retries), each an invoke then its completion;
        ``error`` is the producer's ``repr`` of what a ``fail`` or ``info`` call raised;
        ``slot``: the Cluster slot the producer records with an ``ok``."""
        value = {
            "task_id": task_id,
            "due_at": due,
            "max_attempts": max_attempts,
            "fail_attempts": fail_attempts,
        }
        for i, outcome in enumerate(outcomes):
            done = {**value, "error": error} if error and outcome != "ok" else value
            if outcome == "ok" and slot is not None:
                done = {**done, "slot": slot}
            self.ops.append(Op("invoke", "producer-0", at + i * 0.1, SCHEDULE, value))
            self.ops.append(Op(outcome, "producer-0", at + i * 0.1 + 0.01, SCHEDULE, done))
        return self

    def run(
        self,
        task_id: str,
        start: float,
        end: float | None = None,
        *,
        process: str = "worker-0",
        outcome: OpType = "ok",
        due: float = 0.0,
        attempt: int = 1,
        max_attempts: int = 3,
        key: str = "",
        token: int = 0,
    ) -> HistoryBuilder:
        """A handler run; ``end=None`` means the worker died before it finished."""
        value = {
            "exec_id": f"x{next(self._ids)}",
            "task_id": task_id,
            "attempt": attempt,
            "due_at": due,
            "max_attempts": max_attempts,
            "idempotency_key": key,
            "token": token,
        }
        self.ops.append(Op("invoke", process, start, EXECUTE, value))
        if end is not None:
            self.ops.append(Op(outcome, process, end, EXECUTE, value))
        return self

    def lease(
        self,
        action: str,
        task_id: str,
        token: int,
        *,
        sent: float,
        answered: float,
        accepted: bool = True,
        process: str = "worker-0",
        reason: str = "",
    ) -> HistoryBuilder:
        """A worker's lease change as its observer records it (``reason``: a task it set
        aside unread)."""
        value: dict[str, object] = {
            "action": action,
            "task_id": task_id,
            "token": token,
            "attempt": 0,
            "sent": sent,
        }
        if reason:
            value["reason"] = reason
        self.ops.append(Op("ok" if accepted else "fail", process, answered, LEASE, value))
        return self

    def fault(
        self,
        name: str,
        start: float,
        end: float,
        targets: Sequence[str] = (),
        healed: Mapping[str, object] | None = None,
        **detail: object,
    ) -> HistoryBuilder:
        """A fault window; ``detail`` adds to its fault-start (``struck_at``, ``began_at``),
        ``healed`` to its fault-end (``demoted_at``)."""
        fid = f"{name}-{next(self._ids)}"
        value = {"fault": name, "fault_id": fid, "targets": list(targets), **detail}
        self.ops.append(Op("info", "nemesis", start, FAULT_START, value))
        end_value = {"fault": name, "fault_id": fid, **(healed or {})}
        self.ops.append(Op("info", "nemesis", end, FAULT_END, end_value))
        return self

    def failover(
        self,
        name: str,
        struck_at: float,
        promoted_at: float,
        *,
        behind_since: float | None = None,
        healed_at: float | None = None,
        demoted_at: float | None = None,
        struck_slots: Sequence[tuple[int, int]] = (),
    ) -> HistoryBuilder:
        """A replication fault as the replication nemeses record it: the primary struck
        (killed or cut off) at ``struck_at``, a replica promoted at ``promoted_at``; in a
        Cluster, the struck master served ``struck_slots``."""
        behind = struck_at if behind_since is None else behind_since
        end = (promoted_at + 1.0) if healed_at is None else healed_at
        slots = {"struck_slots": [list(r) for r in struck_slots]} if struck_slots else {}
        return self.fault(
            name,
            behind,
            end,
            healed=None if demoted_at is None else {"demoted_at": demoted_at},
            struck_at=struck_at,
            behind_since=behind,
            old_primary="127.0.0.1:7001",
            promoted="127.0.0.1:7002",
            promoted_at=promoted_at,
            promotion_s=round(promoted_at - struck_at, 3),
            **slots,
        )

    def cron_schedule(
        self, name: str, expr: str, misfire: str = "run_once", timezone: str = "UTC"
    ) -> HistoryBuilder:
        self.ops.append(
            Op(
                "info",
                "runner",
                0.0,
                CRON_SCHEDULE,
                {"name": name, "expr": expr, "misfire": misfire, "timezone": timezone},
            )
        )
        return self

    def cron_up(self, pid: int, ready: float, end: float | None = None) -> HistoryBuilder:
        """A cron-scheduler process ticking from ``ready`` until ``end`` (None: never ended)."""
        self.ops.append(Op("info", f"cron-{pid}", ready, CRON_READY, {"pid": pid}))
        if end is not None:
            self.ops.append(
                Op(
                    "info",
                    "cluster",
                    end,
                    PROCESS_END,
                    {"role": "cron", "name": f"cron-{pid}", "pid": pid},
                )
            )
        return self

    def records_lost(self, count: int, at: float, process: str = "worker-0") -> HistoryBuilder:
        """A worker's claim found ``count`` indexed task records gone, as its observer says."""
        value = {"action": "lost", "task_id": "", "token": 0, "attempt": 0, "sent": at}
        self.ops.append(Op("ok", process, at, LEASE, {**value, "count": count}))
        return self

    def keys_evicted(self, count: int, at: float, process: str = "worker-0") -> HistoryBuilder:
        """A worker saw Redis's ``evicted_keys`` rise by ``count``, as its observer says."""
        value = {"action": "evicted", "task_id": "", "token": 0, "attempt": 0, "sent": at}
        self.ops.append(Op("ok", process, at, LEASE, {**value, "count": count}))
        return self

    def process_exit(self, name: str, role: str, at: float, how: str = "exited") -> HistoryBuilder:
        """A worker or cron process ending: ``exited`` on its own (crashed), ``killed`` ..."""
        value = {"role": role, "name": name, "pid": 1, "how": how, "returncode": 1}
        self.ops.append(Op("info", "cluster", at, PROCESS_END, value))
        return self

    def cron_fire(
        self, name: str, slot: float, start: float | None = None, finished: bool = True
    ) -> HistoryBuilder:
        started = slot + 0.01 if start is None else start
        return self.run(
            f"cron:{name}:{round(slot * 1000)}",
            started,
            started + 0.05 if finished else None,
            due=slot,
        )

    def host_clock(self, at: float, lead: float) -> HistoryBuilder:
        """The runner read the host's wall clock ``lead`` seconds ahead of the testbed's."""
        self.ops.append(Op("info", "runner", at, HOST_CLOCK, {"wall_lead_s": lead}))
        return self

    def build(self) -> list[Op]:
        return sorted_by_time(self.ops)

"""Worker process faults: SIGKILL mid-task, and SIGSTOP for longer than the lease."""

from __future__ import annotations

from dataclasses import dataclass

from .base import Fault, Nemesis, NemesisContext
from .targets import busy_worker

MID_TASK_WAIT_S = 2.0


@dataclass(frozen=True)
class KillWorker(Nemesis):
    """SIGKILL a worker while one of its handlers runs; heal by starting it again.

    ``anytime`` kills a live worker at the scheduled instant whatever it is doing:
    inside a claim, an ack or a renewal round trip as often as inside a handler.
    """

    mid_task_wait_s: float = MID_TASK_WAIT_S
    anytime: bool = False

    @property
    def name(self) -> str:
        return "kill_worker_anytime" if self.anytime else "kill_worker"

    def inject(self, ctx: NemesisContext) -> Fault | None:
        target = busy_worker(ctx, 0.0 if self.anytime else self.mid_task_wait_s)
        if target is None:
            return None
        worker, tasks = target
        pid = ctx.cluster.kill_process(worker)
        return Fault(
            targets=(worker,),
            detail={"pid": pid, "mid_task": bool(tasks), "tasks": tasks},
            healer=lambda: ctx.cluster.start_process(worker),
        )


@dataclass(frozen=True)
class PauseWorker(Nemesis):
    """SIGSTOP a busy worker for the hold time (set it longer than the lease), then SIGCONT.

    Another worker takes its tasks over when the lease expires; the paused one
    wakes holding a lease that is no longer its own.
    """

    mid_task_wait_s: float = MID_TASK_WAIT_S

    @property
    def name(self) -> str:
        return "pause_worker"

    def inject(self, ctx: NemesisContext) -> Fault | None:
        target = busy_worker(ctx, self.mid_task_wait_s)
        if target is None:
            return None
        worker, tasks = target
        ctx.cluster.pause_process(worker)
        return Fault(
            targets=(worker,),
            detail={"pid": ctx.cluster.pid(worker), "mid_task": bool(tasks), "tasks": tasks},
            healer=lambda: ctx.cluster.resume_process(worker),
        )

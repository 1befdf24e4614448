"""Why a design loses, repeats or runs a task early: one explanation per design and cause.

The comparison report (:mod:`duetime.chaos.report.comparison`) splits every loss and repeat of a
run by what the history shows (the cause keys below) and prints the design's
explanation of that cause. A cause with no explanation here is printed as one to
investigate, never silently.
"""

from __future__ import annotations

CAUSE_WORDS = {
    "lost_still_pending": "not run by the end: still in Redis when the drain gave up",
    "lost_started_never_finished": "lost: its only runs died mid-handler",
    "lost_failed_not_retried": "lost: its run failed and was never run again",
    "lost_never_started": "lost: never ran",
    "duplicate_overlapping": "repeats that started while an earlier run still ran",
    "duplicate_after": "repeats after an earlier run had finished",
    "early": "runs that started before their due time",
    "cron_repeated": "cron slots fired more than once",
    "cron_missed": "cron slots missed while a ticker was up",
}

# Said of every design: the drain waits a fixed time, and a design too slow for the
# load (or one that re-issued a run far ahead) ends a run with tasks still owed.
STILL_PENDING = (
    "The run's drain (a fixed wait after the last fault healed) ended with these tasks "
    "still in Redis: the design had not caught up with the load or had set a re-issue far "
    "ahead. Late, not lost; the table counts them as lost because they did not run in "
    "the run."
)

# Every explanation of a published design names what in its SOURCE produces the cause
# (``seeds/NNN line L``: the files in ../shared/seeds/, or the project's own code where
# the seed is silent). What comes from our adaptation is said to be ours ("Adaptation:").
EXPLANATIONS: dict[str, dict[str, str]] = {
    "reference": {
        "lost_never_started": "Redis lost acknowledged writes: without persistence a restart "
        "starts empty, appendfsync no/everysec lose what was not yet fsynced at a power "
        "loss, and a failover loses what the promoted replica lacked (asynchronous "
        "replication, durability=none) (see the strikes per configuration in matrix.md).",
        "lost_started_never_finished": "Redis lost the task after a worker claimed it: the "
        "restart or power cut that dropped recent writes dropped the task's record too.",
        "lost_failed_not_retried": "Redis lost the retry: the task failed, its retry was "
        "written, and a restart or power cut dropped that write.",
        "duplicate_after": "At-least-once: a worker killed, paused or cut off past its lease, "
        "or an acknowledgement lost with Redis's unsynced writes, lets another worker run the "
        "task again with the next attempt number; bounded by max_attempts.",
        "duplicate_overlapping": "A worker paused or cut off past its lease finishes its run "
        "while another already runs the task; the fence refuses its acknowledgement, but "
        "both handlers ran (they carry the same idempotency key).",
        "cron_repeated": "A firing repeated after a fault, as at-least-once allows.",
    },
    "poll-remove-run": {
        "lost_started_never_finished": "seeds/000 lines 150-151 and 169: the poller ZREMs the "
        "task, then calls the handler; a worker killed mid-handler takes the task with it and "
        "its hash stays behind (line 172 only suggests a retry scan of orphaned hashes).",
        "lost_failed_not_retried": "seeds/000 lines 170-176: a handler error is only logged "
        "and the hash is deleted; the blog has no retry.",
        "lost_never_started": "seeds/000 lines 151-157: the id was ZREMed but never run: a "
        "ZREM whose reply was lost is resent by ioredis (line 67) and answers 0, which the "
        "poller reads as 'taken by another instance'; or a worker killed between ZREM and the "
        "handler's start; or, lines 85-89, the poller took the id between the producer's "
        "separate ZADD and HSET and found no hash. Else Redis lost the write (restart or "
        "power cut).",
        "duplicate_overlapping": "seeds/000 lines 18 and 42: recurring tasks are node-cron "
        "timers inside each instance, so two cron processes run each slot twice, at once.",
        "duplicate_after": "Redis came back from a power cut or a slow-disk kill without the "
        "ZREM (seeds/000 line 151: the removal is the only record a task was taken), so the "
        "id ran again; or a producer retry after a lost reply re-added (line 85) an id a "
        "poller had already taken.",
        "early": "seeds/000 line 138: due time is judged by each poller's own Date.now(): a "
        "worker whose clock runs ahead takes tasks before they are due.",
        "cron_repeated": "seeds/000 lines 18 and 42: every instance fires every slot itself "
        "(node-cron, nothing in Redis): one run per process per slot.",
        "cron_missed": "seeds/000 line 58: node-cron timers keep nothing in Redis; a slot that "
        "passes while the processes are down or restarting never fires.",
    },
    "watch-dispatcher": {
        "lost_started_never_finished": "seeds/001 lines 42-45: a worker's BLPOP removes the task "
        "before the handler runs; a worker killed mid-handler loses it, nothing records it.",
        "lost_failed_not_retried": "seeds/001 lines 44-45: the worker calls foo(task_data) "
        "with no retry; a handler error drops the task.",
        "lost_never_started": "seeds/001 line 43: BLPOP removed the task but its reply never "
        "reached the worker (a reset or cut connection; Redis does not put it back), or the "
        "worker died between BLPOP and the handler; else a write Redis lost in a restart or "
        "power cut.",
        "duplicate_after": "Redis came back from a power cut or a slow-disk kill without the "
        "move (seeds/001 lines 37-40) or the BLPOP, so the task was moved or popped again; or "
        "a producer retry after a lost reply re-added (line 24) a task already moved: the "
        "WATCH (line 28) guards dispatchers, not producers.",
        "duplicate_overlapping": "seeds/001 line 24: a producer retry re-added a task that a "
        "dispatcher had already moved while its first run was still going.",
        "early": "seeds/001 line 30: max_score = time.time() on the dispatcher; the answer's "
        "'dispatcher(s)' (line 26) run here inside every worker process (adaptation: the "
        "answer does not say where), so a worker whose clock runs ahead moves tasks early.",
    },
    "batch-dispatcher": {
        "lost_started_never_finished": "seeds/001 lines 74-76: a worker's BLPOP removes the task "
        "before the handler runs; a worker killed mid-handler loses it ('You can add a "
        "pending bucket', line 57, is not part of the design).",
        "lost_failed_not_retried": "seeds/001 lines 76-77: the result goes to a list nobody "
        "reads (the answer leaves response handling out, line 71): no retry.",
        "lost_never_started": "seeds/001 line 74: BLPOP removed the task but its reply never "
        "reached the worker, or the worker died between BLPOP and the handler; else a write "
        "Redis lost in a restart or power cut.",
        "duplicate_after": "Redis came back from a power cut or a slow-disk kill without the "
        "move (seeds/001 lines 66-69) or the BLPOP, so the task was moved or popped again; or "
        "a producer retry after a lost reply re-added (line 60) a task already moved.",
        "duplicate_overlapping": "seeds/001 line 60: a producer retry re-added a task already "
        "moved while its first run was still going.",
        "early": "seeds/001 line 63: the central dispatcher reads with <NOW> from its own "
        "clock; while it runs ahead every due-by-its-clock task is moved early (the "
        "clock-skew fault shifts the dispatcher process).",
    },
    "idempotency-keys": {
        "lost_started_never_finished": "The project's claim script negates a claimed task's "
        "score as its lock and nothing ever unlocks it: an executor killed after the claim "
        "leaves the task locked forever. (seeds/003 line 43 expects such a task to be "
        "reprocessed; the project's code does not.)",
        "lost_failed_not_retried": "The project's execution code updates the set only on HTTP "
        "200 and leaves retry as a todo: a failed run stays locked, never run again.",
        "lost_never_started": "A claim script whose reply was lost: the tasks were locked but "
        "no executor runs them; else a write Redis lost in a restart or power cut.",
        "duplicate_after": "Redis lost the lock or the removal (restart or power cut) and "
        "the task ran again, or a producer retry after a lost reply re-added a task already "
        "removed; the repeat carries the same key (seeds/003 line 56), which a receiver that "
        "keeps seen keys would drop.",
        "duplicate_overlapping": "Redis lost a claim's lock while the run was going (restart "
        "or power cut), so another executor claimed it; same key (seeds/003 line 56).",
        "early": "Adaptation: not expected. Due times are whole seconds rounded up and judged "
        "by Redis TIME (the project's claim script); investigate any early run.",
    },
    "client-retry": {
        "lost_started_never_finished": "seeds/004 line 113 re-issues a crashed run after "
        "retryTimeout; its re-issue entry is scored by the claiming worker's own clock (now + "
        "retryTimeout), so a worker running ahead re-issues it after the drain (late, not "
        "lost: see stats_at_end); else Redis lost the re-issue entry in a restart.",
        "lost_failed_not_retried": "Redis lost the re-issue entry of a failed run (restart or "
        "power cut), or its re-issue fell after the drain.",
        "lost_never_started": "A write Redis lost in a restart or power cut (seeds/004 line 11: "
        "'as reliable as the Redis server is'), or a re-issue scored after the drain by a "
        "skewed clock.",
        "duplicate_overlapping": "seeds/004 line 113: a run is issued again after retryTimeout "
        "whatever the first run is doing; a handler slower than it (or paused past it) runs "
        "twice. Adaptation: our default retryTimeout is 2 s; client-retry@source runs the "
        "README's 5 s (line 116).",
        "duplicate_after": "seeds/004 line 113, 'In corner cases duplicate tasks can be "
        "executed': a run that finished before its re-issue entry was dropped (a kill, a lost "
        "reply, a restart) is issued again; a producer retry after a lost reply pushes a "
        "second run (each push is its own run).",
        "early": "Due times are now + delay on the pusher's clock, judged by each instance's "
        "own clock (the library's Date.now()): a worker whose clock runs ahead takes runs early.",
        "cron_missed": "The library starts each schedule from the next slot after start(): an "
        "instance killed between its SET NX and its push takes the slot with it, and a "
        "restarted one fires no slot from before it started (no catch-up).",
        "cron_repeated": "seeds/004 line 113: a slot's run was issued again after its "
        "retryTimeout (a slow or killed run).",
    },
    "priority-score": {
        "lost_started_never_finished": "seeds/002 line 133: consumers pull the task out of "
        "Redis (ZPOPMAX) and the article has no acknowledgement; a consumer killed mid-handler "
        "loses it.",
        "lost_never_started": "A consumer killed between its ZPOPMAX and the run or the "
        "put-back of a task not yet due, or a ZPOPMAX reply lost; else a write Redis lost. "
        "Adaptation: the put-back is ours (the article has no due check).",
        "lost_failed_not_retried": "seeds/002 lines 172-174: retries are bounded; the task "
        "failed max_attempts times, or Redis lost its re-add.",
        "duplicate_after": "A producer retry after a lost reply re-added a task a consumer had "
        "already popped and run; or Redis lost the pop in a restart or power cut.",
        "duplicate_overlapping": "A producer retry re-added a task while its first run was going.",
        "early": "Adaptation: the due check is ours and uses the consumer's own clock; a "
        "consumer whose clock runs ahead runs tasks early.",
    },
}
# A variant runs its design's module at other parameters: same causes.
for _name, _base in (
    ("poll-remove-run@source", "poll-remove-run"),
    ("client-retry@source", "client-retry"),
):
    EXPLANATIONS[_name] = EXPLANATIONS[_base]


def explanation(design: str, cause: str) -> str:
    if cause == "lost_still_pending":
        return STILL_PENDING
    return EXPLANATIONS.get(design, {}).get(
        cause, "No explanation is registered for this cause: investigate the runs."
    )

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

EXPLANATIONS: dict[str, dict[str, str]] = {
    "reference": {
        "lost_never_started": "Redis lost acknowledged writes: without persistence a restart "
        "starts empty, and appendfsync no/everysec lose what was not yet fsynced at a power "
        "loss (see the strikes per configuration in matrix.md).",
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
        "lost_started_never_finished": "The poller ZREMs the task before it runs the handler: "
        "a worker killed (or a run cut short) after ZREM takes the task with it, and its hash "
        "stays behind, orphaned. Nothing in Redis says the task was ever taken.",
        "lost_failed_not_retried": "A handler error is only logged, then the hash is deleted: "
        "the design has no retry.",
        "lost_never_started": "The id was ZREMed but never run: the ZREM's or HGETALL's "
        "reply was lost on a broken connection, the worker died while the task waited for "
        "a free handler thread, or the poller took it just before the producer's separate "
        "HSET and skipped it without a word; else Redis lost the write (restart or power "
        "cut).",
        "duplicate_overlapping": "Recurring tasks are in-process timers (node-cron in the "
        "source): every instance fires every slot itself, so two cron processes run each "
        "slot twice, at the same moment.",
        "duplicate_after": "Redis came back from a power cut or a slow-disk kill without "
        "the ZREM (everysec: the last writes were not on disk), so the id was due again and "
        "ran again; or a producer retry after a lost reply re-added an id a poller had "
        "already taken.",
        "early": "Due time is judged by each poller's own clock: a worker whose clock runs "
        "ahead takes tasks before they are due.",
        "cron_repeated": "Every cron process fires every slot itself (in-process timers, no "
        "Redis): one run per process per slot.",
        "cron_missed": "In-process timers keep nothing in Redis: a slot that passes while its "
        "processes are down or restarting never fires.",
    },
    "watch-dispatcher": {
        "lost_started_never_finished": "A worker's BLPOP removed the task from the list before "
        "the handler ran; a worker killed mid-handler loses it for good, since nothing else "
        "records it.",
        "lost_failed_not_retried": "A handler error is logged and the task dropped: the answer "
        "has no retry.",
        "lost_never_started": "BLPOP removed the task from the list but its reply never "
        "reached the worker (a connection reset or cut while the reply was on its way: "
        "Redis does not put it back), or the worker died between BLPOP and the handler; "
        "else a write Redis lost on a restart or power cut.",
        "duplicate_after": "Redis came back from a power cut or a slow-disk kill without "
        "the move (RPUSH+ZREM) or the BLPOP, so the task was dispatched or popped again; or "
        "a producer retry after a lost reply re-added a task a dispatcher had already moved "
        "(the WATCH guards dispatchers, not producers).",
        "duplicate_overlapping": "A producer retry re-added a task that a dispatcher had "
        "already moved while its first run was still going.",
        "early": "Due time is judged by the dispatcher's own clock: a dispatcher whose clock "
        "runs ahead moves tasks before they are due.",
    },
    "batch-dispatcher": {
        "lost_started_never_finished": "A worker's BLPOP removed the task from the list before "
        "the handler ran; a worker killed mid-handler loses it for good.",
        "lost_failed_not_retried": "A handler error is logged and the task dropped (its "
        "result goes to a list nobody reads): no retry.",
        "lost_never_started": "BLPOP removed the task from the list but its reply never "
        "reached the worker (a connection reset or cut while the reply was on its way), or "
        "the worker died between BLPOP and the handler; else a write Redis lost on a "
        "restart or power cut.",
        "duplicate_after": "Redis came back from a power cut or a slow-disk kill without "
        "the move (RPUSH+ZREM) or the BLPOP, so the task was dispatched or popped again; or "
        "a producer retry after a lost reply re-added a task already moved; or two "
        "dispatchers moved the same entry (no WATCH: the second ZREM is a no-op, its RPUSH "
        "is not).",
        "duplicate_overlapping": "A producer retry re-added a task already moved while its "
        "first run was still going; or two dispatchers moved the same entry.",
        "early": "Due time is judged by the central dispatcher's clock: while it runs ahead, "
        "every task is moved early.",
    },
    "idempotency-keys": {
        "duplicate_overlapping": "Every executor polls the whole set and removes a task only "
        "after running it: a due task runs on each executor that sees it before the first "
        "ZREM. The repeats carry the same key (task id and score), which a receiver that "
        "keeps seen keys would drop.",
        "duplicate_after": "Removal comes after the run: a worker killed between the handler "
        "and ZREM, a ZREM that failed, or one that Redis lost in a power cut or restart, "
        "leaves the task to run again with the same key.",
        "early": "Scores are whole Unix seconds: a task due at x.9 s is eligible at x.0 s, up "
        "to a second early (and a skewed executor clock adds its skew).",
        "lost_failed_not_retried": "A failed run is removed like a successful one: the "
        "README has no retry.",
        "lost_started_never_finished": "Its runs were cut short and the task was gone from the "
        "set before any finished: another executor's ZREM after its own (failed) run.",
        "lost_never_started": "A write Redis lost on a restart or power cut.",
    },
    "client-retry": {
        "lost_started_never_finished": "The killed run's re-issue entry is scored by the "
        "claiming worker's own clock (now + retry timeout): a worker whose clock ran 30 s "
        "ahead re-issues it about 32 s later, after this run's 20 s drain ended (late rather "
        "than lost: Redis still held it, see stats_at_end). Without that, Redis lost the "
        "re-issue entry in a restart.",
        "lost_failed_not_retried": "Redis lost the re-issue entry of a failed run (restart or "
        "power cut), or its re-issue fell after the drain.",
        "lost_never_started": "A write Redis lost on a restart or power cut, or a re-issue "
        "scored after the drain by a skewed clock.",
        "duplicate_overlapping": "A handler slower than the retry timeout (or paused past it) "
        "is issued again while it still runs: the timeout is the only lease, unfenced.",
        "duplicate_after": "A run that finished before its ZREM of the re-issue entry reached "
        "Redis (a kill, a lost reply, a restart that dropped the ZREM) is issued again; a "
        "producer retry after a lost reply pushes a second run (each push has its own id).",
        "early": "Due times are relative delays judged by each instance's own clock: a worker "
        "whose clock runs ahead takes runs early.",
        "cron_missed": "Instances poll once a second and fire a slot at the first poll after "
        "it; an instance killed within that second takes the slot with it, and a restarted "
        "one fires no slot from before it started (no catch-up).",
        "cron_repeated": "A slot's run was issued again after its retry timeout (a slow or "
        "killed run).",
    },
}


def explanation(design: str, cause: str) -> str:
    if cause == "lost_still_pending":
        return STILL_PENDING
    return EXPLANATIONS.get(design, {}).get(
        cause, "No explanation is registered for this cause: investigate the runs."
    )

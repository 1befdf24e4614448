"""Why a design loses, repeats or runs a task early: one explanation per design and cause.

The comparison report (:mod:`chaos.comparison`) splits every loss and repeat of a
run by what the history shows (the cause keys below) and prints the design's
explanation of that cause. A cause with no explanation here is printed as one to
investigate, never silently.
"""

from __future__ import annotations

CAUSE_WORDS = {
    "lost_started_never_finished": "lost: its only runs died mid-handler",
    "lost_failed_not_retried": "lost: its run failed and was never run again",
    "lost_never_started": "lost: never ran",
    "duplicate_overlapping": "repeats that started while an earlier run still ran",
    "duplicate_after": "repeats after an earlier run had finished",
    "early": "runs that started before their due time",
    "cron_repeated": "cron slots fired more than once",
    "cron_missed": "cron slots missed while a ticker was up",
}

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
}


def explanation(design: str, cause: str) -> str:
    return EXPLANATIONS.get(design, {}).get(
        cause, "No explanation is registered for this cause: investigate the runs."
    )

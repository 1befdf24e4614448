"""full_memory: calls a full Redis refused were recorded as refused, and wrote nothing."""

from __future__ import annotations

import redis
from history_builder import HistoryBuilder

from duetime.chaos.checker import full_memory

FULL = "RedisFull('schedule_task: Redis is out of memory ... nothing was written')"
# What the producer records for a plain client's refusal: repr() of redis-py's error.
OOM = repr(redis.exceptions.OutOfMemoryError("OOM command not allowed when used memory"))


def filled(hb: HistoryBuilder, full: bool = True) -> HistoryBuilder:
    """Redis filling from 1.0, full until it is freed at 3.0; a task acknowledged before."""
    hb.fault("fill_memory", 1.1, 3.0, ["redis"], full=full, filling_since=1.0)
    return hb.schedule("early", due=0.5, at=0.1).run("early", 0.6, 0.7)


def test_refusals_while_full_recorded_as_not_written_pass(hb: HistoryBuilder) -> None:
    hb = filled(hb).schedule("refused", due=4.0, at=1.5, outcomes=("fail",), error=FULL)
    result = full_memory.check(hb.build())
    assert (result.verdict, result.details["refused_full"]) == ("valid", 1)


def test_a_refusal_for_memory_recorded_indeterminate_fails(hb: HistoryBuilder) -> None:
    hb = filled(hb).schedule("maybe", due=4.0, at=1.5, outcomes=("info", "ok"), error=OOM)
    hb.run("maybe", 4.0, 4.1)
    result = full_memory.check(hb.build())
    assert result.verdict == "invalid"
    assert result.details["memory_refusals_recorded_indeterminate"] == 1


def test_a_refused_task_that_ran_fails(hb: HistoryBuilder) -> None:
    hb = filled(hb).schedule("refused", due=4.0, at=1.5, outcomes=("fail",), error=FULL)
    result = full_memory.check(hb.run("refused", 4.0, 4.1).build())
    assert (result.verdict, result.details["refused_but_ran_ids"]) == ("invalid", ["refused"])


def test_a_full_refusal_with_no_fill_in_force_fails(hb: HistoryBuilder) -> None:
    hb = filled(hb).schedule("refused", due=4.0, at=1.5, outcomes=("fail",), error=FULL)
    hb.schedule("later", due=6.0, at=5.0, outcomes=("fail",), error=FULL)
    result = full_memory.check(hb.build())
    assert (result.verdict, result.details["refused_outside_a_fill"]) == ("invalid", 1)


def test_a_fill_that_never_made_redis_full_is_unknown(hb: HistoryBuilder) -> None:
    hb = filled(hb, full=False).schedule("t", due=4.0, at=1.5).run("t", 4.0, 4.1)
    assert full_memory.check(hb.build()).verdict == "unknown"


def test_no_call_while_full_is_unknown(hb: HistoryBuilder) -> None:
    assert full_memory.check(filled(hb).build()).verdict == "unknown"


def test_an_evicting_redis_that_refused_nothing_passes(hb: HistoryBuilder) -> None:
    hb.fault("fill_memory", 1.1, 3.0, ["redis"], full=False, policy="allkeys-lru")
    assert full_memory.check(hb.schedule("t", due=4.0, at=1.5).build()).verdict == "valid"


def test_an_evicting_redis_that_refused_a_call_as_full_fails(hb: HistoryBuilder) -> None:
    hb.fault("fill_memory", 1.1, 3.0, ["redis"], full=False, policy="allkeys-lru")
    hb.schedule("refused", due=4.0, at=1.5, outcomes=("fail",), error=FULL)
    assert full_memory.check(hb.build()).verdict == "invalid"

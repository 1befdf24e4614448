"""The wrapper around an application's handlers: every run recorded, whatever it does.

Called in process with a sink of the test's own: a run that returns is ``invoke`` then
``ok``; one that raises is ``invoke`` then ``fail`` with the error, and the error reaches
the worker; an injected failure is raised before the handler is called; a coroutine
function stays one (the worker awaits it).
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from duetime.chaos.client.fail_plan import PLAN_FILE, write_fail_plan
from duetime.chaos.client.handlers import ExecutionRecorder, InjectedFailure
from duetime.chaos.client.user_handlers import (
    UserHandlersError,
    import_handlers,
    import_root,
    recorded,
)
from duetime.chaos.client.workload import PlannedTask
from duetime.chaos.history.clock import TestbedClock
from duetime.chaos.history.sink import EventSink
from duetime.chaos.history.sink_reader import read_sink


def task(task_id: str = "t-1", attempt: int = 1) -> Any:
    return SimpleNamespace(
        task_id=task_id,
        task_type="send_email",
        data={"user": 7},
        attempt=attempt,
        max_attempts=3,
        due_at=1.0,
        idempotency_key="k",
    )


def recorder(sink_dir: Path) -> ExecutionRecorder:
    clock = TestbedClock.anchored_now()
    return ExecutionRecorder(lambda: EventSink(sink_dir / "worker-0.jsonl", "worker-0", clock))


def runs(sink_dir: Path) -> list[tuple[str, str]]:
    return [(op.type, op.value["task_id"]) for op in read_sink(sink_dir) if op.f == "execute"]


def test_each_run_is_recorded_and_a_handler_s_error_reaches_the_worker(tmp_path: Path) -> None:
    seen: list[Any] = []

    def send_email(t: Any) -> str:
        if t.attempt == 1:
            raise ConnectionError("smtp down")
        seen.append(t.data)
        return "sent"

    wrapped = recorded(send_email, recorder(tmp_path))
    with pytest.raises(ConnectionError, match="smtp down"):
        wrapped(task(attempt=1))
    assert wrapped(task(attempt=2)) == "sent"
    assert seen == [{"user": 7}]
    assert runs(tmp_path) == [("invoke", "t-1"), ("fail", "t-1"), ("invoke", "t-1"), ("ok", "t-1")]
    failed = next(op for op in read_sink(tmp_path) if op.type == "fail")
    assert "smtp down" in failed.value["error"]


def test_a_coroutine_handler_stays_one_and_is_recorded(tmp_path: Path) -> None:
    async def resize(t: Any) -> None:
        await asyncio.sleep(0)

    wrapped = recorded(resize, recorder(tmp_path))
    assert inspect.iscoroutinefunction(wrapped)
    asyncio.run(wrapped(task()))
    assert runs(tmp_path) == [("invoke", "t-1"), ("ok", "t-1")]


def test_an_injected_failure_is_raised_before_the_handler_runs(tmp_path: Path) -> None:
    calls: list[str] = []
    planned = PlannedTask("t-1", 0, 0.0, 1.0, 0.0, max_attempts=3, fail_attempts=2)
    write_fail_plan(tmp_path, [planned])
    assert (tmp_path / PLAN_FILE).is_file()
    wrapped = recorded(lambda t: calls.append(t.task_id), recorder(tmp_path))
    for attempt in (1, 2):
        with pytest.raises(InjectedFailure):
            wrapped(task(attempt=attempt))
    wrapped(task(attempt=3))
    assert calls == ["t-1"]
    assert [kind for kind, _ in runs(tmp_path)] == [
        "invoke",
        "fail",
        "invoke",
        "fail",
        "invoke",
        "ok",
    ]


def test_a_registry_that_cannot_be_used_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    (tmp_path / "registryapp").mkdir()
    (tmp_path / "registryapp" / "__init__.py").write_text("")
    (tmp_path / "registryapp" / "tasks.py").write_text(
        "HANDLERS = {'send_email': print}\nEMPTY = {}\nNOT_CALLABLE = {'a': 1}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    # Gone again afterwards (monkeypatch.delitem would put them back).
    request.addfinalizer(
        lambda: [sys.modules.pop(m) for m in list(sys.modules) if m.startswith("registryapp")]
    )
    assert set(import_handlers("registryapp.tasks:HANDLERS")) == {"send_email"}
    assert import_root("registryapp.tasks:HANDLERS") == tmp_path
    assert import_root("registryapp:X") == tmp_path
    for spec, message in (
        ("registryapp.tasks", "must look like MODULE:ATTR"),
        ("registryapp.nope:HANDLERS", "cannot import registryapp.nope"),
        ("registryapp.tasks:EMPTY", "non-empty dict"),
        ("registryapp.tasks:MISSING", "non-empty dict"),
        ("registryapp.tasks:NOT_CALLABLE", "not a task type with a callable: a"),
    ):
        with pytest.raises(UserHandlersError, match=message):
            import_handlers(spec)

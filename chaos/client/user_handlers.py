"""An application's own handlers, run by chaos workers and recorded like the testbed's.

A run with ``ClusterSettings(user_handlers="myapp.tasks:HANDLERS")`` starts its workers
with ``--handlers duetime.chaos.client.user_handlers:HANDLERS`` and names the
application's registry in ``$DUETIME_CHAOS_USER_HANDLERS``. Each of its handlers is
wrapped: the wrapper records ``invoke execute`` before the handler runs and ``ok`` or
``fail execute`` after it (a worker SIGKILLed mid-task leaves a start without an end),
so executions are recorded outside Redis whatever the handler does. A failure the
workload injects (``fail_plan``) is raised before the handler is called: the
application's side effects never see an injected failure. The testbed's own task
types stay available, so scenarios with cron schedules keep their recorded ticks.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from duetime.chaos.history.ops import EXECUTE

from .fail_plan import fails_now, read_fail_plan
from .handlers import HANDLERS as TESTBED_HANDLERS
from .handlers import RECORDER, ExecutionRecorder, InjectedFailure, TaskLike

USER_HANDLERS_ENV = "DUETIME_CHAOS_USER_HANDLERS"
SPEC = "duetime.chaos.client.user_handlers:HANDLERS"


class UserHandlersError(ValueError):
    """A ``MODULE:ATTR`` that does not name a dict of task type -> callable."""


def import_handlers(spec: str) -> Mapping[str, Callable[..., Any]]:
    """Import the registry ``spec`` names (``myapp.tasks:HANDLERS``), checking its shape."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise UserHandlersError(
            f"handlers must look like MODULE:ATTR (myapp.tasks:HANDLERS), not {spec!r}"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UserHandlersError(f"handlers {spec!r}: cannot import {module_name}: {exc}") from None
    handlers = getattr(module, attr, None)
    if not isinstance(handlers, Mapping) or not handlers:
        raise UserHandlersError(
            f"handlers {spec!r}: must be a non-empty dict of task type -> callable"
        )
    bad = sorted(str(k) for k, v in handlers.items() if not isinstance(k, str) or not callable(v))
    if bad:
        raise UserHandlersError(
            f"handlers {spec!r}: not a task type with a callable: {', '.join(bad)}"
        )
    return handlers


def import_root(spec: str) -> Path:
    """The folder to put on ``sys.path`` for worker processes to import ``spec``'s module."""
    module_name = spec.partition(":")[0]
    module = importlib.import_module(module_name)
    file = getattr(module, "__file__", None)
    if file is None:
        raise UserHandlersError(f"handlers {spec!r}: {module_name} is not a module of files")
    levels = module_name.count(".") + (1 if Path(file).name == "__init__.py" else 0)
    return Path(file).absolute().parents[levels]


def recorded(handler: Callable[..., Any], recorder: ExecutionRecorder) -> Callable[..., Any]:
    """``handler`` wrapped to record each run; a coroutine function stays one."""

    def injected(task: TaskLike, value: dict[str, Any]) -> None:
        sink_dir = recorder.sink.path.parent
        if fails_now(sink_dir, task.task_id, _fail_plan(sink_dir).get(task.task_id, 0)):
            recorder.fail(
                value, InjectedFailure(f"{task.task_id}: attempt {task.attempt} asked to fail")
            )

    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def run_async(task: TaskLike) -> Any:
            value = recorder.start(task)
            injected(task, value)
            try:
                result = await handler(task)
            except Exception as exc:
                recorder.fail(value, exc)
            recorder.sink.record("ok", EXECUTE, value)
            return result

        return run_async

    @functools.wraps(handler)
    def run(task: TaskLike) -> Any:
        value = recorder.start(task)
        injected(task, value)
        try:
            result = handler(task)
        except Exception as exc:
            recorder.fail(value, exc)
        recorder.sink.record("ok", EXECUTE, value)
        return result

    return run


@functools.cache
def _fail_plan(sink_dir: Path) -> Mapping[str, int]:
    # Written by the runner before any worker started: read once per process.
    return read_fail_plan(sink_dir)


class _FromEnvironment(Mapping[str, Callable[..., Any]]):
    """The application's handlers, wrapped, imported on first use (in the worker process)."""

    def __init__(self) -> None:
        self._handlers: dict[str, Callable[..., Any]] | None = None

    def _load(self) -> dict[str, Callable[..., Any]]:
        if self._handlers is None:
            spec = os.environ.get(USER_HANDLERS_ENV)
            if not spec:
                raise UserHandlersError(
                    f"${USER_HANDLERS_ENV} is not set: run this under the chaos runner"
                )
            user = {k: recorded(v, RECORDER) for k, v in import_handlers(spec).items()}
            self._handlers = {**TESTBED_HANDLERS, **user}
        return self._handlers

    def __getitem__(self, key: str) -> Callable[..., Any]:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


HANDLERS: Mapping[str, Callable[..., Any]] = _FromEnvironment()

"""One child process in its own process group: start, signal, kill, stop."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

STOP_GRACE_S = 5.0


@dataclass(frozen=True)
class ProcessSpec:
    """What to run: ``role`` groups processes (worker, cron), ``name`` is unique in a run."""

    name: str
    role: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def python_module(
        cls, name: str, role: str, module: str, args: Sequence[str], env: Mapping[str, str]
    ) -> ProcessSpec:
        return cls(name, role, (sys.executable, "-m", module, *args), dict(env))


class ManagedProcess:
    """A child started in a new session, so signals reach it and all its descendants.

    Its output goes to ``log_path`` (appended across restarts).
    """

    def __init__(self, spec: ProcessSpec, log_path: Path) -> None:
        self.spec = spec
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, extra_env: Mapping[str, str] | None = None) -> int:
        env = {**os.environ, **self.spec.env, **(extra_env or {})}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                self.spec.argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self._proc.pid

    def signal_group(self, sig: signal.Signals) -> None:
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL the whole group and reap it."""
        self.signal_group(signal.SIGKILL)
        self._reap(timeout=STOP_GRACE_S)

    def stop(self, grace: float = STOP_GRACE_S) -> None:
        """SIGTERM (after SIGCONT, in case it is paused); SIGKILL if it outlives ``grace``."""
        self.terminate()
        self.finish(grace)

    def terminate(self) -> None:
        """Ask the group to stop (SIGCONT then SIGTERM) without waiting."""
        self.signal_group(signal.SIGCONT)
        self.signal_group(signal.SIGTERM)

    def finish(self, grace: float = STOP_GRACE_S) -> None:
        """Wait up to ``grace`` for an exit asked with :meth:`terminate`, then SIGKILL."""
        if self._proc is None:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=grace)
        self.kill()

    def _reap(self, timeout: float) -> None:
        if self._proc is None:
            return
        try:
            self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=timeout)
        # Descendants may outlive the leader; the group id is still the leader's pid.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, signal.SIGKILL)

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc else None

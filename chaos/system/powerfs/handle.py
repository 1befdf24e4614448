"""``PowerLossFS``: start the filesystem process, command it, and always clean up."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from . import control
from .availability import available
from .mounts import is_mounted, unmount
from .report import DropReport, Stats

_POLL_S = 0.02
_UNMOUNT_WAIT_S = 5.0
_TERM_WAIT_S = 3.0


class PowerFSError(RuntimeError):
    """The filesystem could not be started or used."""


class PowerFSUnavailable(PowerFSError):
    """FUSE cannot be used on this machine; the message says why."""


class PowerLossFS:
    """A FUSE mount of ``backing_dir`` at ``mountpoint`` that can lose un-fsynced data.

    ``start()`` spawns ``python -m duetime.chaos.system.powerfs mount`` and waits until it is
    mounted and answers; ``stop()`` unmounts and ends it, whatever state it is in.
    Use it as a context manager so ``stop()`` runs on errors and Ctrl-C too; if
    this process dies without ``stop()``, the filesystem process notices and
    unmounts itself.
    """

    def __init__(
        self,
        backing_dir: str | os.PathLike[str],
        mountpoint: str | os.PathLike[str],
        *,
        fsync_delay: float = 0.0,
        start_timeout: float = 15.0,
    ) -> None:
        if fsync_delay < 0:
            raise ValueError(f"fsync_delay must be >= 0, not {fsync_delay!r}")
        self.backing_dir = Path(backing_dir).resolve()
        self.mountpoint = Path(mountpoint).resolve()
        if self.backing_dir.is_relative_to(self.mountpoint) or self.mountpoint.is_relative_to(
            self.backing_dir
        ):
            # The daemon would reach its backing files through its own mount: deadlock.
            raise ValueError(f"{backing_dir} and {mountpoint} must not contain each other")
        self.fsync_delay = fsync_delay
        self.start_timeout = start_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._runtime: Path | None = None

    @property
    def control_socket(self) -> Path:
        if self._runtime is None:
            raise PowerFSError("the filesystem is not started")
        return self._runtime / "control.sock"

    @property
    def log_path(self) -> Path | None:
        """The filesystem process's stderr (libfuse and mfusepy messages)."""
        return None if self._runtime is None else self._runtime / "powerfs.log"

    @property
    def pid(self) -> int | None:
        """The filesystem process, while there is one."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> PowerLossFS:
        """Mount, and return once the mount is up and the control socket answers."""
        if self.running:
            return self
        ok, reason = available()
        if not ok:
            raise PowerFSUnavailable(reason)
        if is_mounted(self.mountpoint):
            raise PowerFSError(f"{self.mountpoint} is already a mount point")
        self.backing_dir.mkdir(parents=True, exist_ok=True)
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        try:
            self._spawn()
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self) -> None:
        self._runtime = Path(tempfile.mkdtemp(prefix="powerfs-"))
        command = [
            sys.executable, "-m", "duetime.chaos.system.powerfs", "mount",
            str(self.backing_dir), str(self.mountpoint),
            "--control", str(self.control_socket),
            "--fsync-delay", repr(self.fsync_delay),
            "--exit-with-parent", "--runtime-dir", str(self._runtime),
        ]  # fmt: skip
        assert self.log_path is not None
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise PowerFSError(f"the filesystem process exited: {self._log_tail()}")
            if is_mounted(self.mountpoint):
                with contextlib.suppress(control.ControlError):
                    if self._request("ping", timeout=2.0) == "pong":
                        return
            time.sleep(_POLL_S)
        raise PowerFSError(f"not mounted after {self.start_timeout}s: {self._log_tail()}")

    def _log_tail(self, chars: int = 2000) -> str:
        log = self.log_path
        if log is None or not log.exists():
            return "(no log)"
        return log.read_text(errors="replace")[-chars:] or "(empty log)"

    def _request(self, command: str, timeout: float = 60.0) -> Any:
        return control.request(str(self.control_socket), command, timeout)

    def drop_unsynced(self) -> DropReport:
        """Power loss: every change not covered by a completed fsync is undone."""
        return DropReport.from_json(self._request("drop"))

    def sync_all(self) -> int:
        """Make everything durable now; return how many files had pending changes."""
        result = self._request("sync")
        return int(result["files"])

    def set_fsync_delay(self, seconds: float) -> None:
        """From now on every fsync sleeps ``seconds`` before it makes data durable."""
        self._request(f"fsync-delay {float(seconds)!r}")
        self.fsync_delay = seconds

    def stats(self) -> Stats:
        return Stats.from_json(self._request("stats"))

    def pending_bytes(self) -> dict[str, int]:
        """Un-fsynced bytes per file (path relative to the backing directory)."""
        return self.stats().pending

    def ping(self) -> bool:
        try:
            return bool(self._request("ping", timeout=2.0) == "pong")
        except control.ControlError:
            return False

    def stop(self) -> None:
        """Unmount and end the process; idempotent, and thorough even after failures."""
        if self._proc is None and self._runtime is None:
            return  # never started: the mount point, if mounted, is someone else's
        try:
            if self.running and is_mounted(self.mountpoint) and unmount(self.mountpoint):
                self._wait_exit(_UNMOUNT_WAIT_S)
        finally:
            try:
                if is_mounted(self.mountpoint):
                    unmount(self.mountpoint, lazy=True)
                self._terminate()
                if is_mounted(self.mountpoint):
                    unmount(self.mountpoint, lazy=True)
            finally:
                self._proc = None
                if self._runtime is not None:
                    shutil.rmtree(self._runtime, ignore_errors=True)
                    self._runtime = None

    def _wait_exit(self, timeout: float) -> None:
        if self._proc is None:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=timeout)

    def _terminate(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, _TERM_WAIT_S), (signal.SIGKILL, 10.0)):
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(sig)
            self._wait_exit(wait)
            if self._proc.poll() is not None:
                return

    def __enter__(self) -> PowerLossFS:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

"""Start driver commands and stop them again, with every process they forked."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

STOP_GRACE_S = 5.0


class DriverFailed(RuntimeError):
    """A driver command exited non-zero or printed no result."""


def run_once(cmd: Sequence[str], env: Mapping[str, str], timeout: float) -> dict[str, Any]:
    """Run an ``enqueue`` command to its end; return the JSON it printed last."""
    proc = subprocess.run(
        list(cmd),
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = " | ".join(proc.stderr.strip().splitlines()[-4:])
        raise DriverFailed(f"{' '.join(cmd[:6])} ... exited {proc.returncode}: {tail}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


@contextlib.contextmanager
def started(
    cmds: Sequence[Sequence[str]], env: Mapping[str, str], log: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Run ``cmds`` as worker processes, each in its own session; stop them all at exit.

    Output goes to ``log``. Stopping sends SIGTERM to each session, then SIGKILL to what
    is left after a grace period.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen[bytes]] = []
    with open(log, "ab") as out:
        try:
            for cmd in cmds:
                procs.append(
                    subprocess.Popen(
                        list(cmd),
                        env={**os.environ, **env},
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            yield procs
        finally:
            _stop(procs)


def _signal(p: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(p.pid, sig)


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        _signal(p, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for p in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
    # The session may hold children (pool processes, work horses) after its leader exited.
    for p in procs:
        _signal(p, signal.SIGKILL)
    for p in procs:
        p.wait()

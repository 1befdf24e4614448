"""The control channel: one command per line on a Unix socket, one JSON line back.

Commands: ``ping``, ``drop``, ``sync``, ``stats``, ``fsync-delay SECONDS``.
A reply is ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from typing import Any

from .tracker import DurabilityTracker

_POLL_S = 0.05

COMMANDS = ("ping", "drop", "sync", "stats", "fsync-delay")


class ControlError(RuntimeError):
    """The filesystem refused a command, or could not be reached."""


def execute(tracker: DurabilityTracker, line: str) -> dict[str, Any]:
    """Run one command line against ``tracker`` and build its reply."""
    words = line.split()
    if not words:
        return {"ok": False, "error": "empty command"}
    name, args = words[0], words[1:]
    try:
        if name == "ping" and not args:
            return {"ok": True, "result": "pong"}
        if name == "drop" and not args:
            return {"ok": True, "result": tracker.drop().to_json()}
        if name == "sync" and not args:
            return {"ok": True, "result": {"files": tracker.sync_all()}}
        if name == "stats" and not args:
            return {"ok": True, "result": tracker.stats().to_json()}
        if name == "fsync-delay" and len(args) == 1:
            tracker.set_fsync_delay(float(args[0]))
            return {"ok": True, "result": {"fsync_delay": tracker.fsync_delay}}
    except (OSError, ValueError) as exc:
        return {"ok": False, "error": f"{name}: {exc}"}
    return {"ok": False, "error": f"unknown command {line!r}; commands: {', '.join(COMMANDS)}"}


class _Handler(socketserver.StreamRequestHandler):
    server: ControlServer

    def handle(self) -> None:
        for raw in self.rfile:
            reply = execute(self.server.tracker, raw.decode("utf-8", "replace").strip())
            self.wfile.write(json.dumps(reply).encode() + b"\n")
            self.wfile.flush()


class ControlServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """Serves the control socket at ``path`` from a daemon thread (``start``)."""

    daemon_threads = True

    def __init__(self, path: str, tracker: DurabilityTracker) -> None:
        self.tracker = tracker
        super().__init__(path, _Handler)
        self._thread = threading.Thread(
            target=self.serve_forever, args=(_POLL_S,), name="powerfs-control"
        )
        self._thread.daemon = True

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        if self._thread.is_alive():
            self.shutdown()
        self.server_close()


def request(path: str, command: str, timeout: float = 30.0) -> Any:
    """Send ``command`` to the filesystem listening on ``path``; return its result."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(command.encode() + b"\n")
            with sock.makefile("rb") as reader:
                line = reader.readline()
    except OSError as exc:
        raise ControlError(f"control socket {path}: {exc}") from exc
    if not line:
        raise ControlError(f"control socket {path} closed without a reply to {command!r}")
    reply = json.loads(line)
    if not reply.get("ok"):
        raise ControlError(str(reply.get("error")))
    return reply["result"]

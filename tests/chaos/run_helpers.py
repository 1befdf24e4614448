"""Helpers of the end-to-end chaos tests: are the processes of a run gone."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]


def started_processes(jsonl: Path) -> list[dict[str, Any]]:
    """Every process-start recorded in a JSONL file (the live sink's cluster.jsonl, or
    a finished run's history.jsonl): workers, cron schedulers, redis."""
    if not jsonl.exists():
        return []
    lines = [line for line in jsonl.read_text().splitlines() if line.endswith("}")]
    ops = [json.loads(line) for line in lines]
    return [op["value"] for op in ops if op["f"] == "process-start"]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0

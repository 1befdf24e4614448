"""The command line of the embedded Toxiproxy: serve in the foreground until SIGINT/SIGTERM.

``add_arguments`` and ``run`` let another CLI offer it as a subcommand; ``main`` is
what ``python -m duetime.chaos.toxiproxy`` runs.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from duetime.chaos.toxiproxy.server import DEFAULT_PORT, ToxiproxyServer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="API address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="API port (default 8474)")
    parser.add_argument("--config", type=Path, help="JSON list of proxies to populate at start")
    parser.add_argument("--seed", type=int, help="seed for toxicity draws, jitter and slicing")


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM (from the main thread); 0 after a clean stop."""
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            server = ToxiproxyServer(args.host, args.port, seed=args.seed).start()
        except OSError as exc:
            print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
            return 1
        try:
            if args.config is not None:
                proxies = server.populate(args.config.read_bytes())
                print(f"populated {len(proxies)} proxies from {args.config}", file=sys.stderr)
            print(f"toxiproxy API listening on {server.url}", file=sys.stderr, flush=True)
            done.wait()
        except (OSError, ValueError) as exc:
            print(f"cannot load {args.config}: {exc}", file=sys.stderr)
            return 1
        finally:
            server.stop()
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m duetime.chaos.toxiproxy",
        description="A server that speaks Toxiproxy's HTTP API and applies its toxics.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))

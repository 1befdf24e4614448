"""``python -m duetime.chaos.system.powerfs mount BACKING MOUNTPOINT --control SOCKET
[--fsync-delay S]`` runs the filesystem in the foreground;
``python -m duetime.chaos.system.powerfs ctl SOCKET COMMAND`` sends it one command
(``ping``, ``drop``, ``sync``, ``stats``, ``fsync-delay S``)
and prints the JSON result."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from .control import ControlError, request


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m duetime.chaos.system.powerfs", description=__doc__
    )
    sub = parser.add_subparsers(dest="action", required=True)
    mount = sub.add_parser("mount", help="mount BACKING at MOUNTPOINT (foreground)")
    mount.add_argument("backing")
    mount.add_argument("mountpoint")
    mount.add_argument("--control", required=True, help="Unix socket path for commands")
    mount.add_argument("--fsync-delay", type=float, default=0.0, help="seconds per fsync")
    mount.add_argument(
        "--exit-with-parent", action="store_true", help="unmount when the parent process dies"
    )
    mount.add_argument("--runtime-dir", help="a directory to remove if the parent dies")
    ctl = sub.add_parser("ctl", help="send one command to a mounted filesystem")
    ctl.add_argument("control")
    ctl.add_argument("command", nargs="+")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.action == "ctl":
        try:
            result = request(args.control, " ".join(args.command))
        except ControlError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(json.dumps(result, indent=2))
        return 0
    if args.fsync_delay < 0:
        print("error: --fsync-delay must be >= 0", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="powerfs %(levelname)s %(message)s")
    from .daemon import serve

    return serve(
        args.backing,
        args.mountpoint,
        args.control,
        fsync_delay=args.fsync_delay,
        exit_with_parent=args.exit_with_parent,
        runtime_dir=args.runtime_dir,
    )


if __name__ == "__main__":
    sys.exit(main())

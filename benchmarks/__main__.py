"""``python -m benchmarks run [--quick] [--out FILE]``: start a redis-server, measure, print."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from chaos.redis_server import Persistence, RedisServer

from . import duetime


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="measure duetime on this machine")
    r.add_argument("--quick", action="store_true", help="small counts, to check it works")
    r.add_argument("--out", type=Path, default=None, help="write the JSON result here")
    args = p.parse_args()

    with RedisServer(Persistence(aof="off")) as server:
        version = ".".join(map(str, server.version))
        result = {
            "command": " ".join(["python -m benchmarks", *sys.argv[1:]]),
            "machine": f"{platform.node()} {platform.machine()} {platform.system()}, "
            f"Python {platform.python_version()}, redis-server {version}",
            "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "duetime": duetime.run(server.url, args.quick),
        }
    d = result["duetime"]
    late = d["lateness"]
    print(f"machine: {result['machine']}")
    print(f"schedule_task, one call per task:   {d['schedule']['single_per_s']:>10,.0f} tasks/s")
    print(f"schedule_many (batch):              {d['schedule']['batch_per_s']:>10,.0f} tasks/s")
    print(f"drain no-op tasks, 1 worker proc:   {d['drain_1_process_per_s']:>10,.0f} tasks/s")
    print(f"drain no-op tasks, 2 worker procs:  {d['drain_2_processes_per_s']:>10,.0f} tasks/s")
    print(
        f"lateness of {late['tasks']} delayed tasks: p50 {late['p50_ms']:.1f} ms, "
        f"p99 {late['p99_ms']:.1f} ms, max {late['max_ms']:.1f} ms, "
        f"early {late['early']}, missing {late['tasks'] - late['ran']}"
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


sys.exit(main())

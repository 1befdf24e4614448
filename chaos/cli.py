"""``python -m duetime.chaos``: list scenarios, run one, run the matrix (or render a
finished one's report again), or prove the checkers can fail (``mutants``).

Exit status: 0 when every expectation held, 1 when one did not (or a run
crashed), 2 on bad usage, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console
from rich.rule import Rule
from rich.text import Text

from duetime.chaos.checker.verdict import GOOD
from duetime.chaos.designs import DESIGNS, REFERENCE, Design, UnknownDesign, parse_strategies
from duetime.chaos.explore import cli as explore_cli
from duetime.chaos.mutants import cli as mutants_cli
from duetime.chaos.report.figures import verdict_of
from duetime.chaos.report.matrix import write_matrix
from duetime.chaos.report.matrix_progress import MatrixProgress, clock_text
from duetime.chaos.report.matrix_reload import (
    MatrixDirError,
    load_matrix_results,
    original_command,
)
from duetime.chaos.report.matrix_screen import SCREEN_WIDTH, print_screen, screen_lines
from duetime.chaos.report.rate_costs import RateCostsError, Setting, load_rate_costs
from duetime.chaos.report.terminal import RichObserver, print_line, print_summary
from duetime.chaos.system.backends import (
    BACKENDS,
    DEFAULT_BACKEND,
    BackendUnavailable,
    check_backend,
)
from duetime.chaos.system.redis_server import RedisNotFound
from duetime.chaos.system.run_config import (
    CLUSTER,
    DEFAULTS,
    NOT_APPLICABLE,
    RunConfig,
    not_applicable_verdict,
)
from duetime.chaos.toxiproxy import cli as toxiproxy_cli

from .config import ConfigError, config_help, expand_run_configs, parse_run_config
from .runner import RunRequest, run_scenario
from .scenario import Scenario, ScenarioError, discover, find_scenario, load_scenario

DEFAULT_SEED = 1
DEFAULT_OUT = Path("reports")
RATE_COSTS_HELP = (
    "results.json of python -m benchmarks.durability: fills the schedule-rate cost of "
    "the per-topology table matrix.md opens with (default: not measured)"
)


def _command(
    path: Path,
    config: RunConfig,
    seed: int,
    quick: bool,
    worker_module: str | None,
    backend: str = DEFAULT_BACKEND,
    design: Design = REFERENCE,
) -> str:
    parts = [
        "python",
        "-m",
        "duetime.chaos",
        "run",
        str(path),
        "--config",
        config.label,
        "--seed",
        str(seed),
    ]
    if quick:
        parts.append("--quick")
    if worker_module:
        parts += ["--worker-module", worker_module]
    if backend != DEFAULT_BACKEND:
        parts += ["--backend", backend]
    if design is not REFERENCE:
        parts += ["--strategy", design.name]
    return shlex.join(parts)


def _prepare(scenario: Scenario, quick: bool, worker_module: str | None) -> Scenario:
    if quick:
        scenario = scenario.quick()
    if worker_module:
        scenario = scenario.with_worker_module(worker_module)
    return scenario


def not_applicable(
    scenario: Scenario, config: RunConfig, design: Design, backend: str
) -> str | None:
    """Why this run cannot be made, decided before anything starts; None if it can."""
    why = config.not_applicable(scenario.topologies)
    if why is None and design is not REFERENCE:
        why = design_not_applicable(config, design)
    if why is None and not config.is_default_topology and backend != DEFAULT_BACKEND:
        why = f"the {backend} backend runs one Redis of its image: {config.label} needs local"
    return why


def design_not_applicable(config: RunConfig, design: Design) -> str | None:
    """Why a published design cannot run under ``config`` (which itself can run), or None:
    the designs run on one redis-server or behind Sentinel, as their users would."""
    if config.topology == CLUSTER:
        return (
            f"published designs use a plain redis.Redis client and multi-key commands without "
            f"hash tags, so they do not speak Redis Cluster: {design.name} cannot run on "
            f"topology=cluster"
        )
    if config.durability != DEFAULTS["durability"]:
        return (
            f"published designs never wait for replicas or the AOF: {design.name} runs with "
            f"durability=none only, not durability={config.durability}"
        )
    if config.server != DEFAULTS["server"]:
        return (
            f"published designs are measured on server={DEFAULTS['server']} only: "
            f"{design.name} is not run on server={config.server}"
        )
    return None


def not_applicable_results(
    path: Path,
    scenario: Scenario,
    config: RunConfig,
    args: argparse.Namespace,
    design: Design,
    why: str,
) -> dict[str, Any]:
    """The results of a run that was not made: listed as n/a, never failed."""
    return {
        "run_id": "",
        "scenario": scenario.name,
        "strategy": design.name,
        "description": scenario.description,
        "config": config.label,
        "topology": config.topology,
        "server": config.server,
        "durability": config.durability,
        "seed": args.seed,
        "command": _command(
            path, config, args.seed, args.quick, args.worker_module, args.backend, design
        ),
        **not_applicable_verdict(why),
    }


def _run_one(
    console: Console,
    path: Path,
    scenario: Scenario,
    config: RunConfig,
    args: argparse.Namespace,
    out: Path,
    design: Design = REFERENCE,
    overall: MatrixProgress | None = None,
) -> dict[str, Any]:
    if args.worker_module and design is not REFERENCE:
        raise UnknownDesign("--worker-module replaces the reference scheduler's workers only")
    why = not_applicable(scenario, config, design, args.backend)
    if why is not None:
        print_line(console, Text(f"n/a: {scenario.name} under {config.label}: {why}", "dim"))
        return not_applicable_results(path, scenario, config, args, design, why)
    try:
        config.binary()
    except RedisNotFound as exc:
        raise ConfigError(f"server={config.server}: {exc}") from None
    request = RunRequest(
        scenario=_prepare(scenario, args.quick, args.worker_module),
        persistence=config.persistence,
        seed=args.seed,
        out_root=out,
        command=_command(
            path, config, args.seed, args.quick, args.worker_module, args.backend, design
        ),
        backend=args.backend,
        design=design,
        run_config=config,
    )
    label = f"{scenario.name} {config.label}"
    if design is not REFERENCE:
        label += f" {design.name}"
    with RichObserver(console, label, overall) as observer:
        outcome = run_scenario(request, observer)
    print_summary(console, outcome.results, str(outcome.run_dir))
    return outcome.results


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    for path in select_scenarios(Path(args.directory), None):
        s = load_scenario(path)
        nemeses = ", ".join(n.name for n in s.nemeses) or "none"
        console.print(f"[bold]{path}[/bold]  ({s.name})")
        console.print(f"    {s.description}")
        console.print(
            f"    configs: {', '.join(s.configs)} (default {s.default_config}); "
            f"topologies: {', '.join(s.topologies)}; nemeses: {nemeses}"
        )
    return 0


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    path = find_scenario(args.scenario)
    scenario = load_scenario(path)
    config = parse_run_config(" ".join(args.config) if args.config else scenario.default_config)
    designs = parse_strategies(args.strategy)
    if len(designs) != 1:
        raise UnknownDesign(f"run takes one --strategy, not {args.strategy!r}")
    (design,) = designs
    results = _run_one(console, path, scenario, config, args, Path(args.out), design)
    return exit_status([results], args.allow_skips)


def exit_status(all_results: Sequence[dict[str, Any]], allow_skips: bool) -> int:
    """0 when every run passed (or was measured), and skipped ones only if allowed; else 1.

    A run whose verdict is ``unknown`` tested less than it claims: it is not a pass.
    """
    accepted = GOOD | {NOT_APPLICABLE} | ({"skipped"} if allow_skips else set())
    return 0 if all(verdict_of(r) in accepted for r in all_results) else 1


def select_scenarios(directory: Path, names: str | None) -> list[Path]:
    """The scenario files to run; a folder, or a name, that is not there is an error."""
    if not directory.is_dir():
        raise ScenarioError(f"no such folder of scenarios: {directory}")
    paths = discover(directory)
    if names:
        wanted = [n.strip() for n in names.split(",") if n.strip()]
        unknown = sorted(set(wanted) - {p.stem for p in paths})
        if unknown:
            raise ScenarioError(
                f"no scenario named {', '.join(unknown)} in {directory} "
                f"(there are: {', '.join(p.stem for p in paths)})"
            )
        paths = [p for p in paths if p.stem in wanted]
    if not paths:
        raise ScenarioError(f"no scenario selected: {directory} has no scenario files")
    return paths


def _rate_costs(args: argparse.Namespace) -> dict[Setting, dict[str, Any]] | None:
    return None if args.rate_costs is None else load_rate_costs(Path(args.rate_costs))


def cmd_matrix(args: argparse.Namespace, console: Console) -> int:
    paths = select_scenarios(Path(args.directory), args.scenarios)
    rate_costs = _rate_costs(args)  # a bad file is refused before hours of runs
    chosen = expand_run_configs(args.config) if args.config else None
    designs = parse_strategies(args.strategy)
    if args.worker_module and designs != [REFERENCE]:
        raise UnknownDesign("--worker-module replaces the reference scheduler's workers only")
    out = Path(args.out or DEFAULT_OUT / time.strftime("matrix-%Y%m%d-%H%M%S", time.gmtime()))
    out.mkdir(parents=True, exist_ok=True)
    plan = []
    for path in paths:
        scenario = load_scenario(path)
        configs = chosen or [parse_run_config(c) for c in scenario.configs]
        plan += [(path, scenario, config, design) for design in designs for config in configs]
    # Decided before anything starts: runs that cannot be made are listed, not run.
    by_position: dict[int, dict[str, Any]] = {}
    runnable = []
    for position, (path, scenario, config, design) in enumerate(plan):
        why = not_applicable(scenario, config, design, args.backend)
        if why is None:
            runnable.append((position, path, scenario, config, design))
        else:
            by_position[position] = not_applicable_results(
                path, scenario, config, args, design, why
            )
    for config in {r[3] for r in runnable}:
        try:
            config.binary()
        except RedisNotFound as exc:
            raise ConfigError(f"server={config.server}: {exc}") from None
    if by_position:
        print_line(
            console,
            Text(f"{len(by_position)} of {len(plan)} runs not applicable (see the end)", "dim"),
        )
    overall = MatrixProgress(len(runnable))
    for n, (position, path, scenario, config, design) in enumerate(runnable, start=1):
        _rule(console, f"run {n}/{len(runnable)}: {scenario.name} {config.label} {design.name}")
        print_line(console, Text(overall.line(), style="dim"))
        by_position[position] = _run_one(
            console, path, scenario, config, args, out, design, overall
        )
        overall.run_finished()
    all_results = [by_position[p] for p in sorted(by_position)]
    command = shlex.join(["python", "-m", "duetime.chaos", *sys.argv[1:]])
    md = write_matrix(out, all_results, command, rate_costs, args.rate_costs or "")
    _rule(console, f"matrix done in {clock_text(time.monotonic() - overall.started)}")
    print_screen(console, screen_lines(all_results, out, md))
    status = exit_status(all_results, args.allow_skips)
    if status and all(verdict_of(r) in GOOD | {"skipped", NOT_APPLICABLE} for r in all_results):
        print_line(console, "runs were skipped (see above); --allow-skips accepts that")
    return status


def cmd_matrix_report(args: argparse.Namespace, console: Console) -> int:
    """Render matrix.md (and matrix.json, comparison.md) again from a finished matrix's
    folder, with the durability table's rate costs if given; runs nothing."""
    out = Path(args.directory)
    rate_costs = _rate_costs(args)
    all_results = load_matrix_results(out)
    command = shlex.join(["python", "-m", "duetime.chaos", *sys.argv[1:]])
    first = original_command(out) or command
    md = write_matrix(
        out,
        all_results,
        first,
        rate_costs,
        args.rate_costs or "",
        rendered_by="" if first == command else command,
    )
    print_line(console, f"wrote {md} ({len(all_results)} runs)")
    return 0


def _rule(console: Console, title: str) -> None:
    """A rule as wide as the rest of the output: the terminal's width, at most 100."""
    console.print(Rule(title), width=min(console.width, SCREEN_WIDTH))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m duetime.chaos",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)

    ls = sub.add_parser("list", help="list scenarios and the configs they take")
    ls.add_argument("directory", nargs="?", default="scenarios")
    ls.set_defaults(func=cmd_list)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help="fixes the workload and the fault schedule (default %(default)s)",
        )
        sp.add_argument("--quick", action="store_true", help="a shorter version of each run")
        sp.add_argument(
            "--allow-skips",
            action="store_true",
            help="exit 0 even if runs were skipped (a fault this machine cannot inject); "
            "they are still counted as skipped, never as passed",
        )
        sp.add_argument(
            "--worker-module",
            default=None,
            help="run workers as python -m MODULE worker ... (default: scenario's)",
        )
        sp.add_argument(
            "--backend",
            type=_backend,
            default=DEFAULT_BACKEND,
            help=f"where Redis and Toxiproxy run: {', '.join(BACKENDS)} (default %(default)s; "
            "testcontainers needs a Docker engine)",
        )

    run = sub.add_parser("run", help="run one scenario")
    run.add_argument("scenario", help="path of a scenario file, or a built-in's name")
    run.add_argument(
        "--config",
        action="append",
        help="one setting, e.g. aof=everysec or topology=replicated (repeatable; keys: "
        f"{config_help()}; default: the scenario's, on topology=single)",
    )
    run.add_argument("--out", default=str(DEFAULT_OUT), help="parent of the run folder")
    run.add_argument(
        "--strategy",
        default=REFERENCE.name,
        help=f"the design under test: one of {', '.join(DESIGNS)} (default %(default)s)",
    )
    common(run)
    run.set_defaults(func=cmd_run)

    mx = sub.add_parser("matrix", help="run every scenario under every config")
    mx.add_argument("directory", help="folder of scenario files")
    mx.add_argument(
        "--config",
        action="append",
        help="e.g. aof=off,no,everysec,always; every combination of the keys given runs "
        f"({config_help()}; default: each scenario's configs, on topology=single). "
        "A combination a scenario or server cannot run is listed n/a, not failed",
    )
    mx.add_argument("--scenarios", default=None, help="comma-separated names to keep")
    mx.add_argument("--out", default=None, help="folder for the runs and matrix.md")
    mx.add_argument(
        "--strategy",
        default=REFERENCE.name,
        help=f"designs to compare: all, or a comma-separated list of {', '.join(DESIGNS)} "
        "(default %(default)s)",
    )
    mx.add_argument("--rate-costs", default=None, help=RATE_COSTS_HELP)
    common(mx)
    mx.set_defaults(func=cmd_matrix)

    mr = sub.add_parser(
        "matrix-report",
        help="render matrix.md again from a finished matrix's folder, running nothing",
    )
    mr.add_argument("directory", help="the matrix's folder (its --out: has matrix.json)")
    mr.add_argument("--rate-costs", default=None, help=RATE_COSTS_HELP)
    mr.set_defaults(func=cmd_matrix_report)

    ex = sub.add_parser(
        "explore",
        help="search generated fault schedules for failing properties; shrink and save them",
    )
    explore_cli.add_arguments(ex)
    ex.set_defaults(func=explore_cli.run)

    mu = sub.add_parser(
        "mutants",
        help="plant each catalogued bug in a scratch copy and check a run catches it; "
        "run the unmodified code as baseline",
    )
    mutants_cli.add_arguments(mu)
    mu.set_defaults(func=mutants_cli.run)

    tp = sub.add_parser(
        "toxiproxy", help="serve the embedded Toxiproxy HTTP API until Ctrl-C (any client works)"
    )
    toxiproxy_cli.add_arguments(tp)
    tp.set_defaults(func=lambda args, console: toxiproxy_cli.run(args))
    return p


def _backend(name: str) -> str:
    try:
        return check_backend(name)
    except BackendUnavailable as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _interrupt_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    try:
        result: int = args.func(args, console)
        return result
    except (
        ConfigError,
        ScenarioError,
        UnknownDesign,
        FileNotFoundError,
        RateCostsError,
        MatrixDirError,
    ) as exc:
        print_line(Console(stderr=True), Text.assemble(("error:", "red"), f" {exc}"))
        return 2
    except KeyboardInterrupt:
        print_line(console, Text("interrupted: every process of the run was stopped", "yellow"))
        return 130

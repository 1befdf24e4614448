"""matrix.md opens with the per-topology durability table, and ``matrix-report`` renders
it again from a finished matrix's folder (its matrix.json and run folders), running
nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from duetime.chaos.cli import main
from duetime.chaos.report.matrix import MATRIX_JSON, MATRIX_MD, write_matrix
from duetime.chaos.report.rate_costs import NOT_MEASURED

COMMAND = "python -m duetime.chaos matrix scenarios/ --config topology=single,replicated"
TABLE = "## Per topology and durability"
NA_REASON = "durability=wait waits for replicas: topology=single has none"


def made(config: str, lost: int = 0) -> dict[str, Any]:
    return {
        "scenario": "failover_primary",
        "strategy": "reference",
        "config": config,
        "status": "completed",
        "verdict": "passed",
        "passed": True,
        "run_id": f"20261207-050000-failover_primary-{config.replace(',', '-')}-s1",
        "expectations": [],
        "checkers": {
            "lost": {
                "details": {
                    "acknowledged": 100,
                    "executed": 100 - lost,
                    "lost": lost,
                    "lost_unexplained": 0,
                    "loss_windows": [],
                    "failovers": [
                        {"promotion_s": 4.25, "clients_waited_s": 4.5, "missing_bytes": 310}
                    ],
                }
            },
            "duplicated": {"details": {"duplicated_tasks": 0, "max_executions_per_task": 1}},
            "lateness": {"details": {"p99_s": 0.5, "max_s": 6.125}},
        },
    }


def not_made(config: str) -> dict[str, Any]:
    return {
        "run_id": "",
        "scenario": "failover_primary",
        "strategy": "reference",
        "config": config,
        "status": "n/a",
        "skip_reason": NA_REASON,
        "verdict": "n/a",
        "verdict_reasons": [NA_REASON],
        "passed": False,
        "expectations": [],
        "checkers": {},
    }


def finished_matrix(out: Path, *all_results: dict[str, Any], old: bool = False) -> Path:
    """A matrix folder as ``matrix`` leaves it; ``old``: as the code before the table
    left it (no n/a reasons in matrix.json: matrix.md has them; no table in matrix.md)."""
    out.mkdir()
    for r in all_results:
        if r["run_id"]:
            (out / r["run_id"]).mkdir()
            (out / r["run_id"] / "results.json").write_text(json.dumps(r))
    write_matrix(out, all_results, COMMAND)
    if old:
        rows = json.loads((out / MATRIX_JSON).read_text())
        for row in rows:
            row.pop("skip_reason", None)
        (out / MATRIX_JSON).write_text(json.dumps(rows))
        md = (out / MATRIX_MD).read_text()
        start, end = md.index(TABLE), md.index("Expected losses")
        (out / MATRIX_MD).write_text(md[:start] + md[end:])
    return out


def rate_costs(tmp_path: Path) -> Path:
    path = tmp_path / "bench.json"
    rows = [
        {"server": "redis", "topology": t, "durability": d, "calls": {"per_s": rate}}
        for t, d, rate in (("single", "none", 2000), ("replicated", "wait", 1500))
    ]
    path.write_text(json.dumps({"rows": rows}))
    return path


RUNS = (
    made("aof=everysec"),
    not_made("durability=wait,aof=everysec"),
    made("topology=replicated,aof=everysec", lost=2),
    made("topology=replicated,durability=wait,aof=everysec"),
)


def table_rows(md: str) -> list[list[str]]:
    start = md.index(TABLE)
    lines = md[start:].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("| topology"))
    rows = []
    for line in lines[first + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def test_a_matrix_off_topology_single_opens_with_the_table() -> None:
    from duetime.chaos.report.matrix import render_markdown

    md = render_markdown(list(RUNS), COMMAND)
    assert md.index(TABLE) < md.index("| scenario | strategy |")
    rows = table_rows(md)
    assert [r[:2] for r in rows] == [
        ["single", "none"],
        ["replicated", "none"],
        ["replicated", "wait"],
    ]
    assert [r[4] for r in rows] == ["0", "2", "0"]
    assert rows[1][7:9] == ["6.125", "1 (4.25 / 4.50)"]
    assert all(r[-1] == NOT_MEASURED for r in rows)


def test_a_matrix_on_topology_single_alone_has_no_table() -> None:
    from duetime.chaos.report.matrix import render_markdown

    assert TABLE not in render_markdown([made("aof=everysec"), made("aof=always")], COMMAND)


def test_matrix_report_adds_the_table_and_costs_to_a_matrix_made_before_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = finished_matrix(tmp_path / "m", *RUNS, old=True)
    before = (out / MATRIX_MD).read_text()
    assert TABLE not in before
    assert main(["matrix-report", str(out), "--rate-costs", str(rate_costs(tmp_path))]) == 0
    md = (out / MATRIX_MD).read_text()
    assert f"Generated by `{COMMAND}`. Re-rendered by `" in md
    rows = table_rows(md)
    assert [r[-1] for r in rows] == [
        "100% of single/none (2,000 calls/s)",
        NOT_MEASURED,
        "75% of single/none (1,500 calls/s)",
    ]
    # Everything else the matrix said is said again, the table aside.
    start, end = md.index(TABLE), md.index("Expected losses")
    assert (
        md[: md.index(" Re-rendered")] + md[md.index(" Each run wrote") : start] + md[end:]
    ) == before
    assert f"n/a: {NA_REASON}: failover_primary under durability=wait,aof=everysec" in md
    assert str(out / MATRIX_MD) in " ".join(capsys.readouterr().out.split())


def test_matrix_report_keeps_the_reasons_of_runs_not_made(tmp_path: Path) -> None:
    out = finished_matrix(tmp_path / "m", *RUNS)
    before = (out / MATRIX_MD).read_text()
    assert main(["matrix-report", str(out)]) == 0
    after = (out / MATRIX_MD).read_text()
    assert f"n/a: {NA_REASON}: failover_primary under durability=wait,aof=everysec" in after
    assert (
        after.replace(after[after.index(" Re-rendered") : after.index(" Each run")], "") == before
    )


@pytest.mark.parametrize("broken", ["no matrix.json", "a run folder gone", "bad rate costs"])
def test_matrix_report_refuses_a_broken_folder_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], broken: str
) -> None:
    out = finished_matrix(tmp_path / "m", *RUNS)
    argv = ["matrix-report", str(out)]
    if broken == "no matrix.json":
        (out / MATRIX_JSON).unlink()
    elif broken == "a run folder gone":
        (out / RUNS[2]["run_id"] / "results.json").unlink()
    else:
        (tmp_path / "bad.json").write_text('{"rows": [{"server": "redis"}]}')
        argv += ["--rate-costs", str(tmp_path / "bad.json")]
    before = (out / MATRIX_MD).read_text()
    assert main(argv) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith("error:") and "Traceback" not in err
    assert (out / MATRIX_MD).read_text() == before


def test_matrix_refuses_a_bad_rate_costs_file_before_running_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenarios = Path(__file__).parents[2] / "scenarios"
    out = tmp_path / "out"
    # Every run of this selection is n/a, so a regression fails in a second, not a matrix.
    argv = ["matrix", str(scenarios), "--scenarios", "failover_primary", "--config"]
    argv += ["topology=single", "--out", str(out), "--rate-costs", str(tmp_path / "none")]
    assert main(argv) == 2
    assert "--rate-costs: no such file" in capsys.readouterr().err
    assert not out.exists()

"""search.json and report.md: what the search found, per configuration, from its record."""

from __future__ import annotations

from pathlib import Path

from explore_helpers import PROCESS_REGISTRY, fake_result, loses_on_late_redis_kill

from duetime.chaos.explore.record import load_all, save, search_record
from duetime.chaos.explore.report import REPORT_FILE, render, write_report
from duetime.chaos.explore.search import Budget, search
from duetime.chaos.explore.strategy import SearchSpace, cases

STRATEGY = cases(SearchSpace(), PROCESS_REGISTRY)


def record_of(config: str, finds: bool) -> dict[str, object]:
    outcome = search(
        STRATEGY,
        lambda case: fake_result(case, lost=finds and loses_on_late_redis_kill(case)),
        Budget(examples=20, shrink_s=1e9),
        seed_value=1,
        database=None,
    )
    return search_record(
        outcome,
        PROCESS_REGISTRY,
        config=config,
        seed=1,
        command=f"python -m duetime.chaos explore --config {config} --examples 20 --seed 1",
        space={"name": "default"},
        budget={"examples": 20, "shrink_s": 300.0},
        started_at="2026-01-01 00:00:00 UTC",
        runs_dir="reports/explore-runs/x",
    )


def test_the_report_gives_each_configuration_its_result_and_command(tmp_path: Path) -> None:
    always = record_of("aof=always", finds=False)
    save(tmp_path / "aof-always", always)
    save(tmp_path / "aof-off", record_of("aof=off", finds=True))
    path = write_report(tmp_path)
    assert path == tmp_path / REPORT_FILE
    text = path.read_text()
    assert text.index("## aof=off") < text.index("## aof=always"), "in AOF_MODES order"
    assert "python -m duetime.chaos explore --config aof=always --examples 20 --seed 1" in text
    assert f"nothing failed: every property held in all {always['runs']} runs" in text
    assert "finding (expected): lost 1 of 3 acknowledged tasks" in text
    assert "1.0 s kill_redis for 0.2 s" in text, "the shrunk schedule"


def test_the_record_counts_runs_by_phase_and_keeps_the_shrunk_case() -> None:
    record = record_of("aof=off", finds=True)
    assert record["result"] == "finding"
    assert record["runs"] == record["runs_search"] + record["runs_shrink"]  # type: ignore[operator]
    found = record["found"]
    assert isinstance(found, dict)
    assert found["fault_events"] == [
        {"at_ds": 10, "kind": "kill_redis", "hold_ds": 2, "variant": 0}
    ]
    assert found["failed"] == ["lost"]


def test_a_violation_is_reported_as_one(tmp_path: Path) -> None:
    record = record_of("aof=always", finds=False)
    record.update(result="violation", found=record_of("aof=off", finds=True)["found"])
    assert "VIOLATION" in render([record], tmp_path)


def test_load_all_reads_every_configuration(tmp_path: Path) -> None:
    save(tmp_path / "a", record_of("aof=always", finds=False))
    save(tmp_path / "b", record_of("aof=no", finds=False))
    assert [r["config"] for r in load_all(tmp_path)] == ["aof=always", "aof=no"]


def test_an_example_drawn_under_two_configurations_is_compared(tmp_path: Path) -> None:
    lossy = record_of("aof=off", finds=True)
    clean = record_of("aof=always", finds=False)
    text = render([lossy, clean], tmp_path)
    assert "## The same example under each configuration" in text
    first = lossy["examples"][0]  # type: ignore[index]
    assert first["case"] == clean["examples"][0]["case"]  # type: ignore[index]

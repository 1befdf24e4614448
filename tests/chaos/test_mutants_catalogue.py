"""The mutant catalogue applies to the current tree: no entry has silently become a no-op."""

from __future__ import annotations

from pathlib import Path

import pytest
from run_helpers import REPO_ROOT

from duetime.chaos.checker import DEFAULT_CHECKERS
from duetime.chaos.mutants.catalogue import (
    CATALOGUE,
    CRASHED,
    UNTESTED,
    Mutant,
    Patch,
    PatchDoesNotApply,
    UnknownMutant,
    select,
)
from duetime.chaos.mutants.cli import run as run_mutants
from duetime.chaos.mutants.scratch import repository_root


def test_the_catalogue_has_ten_named_bugs_each_with_a_change() -> None:
    names = [m.name for m in CATALOGUE]
    assert len(names) >= 10
    assert len(set(names)) == len(names)
    for m in CATALOGUE:
        assert m.patches or m.run_args, m.name
        assert m.bug.endswith("."), m.name


@pytest.mark.parametrize("mutant", CATALOGUE, ids=lambda m: m.name)
def test_every_patch_finds_its_text_exactly_once(mutant: Mutant) -> None:
    patched = mutant.patched_files(REPO_ROOT)
    for path, text in patched.items():
        assert text != (REPO_ROOT / path).read_text(encoding="utf-8"), path


@pytest.mark.parametrize("mutant", CATALOGUE, ids=lambda m: m.name)
def test_every_mutant_names_a_scenario_and_checkers_that_exist(mutant: Mutant) -> None:
    assert (REPO_ROOT / "scenarios" / f"{mutant.scenario}.py").is_file()
    known = set(DEFAULT_CHECKERS) | {CRASHED, UNTESTED}
    assert set(mutant.catchers) <= known


def test_the_catalogue_covers_a_testbed_misconfiguration() -> None:
    assert any(m.name.startswith("testbed_") for m in CATALOGUE)


def test_a_patch_whose_text_is_gone_or_repeated_fails_loudly() -> None:
    with pytest.raises(PatchDoesNotApply, match="occurs 0 times"):
        Patch("x.lua", "not there", "y").applied_to("some text")
    with pytest.raises(PatchDoesNotApply, match="occurs 2 times"):
        Patch("x.lua", "a", "b").applied_to("a a")
    assert Patch("x.lua", "now", "now + 1").applied_to("<= now") == "<= now + 1"


def test_patching_writes_nothing_when_one_patch_does_not_apply(tmp_path: Path) -> None:
    (tmp_path / "a.lua").write_text("one\n")
    mutant = Mutant(
        "m", "A bug.", "kill_workers", ("lost",),
        patches=(Patch("a.lua", "one", "two"), Patch("a.lua", "three", "four")),
    )  # fmt: skip
    with pytest.raises(PatchDoesNotApply):
        mutant.apply(tmp_path)
    assert (tmp_path / "a.lua").read_text() == "one\n"


def test_select_keeps_catalogue_order_and_refuses_unknown_names() -> None:
    first, second = CATALOGUE[0].name, CATALOGUE[1].name
    assert [m.name for m in select(f"{second},{first}")] == [first, second]
    assert select(None) == list(CATALOGUE)
    with pytest.raises(UnknownMutant, match="no_such_bug"):
        select("no_such_bug")


def test_an_unknown_mutant_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from rich.console import Console

    args = argparse.Namespace(only="no_such_bug", baseline_seeds=0, out="unused", list=False)
    assert run_mutants(args, Console()) == 2


def test_the_repository_root_is_this_checkout() -> None:
    assert repository_root() == REPO_ROOT.resolve()

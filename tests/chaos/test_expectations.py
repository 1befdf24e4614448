from __future__ import annotations

from duetime.chaos.checker import Result
from duetime.chaos.checker.expectations import ANY_CONFIG, Expect, evaluate, expectations_for

TABLE = {
    ANY_CONFIG: (Expect("lost", "valid", "docs"), Expect("early", "valid", "docs")),
    "aof=off": (Expect("lost", "invalid", "no persistence"),),
}


def test_config_specific_expectations_override_the_default() -> None:
    off = expectations_for(TABLE, "aof=off")
    assert off["lost"].verdict == "invalid"
    assert off["early"].verdict == "valid"
    assert expectations_for(TABLE, "aof=always")["lost"].verdict == "valid"


def test_an_expected_failure_holds_and_an_unexpected_pass_does_not() -> None:
    expected = expectations_for(TABLE, "aof=off")
    held = evaluate(expected, {"lost": Result("invalid", "3 lost"), "early": Result("valid", "")})
    assert all(o.held for o in held)
    missed = evaluate(expected, {"lost": Result("valid", ""), "early": Result("unknown", "")})
    assert [o.held for o in missed] == [False, False]


def test_a_checker_that_did_not_run_does_not_hold() -> None:
    (outcome,) = evaluate({"lost": Expect("lost", "valid", "docs")}, {})
    assert not outcome.held


def test_each_setting_of_a_combined_config_applies_its_expectations() -> None:
    table = {
        **TABLE,
        "maxmemory=allkeys-lru": (Expect("early", "invalid", "eviction"),),
    }
    both = expectations_for(table, "aof=off,maxmemory=allkeys-lru")
    assert (both["lost"].verdict, both["early"].verdict) == ("invalid", "invalid")
    assert expectations_for(table, "aof=always,maxmemory=noeviction")["lost"].verdict == "valid"

"""Generated fault schedules against real processes (the search half of issue 5).

A Hypothesis strategy draws whole chaos runs, a workload and a timeline of
faults from the testbed's nemeses; each example runs for real and the checkers
are the properties. The first failure is shrunk within a time budget, written as
a replayable scenario file and rerun once; a report per configuration says what
the search found. Modules, one job each:

- ``kinds``: the fault vocabulary, a registry of nemesis kinds (those missing or
  unusable here are left out, with the reason);
- ``case``: one example (workload and fault timeline) in tenths of a second;
- ``strategy``: the Hypothesis strategies and the search spaces;
- ``build``: an example as a scenario for the runner;
- ``judge``: which failures the Redis documentation predicts (findings) and
  which it does not (violations);
- ``search``: the engine (budgets, memo of real runs, shrinking);
- ``execute``: one real run of an example;
- ``source`` and ``replay``: a shrunk example written as a scenario file;
- ``record``, ``report``: ``search.json`` and the generated ``report.md``;
- ``session``: one configuration end to end; ``cli`` and ``progress``: the shell.
"""

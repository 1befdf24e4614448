"""duetime's chaos testbed: real servers, real worker processes, faults, and verdicts.

A map, in the order a run goes (Jepsen's roles, one folder each):

1. ``cli.py`` (``python -m duetime.chaos list|run|matrix|explore|mutants|toxiproxy``) reads a
   scenario (``scenario.py``: a file in ``scenarios/`` is one ``Scenario`` value) and
   a configuration (``config.py``: ``aof=everysec``), and hands both to
2. ``runner.py``, which drives one run from start to verdict:
3. ``system/`` starts the system under test: ``system/redis_server.py`` starts Redis
   (through ``system/backends/``, with ``system/powerfs/`` as its disk and
   ``system/network/`` routing clients through Toxiproxy), ``system/cluster.py``
   starts the worker and cron-ticker processes around it. ``designs/`` says whose
   processes those are: duetime itself (``designs/reference.py``) or a published
   design.
4. ``client/`` is the load: ``client/workload.py`` plans the tasks,
   ``client/producer.py`` schedules them, ``client/handlers.py`` runs them inside
   the workers.
5. ``nemesis/`` injects the faults, each on its schedule (``nemesis/driver.py``),
   and heals them before the drain; ``toxiproxy/`` is the embedded Toxiproxy the
   network faults use.
6. ``history/`` keeps what happened, outside Redis: every process appends to its
   own file (``history/sink.py``), stamped by one clock (``history/clock.py``);
   ``history/store.py`` lays out the run folder.
7. ``checker/`` judges the history: lost, duplicated, early, lateness, cron; what
   each verdict should be under the run's configuration is
   ``checker/expectations.py``, from what Redis documents (``checker/redis_docs.py``).
8. ``report/`` draws it: ``report/markdown.py`` (``report.md``), ``report/plots.py``
   (``timeline.png``), ``report/terminal.py`` (the screen), and over many runs
   ``report/matrix.py`` and ``report/comparison.py``.

``explore/`` wraps steps 2 to 7 in a Hypothesis search over fault schedules.
``mutants/`` plants known bugs in scratch copies and checks that the runs catch them.
"""

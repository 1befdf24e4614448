"""Mutants: realistic bugs planted in scratch copies, to prove the checkers can fail.

``catalogue.py`` lists the bugs (small patches, or a broken worker) and the run
that must catch each; ``scratch.py`` copies the repository so the real tree is
never touched; ``run.py`` runs one scenario as a subprocess of a copy and reads
its results; ``suite.py`` tries each mutant and the unmodified baseline;
``report.py`` writes the table; ``cli.py`` is ``python -m duetime.chaos mutants``.
"""

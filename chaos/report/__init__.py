"""What people read: a run's report and plots, the matrix, the design comparison.

``markdown`` writes a run's ``report.md``, ``plots`` its ``timeline.png``, ``figures``
pulls the headline numbers from its results; ``terminal`` and ``live`` are what the
terminal shows during and after a run; ``matrix``, ``matrix_summary`` and
``comparison`` write ``matrix.md`` and ``comparison.md`` over many runs.
"""

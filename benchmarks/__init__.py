"""Benchmarks: ``python -m benchmarks run [--quick]``. Scripts, never timed tests.

duetime against arq, RQ, Celery, Dramatiq, saq and BullMQ on one redis-server: enqueue
rate, drain rate, delayed-task precision, scale with the backlog, Redis memory per task,
and the ceiling of Redis alone. See ``report.METHODOLOGY`` for how each is measured.
"""

"""Benchmarks: ``python -m benchmarks run [--quick]``. Scripts, never timed tests."""

"""Drivers: small programs that run inside each system's own environment.

Each Python driver is ``python -m benchmarks.peers.<system> enqueue|work ...`` run by the
interpreter of that system's virtualenv (duetime's by the main one); the BullMQ driver is
``node benchmarks/peers/bullmq.cjs``. They import only the standard library, their system
and :mod:`benchmarks.peers.probe`, which holds the command line and the measuring that
every driver shares.
"""

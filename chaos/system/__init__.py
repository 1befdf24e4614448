"""The system under test and how it is started and stopped.

``redis_server`` starts real ``redis-server`` processes on free loopback ports with
the persistence a run asked for; ``backends`` chooses where Redis runs (local
processes, or containers), ``powerfs`` and ``network`` put a power-loss filesystem
and Toxiproxy routes between Redis and its disk and clients; ``cluster`` starts the
worker and cron-ticker processes of the scheduler (or of a published design) around
it, each a ``process`` in its own process group. ``redis_cluster`` and
``sentinel_group`` start a local Redis Cluster and a Sentinel group from the same
binaries: the ``cluster`` and ``replicated`` topologies of ``run_config``.
"""

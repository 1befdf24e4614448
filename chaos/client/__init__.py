"""What the testbed does to the system: the workload and the processes that carry it out.

``workload`` is a seeded, pure plan of which tasks to schedule and when; ``producer``
threads schedule them and record each call; ``handlers`` are the task handlers the
workers run, recording each execution; ``broken_worker`` is a deliberately wrong
worker, kept to prove the checkers can see a loss.
"""

"""The history: every operation of a run, recorded outside the Redis under test.

``ops`` is the record (Jepsen's invoke / ok / fail / info operations); ``sink`` is
the append-only JSONL file each process writes it to, ``sink_reader`` reads those
files back, ``clock`` is the one clock every process stamps them with (the
clock-skew nemesis does not touch it), and ``store`` lays out a run's folder.
"""

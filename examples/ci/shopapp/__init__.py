"""A small shop whose tasks duetime runs: the sample application of ``examples/ci``."""

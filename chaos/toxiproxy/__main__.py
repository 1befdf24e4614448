"""``python -m duetime.chaos.toxiproxy``: run the embedded Toxiproxy in the foreground."""

import sys

from duetime.chaos.toxiproxy.cli import main

sys.exit(main())

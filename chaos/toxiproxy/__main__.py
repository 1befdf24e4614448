"""``python -m chaos.toxiproxy``: run the embedded Toxiproxy in the foreground."""

import sys

from chaos.toxiproxy.cli import main

sys.exit(main())

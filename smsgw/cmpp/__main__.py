"""`python -m smsgw.cmpp simulate|send|bench`: see `smsgw.cmpp.cli`."""

import sys

from .cli import main

sys.exit(main())

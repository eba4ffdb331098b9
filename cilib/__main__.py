"""Allow ``python -m cilib``."""

import sys

from cilib.cli import main

sys.exit(main())

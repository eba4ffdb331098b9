"""Allow ``python -m cilib``."""

import sys

from cilib.run.cli import main

sys.exit(main())

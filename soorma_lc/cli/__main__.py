"""``python -m soorma_lc.cli``."""

import sys

from soorma_lc.cli import main

sys.exit(main())

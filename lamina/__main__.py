"""`python -m lamina demo`."""

import sys

from .cli import main

sys.exit(main())

"""`python -m syncsvc`."""

import sys

from syncsvc.cli import main

sys.exit(main())

"""`python -m syncsvc`."""

import sys

from syncsvc.cli.main import main

sys.exit(main())

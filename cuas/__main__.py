"""`python -m cuas` is the `cuas` command."""

import sys

from cuas.cli import main

sys.exit(main())

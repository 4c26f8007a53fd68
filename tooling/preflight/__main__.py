"""`python -m tooling.preflight`: the read-only account checks (tooling/preflight/runner.py)."""

import sys

from tooling.preflight.runner import main

sys.exit(main())

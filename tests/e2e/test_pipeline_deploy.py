"""Issue 21, deployed: `au-pipeline` and its artifact stores into a local moto server (the tooling
account), as docs/REAL_ACCOUNT.md's first deploy does (tooling/pipeline_deploy.py), then read back
through boto3: the pipeline's stages in order, each wave in the deploy order, production behind the
permissions check and the approval, its build projects, report group, artifact stores and roles.

The assembly is the command line's `cdk synth -c pipeline=au` with every policy pack (what the
pipeline's own synth step runs). CodePipeline, CodeBuild projects and report groups exist in the
emulator through tooling/emulator/codepipeline.py and codebuild.py; nothing runs the pipeline.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import boto3
import pytest

from config import DeliveryPipeline, Deployment, PlatformConfig
from stacks.deploy_steps import STEP_SEQUENCE, marked_stacks
from stacks.pipeline import WAVES
from tests.e2e.conftest import module_server
from tooling.moto_server import MotoServer, emulator_environment
from tooling.pipeline_deploy import deploy_pipeline, read_pipeline, synthesize_pipeline

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
JURISDICTION = "au"


@pytest.fixture(scope="module")
def pipeline(platform_config: PlatformConfig) -> DeliveryPipeline:
    return platform_config.pipeline(JURISDICTION)


@pytest.fixture(scope="module")
def deployments(platform_config: PlatformConfig) -> tuple[Deployment, ...]:
    return platform_config.deployments_of(JURISDICTION)


@pytest.fixture(scope="module")
def assembly(e2e_path: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pipeline-assembly") / "cdk.out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    synthesize_pipeline({**env, "PATH": e2e_path}, out, JURISDICTION, lint=False)  # linted: tests/unit/test_pipeline.py
    return out


@pytest.fixture(scope="module")
def server(
    pipeline: DeliveryPipeline, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MotoServer]:
    """A server in the pipeline's (tooling) account."""
    yield from module_server(pipeline.account, request, tmp_path_factory)


@pytest.fixture(scope="module")
def deployed(
    server: MotoServer,
    pipeline: DeliveryPipeline,
    deployments: tuple[Deployment, ...],
    assembly: Path,
    e2e_path: str,
) -> dict[str, str]:
    env = {**emulator_environment(server.endpoint_url, server.account), "PATH": e2e_path}
    deploy_pipeline(pipeline, deployments, env, assembly)
    return env


def client(env: dict[str, str], service: str, region: str) -> Any:
    session = boto3.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key="testing")
    return session.client(service, region_name=region, endpoint_url=env["AWS_ENDPOINT_URL"])


@pytest.fixture(scope="module")
def declaration(deployed: dict[str, str], pipeline: DeliveryPipeline) -> dict[str, Any]:
    return dict(client(deployed, "codepipeline", pipeline.region).get_pipeline(name=pipeline.name)["pipeline"])


def _stages(declaration: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {stage["name"]: stage["actions"] for stage in declaration["stages"]}


def _deploys(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for a in actions if a["actionTypeId"]["provider"] == "CloudFormation"]


def step_of_each_stack(assembly: Path, deployment: Deployment) -> dict[str, int]:
    """Stack name -> index of its step in `STEP_SEQUENCE`, as the stage's nested assembly marks it."""
    nested = assembly / f"assembly-{deployment.name}"
    manifest = json.loads((nested / "manifest.json").read_text())
    names = {
        a["displayName"]: a["properties"]["stackName"]
        for a in manifest["artifacts"].values()
        if "stackName" in a.get("properties", {})
    }
    sequence = [kind.what for kind in STEP_SEQUENCE]
    return {names[display]: sequence.index(str(what)) for display, what in marked_stacks(nested).items()}


def test_the_emulator_answered_every_request_of_the_deploy(deployed: dict[str, str], server: MotoServer) -> None:
    assert server.request_errors() == []


def test_the_pipeline_exists_with_its_stages_in_order(
    declaration: dict[str, Any], pipeline: DeliveryPipeline, deployed: dict[str, str]
) -> None:
    waves = [f"{JURISDICTION}-{environment.value}" for environment in WAVES]
    assert list(_stages(declaration)) == ["Source", "Build", "UpdatePipeline", "Assets", *waves]
    (source,) = _stages(declaration)["Source"]
    assert source["actionTypeId"]["provider"] == "CodeStarSourceConnection"
    assert source["configuration"]["ConnectionArn"] == pipeline.connection_arn
    assert (source["configuration"]["FullRepositoryId"], source["configuration"]["BranchName"]) == (
        pipeline.repository,
        pipeline.branch,
    )
    assert read_pipeline(client(deployed, "codepipeline", pipeline.region), pipeline.name).version == 1


def test_each_wave_deploys_its_stacks_once_in_the_deploy_order(
    declaration: dict[str, Any], deployments: tuple[Deployment, ...], assembly: Path
) -> None:
    """Acceptance 1 on the deployed pipeline: DR foundation, then primary, then DR standby."""
    stages = _stages(declaration)
    for deployment in deployments:
        steps = step_of_each_stack(assembly, deployment)
        deploys = _deploys(stages[deployment.name])
        names = [a["configuration"]["StackName"] for a in deploys if a["configuration"]["StackName"] in steps]
        assert sorted(names) == sorted(steps), deployment.name  # every stack once, nothing else of it
        by_step: dict[int, list[int]] = {}
        for action in deploys:
            by_step.setdefault(steps[action["configuration"]["StackName"]], []).append(action["runOrder"])
        orders = [by_step[i] for i in sorted(by_step)]
        assert len(orders) == (3 if deployment.standby.enabled else 2), deployment.name
        for earlier, later in pairwise(orders):
            assert max(earlier) < min(later), deployment.name


def test_production_deploys_after_the_permissions_check_and_the_approval(declaration: dict[str, Any]) -> None:
    production = _stages(declaration)[f"{JURISDICTION}-production"]
    first_deploy = min(a["runOrder"] for a in _deploys(production))
    before = sorted(
        (a["runOrder"], a["name"], a["actionTypeId"]["provider"]) for a in production if a["runOrder"] < first_deploy
    )
    assert [(name, provider) for _, name, provider in before] == [
        ("PermissionsBroadening.Check", "CodeBuild"),
        ("PermissionsBroadening.Confirm", "Manual"),
        ("PromoteToProduction", "Manual"),
    ]
    assert len({order for order, _, _ in before}) == 3  # one after another, never side by side


def test_every_wave_ends_with_the_post_deploy_checks(declaration: dict[str, Any]) -> None:
    for wave in WAVES:
        actions = _stages(declaration)[f"{JURISDICTION}-{wave.value}"]
        last_deploy = max(a["runOrder"] for a in _deploys(actions))
        (checks,) = [a for a in actions if a["name"] == "PostDeployChecks"]
        assert checks["runOrder"] > last_deploy


def test_every_build_action_names_a_project_that_exists(
    declaration: dict[str, Any], deployed: dict[str, str], pipeline: DeliveryPipeline
) -> None:
    codebuild = client(deployed, "codebuild", pipeline.region)
    names = {
        a["configuration"]["ProjectName"]
        for actions in _stages(declaration).values()
        for a in actions
        if a["actionTypeId"]["provider"] == "CodeBuild"
    }
    found = {p["name"] for p in codebuild.batch_get_projects(names=sorted(names))["projects"]}
    assert found == names and len(names) >= 5  # synth, self-mutation, assets, permissions check, post-deploy


def test_the_synth_project_runs_the_tests_into_the_report_group(
    declaration: dict[str, Any], deployed: dict[str, str], pipeline: DeliveryPipeline
) -> None:
    """Acceptance 4, deployed: the test command, then the all-pack synth; JUnit into `<j>-pipeline-tests`."""
    codebuild = client(deployed, "codebuild", pipeline.region)
    (synth,) = _stages(declaration)["Build"]
    (project,) = codebuild.batch_get_projects(names=[synth["configuration"]["ProjectName"]])["projects"]
    buildspec = json.loads(project["source"]["buildspec"])
    commands = buildspec["phases"]["build"]["commands"]
    assert commands.index("scripts/test --junitxml=reports/junit.xml") < commands.index(
        f"npx cdk synth --quiet -c pipeline={JURISDICTION}"
    )
    (report_arn,) = buildspec["reports"]
    (group,) = codebuild.batch_get_report_groups(reportGroupArns=[report_arn])["reportGroups"]
    assert (group["name"], group["type"]) == (f"{pipeline.name}-tests", "TEST")
    assert group["exportConfig"]["s3Destination"]["bucket"] == pipeline.artifact_bucket(pipeline.region)


def test_artifact_stores_are_encrypted_versioned_buckets_inside_the_jurisdiction(
    declaration: dict[str, Any], deployed: dict[str, str], pipeline: DeliveryPipeline
) -> None:
    """HOST-2 on what was deployed: every store's region is in the allow-list, and the bucket is there."""
    stores = declaration["artifactStores"]
    assert set(stores) <= set(pipeline.allowed_regions) and pipeline.region in stores
    for region, store in stores.items():
        s3 = client(deployed, "s3", region)
        assert store["location"] == pipeline.artifact_bucket(region)
        assert s3.get_bucket_location(Bucket=store["location"])["LocationConstraint"] == region
        assert s3.get_bucket_versioning(Bucket=store["location"])["Status"] == "Enabled"
        (rule,) = s3.get_bucket_encryption(Bucket=store["location"])["ServerSideEncryptionConfiguration"]["Rules"]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        assert store["encryptionKey"]["type"] == "KMS"


def test_every_role_of_the_pipeline_stacks_carries_the_pipeline_boundary(
    deployed: dict[str, str], pipeline: DeliveryPipeline, deployments: tuple[Deployment, ...]
) -> None:
    """ACC-1: the roles exist only because the bootstrap created the boundary (tooling/emulator/iam.py)."""
    iam = client(deployed, "iam", pipeline.region)
    boundary = f"arn:aws:iam::{pipeline.account}:policy/{pipeline.boundary_name}"
    roles = []
    for region in {pipeline.region, *(r for d in deployments for r in d.regions)}:
        cloudformation = client(deployed, "cloudformation", region)
        for stack in cloudformation.describe_stacks()["Stacks"]:
            if stack["StackName"].startswith(pipeline.name):
                summaries = cloudformation.list_stack_resources(StackName=stack["StackName"])["StackResourceSummaries"]
                roles += [r["PhysicalResourceId"] for r in summaries if r["ResourceType"] == "AWS::IAM::Role"]
    assert len(roles) >= 10
    for role in roles:
        assert iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary, role

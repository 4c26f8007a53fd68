"""The jurisdictions' CDK pipelines (stacks/pipeline.py, issue 21), on their synthesized templates.

Each pipeline is synthesized once per session with cdk.json's feature flags (no pack: the all-pack
synth of a pipeline is tests/e2e/test_pipeline_deploy.py's `cdk synth -c pipeline=au`, and the
seeded-violation test below).
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from config import PlatformConfig, load_config
from config.topology import DR, PRIMARY
from policies.registration import FAIL_ON_FINDINGS, register_policy_packs
from stacks.app_builder import build_pipeline
from stacks.deploy_steps import DR_FOUNDATION, PRIMARY_REGION, UnsteppedStackError
from stacks.pipeline import MAX_ACTIONS_PER_STAGE, WAVES, PipelineStack
from stacks.pipeline_stage import DeploymentStage
from stacks.stages import DisasterRecoveryRegion
from tests.conftest import CDK_JSON_CONTEXT, Stages

pytestmark = pytest.mark.xdist_group("pipelines")

# Every jurisdiction with a pipeline in the configuration, not a list of the shipped ones.
JURISDICTIONS = tuple(str(p.jurisdiction) for p in load_config().pipelines)
Pipelines = dict[str, tuple[PipelineStack, dict[str, Any]]]
CFN_LINT = Path(sys.executable).with_name("cfn-lint")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pipelines(platform_config: PlatformConfig, tmp_path_factory: pytest.TempPathFactory) -> Pipelines:
    built: Pipelines = {}
    for jurisdiction in JURISDICTIONS:
        app = cdk.App(outdir=str(tmp_path_factory.mktemp(f"pipeline-{jurisdiction}")), context=CDK_JSON_CONTEXT)
        stack = build_pipeline(app, platform_config, jurisdiction)
        app.synth()
        built[jurisdiction] = (stack, dict(Template.from_stack(stack).to_json()))
    return built


def _pipeline(template: dict[str, Any]) -> dict[str, Any]:
    (pipeline,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    return dict(pipeline["Properties"])


def _stages(template: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {stage["Name"]: stage["Actions"] for stage in _pipeline(template)["Stages"]}


def _deploy_actions(actions: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    return (a for a in actions if a["ActionTypeId"]["Provider"] == "CloudFormation")


def _run_order_of(actions: list[dict[str, Any]]) -> dict[str, int]:
    return {a["Configuration"]["StackName"]: a["RunOrder"] for a in _deploy_actions(actions)}


@pytest.mark.parametrize("jurisdiction", JURISDICTIONS)
def test_environments_deploy_in_waves_each_in_deploy_order(
    pipelines: Pipelines, platform_config: PlatformConfig, jurisdiction: str
) -> None:
    """Acceptance 1: development, staging, production; inside each, DR foundation, primary, DR standby."""
    stack, template = pipelines[jurisdiction]
    stages = _stages(template)
    waves = [f"{jurisdiction}-{environment.value}" for environment in WAVES]
    assert list(stages)[-3:] == waves
    for deployment in platform_config.deployments_of(jurisdiction):
        orders = _run_order_of(stages[deployment.name])
        by_step = [[orders[s.stack_name] for s in stacks] for _, stacks in _stage_of(stack, deployment.name).steps]
        for earlier, later in pairwise(by_step):
            assert max(earlier) < min(later), (deployment.name, by_step)
        assert len(by_step) == (3 if deployment.standby.enabled else 2)


def _stage_of(stack: PipelineStack, name: str) -> DeploymentStage:
    found = stack.node.scope.node.find_child(name)  # type: ignore[union-attr]
    assert isinstance(found, DeploymentStage)
    return found


@pytest.mark.parametrize("jurisdiction", JURISDICTIONS)
def test_production_waits_for_the_permissions_check_and_a_manual_approval(
    pipelines: Pipelines, jurisdiction: str
) -> None:
    """Acceptance 1 and 6: before any production stack, ConfirmPermissionsBroadening, then a manual approval."""
    _, template = pipelines[jurisdiction]
    stages = _stages(template)
    production = stages[f"{jurisdiction}-production"]
    first_deploy = min(a["RunOrder"] for a in _deploy_actions(production))
    before = sorted(
        (a["RunOrder"], a["Name"], a["ActionTypeId"]["Category"]) for a in production if a["RunOrder"] < first_deploy
    )
    assert [name for _, name, _ in before] == [
        "PermissionsBroadening.Check",
        "PermissionsBroadening.Confirm",
        "PromoteToProduction",
    ]
    assert before[-1][2] == "Approval"
    for environment in ("development", "staging"):
        assert all(a["ActionTypeId"]["Category"] != "Approval" for a in stages[f"{jurisdiction}-{environment}"])


@pytest.mark.parametrize("jurisdiction", JURISDICTIONS)
def test_no_stage_exceeds_the_action_limit(pipelines: Pipelines, jurisdiction: str) -> None:
    """Acceptance 6: CodePipeline's 50 actions per stage; CDK Pipelines would not split a stage."""
    _, template = pipelines[jurisdiction]
    for name, actions in _stages(template).items():
        assert len(actions) <= MAX_ACTIONS_PER_STAGE, name
        assert "." not in name, f"stage {name} was split"


def test_every_deployment_is_in_exactly_one_pipeline(pipelines: Pipelines, platform_config: PlatformConfig) -> None:
    """Acceptance 3: each configured deployment once across all pipelines, in its own jurisdiction's."""
    seen = Counter(
        stage for _, template in pipelines.values() for stage in _stages(template) if stage not in _FIXED_STAGES
    )
    assert seen == Counter(d.name for d in platform_config.deployments)
    stack_names = Counter(
        a["Configuration"]["StackName"]
        for _, template in pipelines.values()
        for actions in _stages(template).values()
        for a in _deploy_actions(actions)
    )
    assert max(stack_names.values()) == 1


_FIXED_STAGES = ("Source", "Build", "UpdatePipeline", "Assets")


@pytest.mark.parametrize("fixture", ["au_production", "au_development"])
def test_pipeline_deploys_the_stacks_of_the_command_line(
    pipelines: Pipelines, fixture: str, request: pytest.FixtureRequest
) -> None:
    """Acceptance 3: the same stack names as `./scripts/run` (the command line's two stages)."""
    cli: Stages = request.getfixturevalue(fixture)
    expected = {stack.stack_name for stage in cli.values() for stack in stage.stacks}
    _, template = pipelines["au"]
    assert set(_run_order_of(_stages(template)[cli[PRIMARY].deployment.name])) == expected


def test_synth_step_runs_the_test_command_then_the_all_pack_synth(pipelines: Pipelines) -> None:
    """Acceptance 4: scripts/test (JUnit into the report group), then `cdk synth -c pipeline=au`; cdk.out out."""
    stack, _ = pipelines["au"]
    template = Template.from_stack(stack)
    specs = [
        p["Properties"]["Source"]["BuildSpec"]
        for p in template.find_resources("AWS::CodeBuild::Project").values()
        if "scripts/test" in str(p["Properties"]["Source"].get("BuildSpec", ""))
    ]
    assert len(specs) == 1
    spec = cdk.Stack.of(stack).resolve(specs[0])
    text = spec if isinstance(spec, str) else str(spec)
    test, path, synth = ("scripts/test --junitxml=reports/junit.xml", "PATH=", "npx cdk synth --quiet -c pipeline=au")
    assert text.index(test) < text.index(path) < text.index(synth)
    assert '"file-format": "JUNITXML"' in text and '"base-directory": "reports"' in text
    assert '"base-directory": "cdk.out"' in text
    template.has_resource_properties(
        "AWS::CodeBuild::ReportGroup",
        {"Name": "au-pipeline-tests", "Type": "TEST", "ExportConfig": Match.object_like({"ExportConfigType": "S3"})},
    )


def test_post_deploy_step_reads_stack_outputs_with_the_read_only_role(pipelines: Pipelines) -> None:
    """Acceptance 6: after each stage, tooling/post_deploy.py with the outputs of the primary Web and Dns stacks."""
    _, template = pipelines["au"]
    for environment in ("development", "staging", "production"):
        actions = _stages(template)[f"au-{environment}"]
        (check,) = [a for a in actions if a["Name"] == "PostDeployChecks"]
        assert check["RunOrder"] == max(a["RunOrder"] for a in actions)
        variables = str(check["Configuration"]["EnvironmentVariables"])
        assert "PRIMARY_ALB_DNS_NAME" in variables and ".LoadBalancerDnsName}" in variables
        assert "HOSTED_ZONE_ID" in variables and ".HostedZoneId}" in variables
    statements = [
        s
        for p in Template.from_json(template).find_resources("AWS::IAM::ManagedPolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "sts:AssumeRole" and "lookup-role" in str(s["Resource"])
    ]
    assert statements and all("deploy-role" not in str(s["Resource"]) for s in statements)


def test_the_roles_we_can_hand_to_cdk_pipelines_have_managed_grants(pipelines: Pipelines) -> None:
    """The pipeline's, the synth step's and each post-deploy step's role: a customer-managed grants policy
    (NIST/HIPAA/PCI IAMNoInlinePolicy), so only CDK Pipelines' own roles keep an acknowledged inline one."""
    _, template = pipelines["au"]
    found = Template.from_json(template)
    managed = found.find_resources("AWS::IAM::ManagedPolicy")
    attached = {str(role["Ref"]) for policy in managed.values() for role in policy["Properties"]["Roles"]}
    roles = found.find_resources("AWS::IAM::Role")
    principals = {rid: str(r["Properties"]["AssumeRolePolicyDocument"]) for rid, r in roles.items()}
    assert len(attached) == 5  # pipeline, synth, one post-deploy check per wave
    assert sum("codepipeline.amazonaws.com" in principals[r] for r in attached) == 1
    assert sum("codebuild.amazonaws.com" in principals[r] for r in attached) == 4
    inline = {
        str(role["Ref"]) for p in found.find_resources("AWS::IAM::Policy").values() for role in p["Properties"]["Roles"]
    }
    assert not attached & inline


@pytest.mark.parametrize("jurisdiction", JURISDICTIONS)
def test_artifact_stores_are_the_projects_buckets_inside_the_jurisdiction(
    pipelines: Pipelines, platform_config: PlatformConfig, jurisdiction: str
) -> None:
    """Acceptance 2: one store per region acted in, each in the allow-list, each the project's bucket."""
    _, template = pipelines[jurisdiction]
    pipeline = platform_config.pipeline(jurisdiction)
    stores = _pipeline(template)["ArtifactStores"]
    regions = {store["Region"] for store in stores}
    assert regions <= set(pipeline.allowed_regions)
    assert regions == {pipeline.region} | {r for d in platform_config.deployments_of(jurisdiction) for r in d.regions}
    for store in stores:
        if store["Region"] != pipeline.region:
            assert store["ArtifactStore"]["Location"] == pipeline.artifact_bucket(store["Region"])
        assert "alias/" in str(store["ArtifactStore"]["EncryptionKey"]["Id"]) or "Fn::GetAtt" in str(store)


@pytest.mark.parametrize("jurisdiction", JURISDICTIONS)
def test_every_log_group_is_encrypted_and_retained(pipelines: Pipelines, jurisdiction: str) -> None:
    """ENC-1, BAK-7: with `@aws-cdk/aws-lambda:useCdkManagedLogGroup`, CDK Pipelines' check function
    brings its own unencrypted group; the pipeline keeps only its own, keyed and retained."""
    _, template = pipelines[jurisdiction]
    groups = Template.from_json(template).find_resources("AWS::Logs::LogGroup")
    assert len(groups) == 2  # the build logs and the permissions check's function
    for logical_id, group in groups.items():
        assert "KmsKeyId" in group["Properties"] and group["DeletionPolicy"] == "Retain", logical_id
        assert str(group["Properties"]["LogGroupName"]).startswith(f"/pipeline/{jurisdiction}-pipeline"), logical_id


def test_every_pipeline_role_carries_the_pipeline_boundary(pipelines: Pipelines) -> None:
    """ACC-1: CDK Pipelines' own roles too."""
    stack, template = pipelines["au"]
    roles = Template.from_json(template).find_resources("AWS::IAM::Role")
    assert roles
    for logical_id, role in roles.items():
        assert "au-pipeline-boundary" in str(cdk.Stack.of(stack).resolve(role["Properties"]["PermissionsBoundary"])), (
            logical_id
        )


def test_deployment_stage_steps_are_what_each_region_built(platform_config: PlatformConfig) -> None:
    """The steps come from the build's phases (stacks/deploy_steps.py): no standby, no third step."""
    app = cdk.App(context=CDK_JSON_CONTEXT)
    stage = DeploymentStage(app, deployment=platform_config.get("au-development"))
    assert [kind for kind, _ in stage.steps] == [DR_FOUNDATION, PRIMARY_REGION]
    assert [s.node.id for s in stage.steps[0][1]] == [s.node.id for s in stage.regions[DR].stacks]
    assert [s.node.id for s in stage.steps[1][1]] == [s.node.id for s in stage.regions[PRIMARY].stacks]


def test_a_stack_built_after_the_last_phase_is_refused(platform_config: PlatformConfig) -> None:
    """A stack added to a region outside its phases would deploy in no order: the steps refuse it."""
    app = cdk.App(context=CDK_JSON_CONTEXT)
    region = DisasterRecoveryRegion(cdk.Stage(app, "Stage"), deployment=platform_config.get("au-development"))
    assert region.steps()
    cdk.Stack(region.scope, "Afterthought")
    with pytest.raises(UnsteppedStackError, match="Afterthought"):
        region.steps()


def test_seeded_violation_and_foreign_deployment_fail_the_pipeline_synth(
    platform_config: PlatformConfig, tmp_path: Path
) -> None:
    """Acceptance 2 and 5: a public bucket seeded into a pipeline-deployed stage, and a UK deployment in
    the AU pipeline, each fail the all-pack synth (HOST-2 for the latter)."""
    from aws_cdk import aws_s3 as s3

    app = cdk.App(outdir=str(tmp_path), context=CDK_JSON_CONTEXT, post_cli_context=FAIL_ON_FINDINGS)
    au = platform_config.pipeline("au")
    deployments = (platform_config.get("au-development"), platform_config.get("uk-development"))
    from stacks.app_builder import pin_availability_zones, pipeline_retention

    pin_availability_zones(app, deployments)
    stages = [DeploymentStage(app, deployment=d) for d in deployments]
    seeded = stages[0].stack(PRIMARY, "Operations")
    s3.CfnBucket(seeded, "SeededPublicBucket")
    PipelineStack(app, pipeline=au, stages=stages, retention=pipeline_retention(deployments[:1]))
    register_policy_packs(app, platform_config)
    with pytest.raises(RuntimeError) as failed:
        app.synth()
    message = str(failed.value)
    assert "HOST2-PipelineResidency" in message and "uk-development" in message
    assert "SeededPublicBucket" in message


def test_pipeline_templates_pass_cfn_lint(pipelines: Pipelines) -> None:
    """The pipeline stack and its artifact stores, with the repository's .cfnlintrc, no error, no warning."""
    stack, _ = pipelines["au"]
    outdir = Path(stack.node.scope.outdir)  # type: ignore[union-attr]
    templates = sorted(str(p) for p in outdir.glob("au-pipeline*.template.json"))
    assert len(templates) == 2
    result = subprocess.run([str(CFN_LINT), "--", *templates], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

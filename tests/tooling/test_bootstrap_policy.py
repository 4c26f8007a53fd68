"""tooling/bootstrap_policy.py: the scoped execution policy, its boundary and the bootstrap command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from config import Deployment, load_config
from patterns.team_actions import KMS_DESTRUCTIVE_ACTIONS
from stacks.stages import RegionalStage
from tests.tooling.iam_eval import Request, denying_sids, evaluate
from tooling.bootstrap_policy import (
    RESOURCE_TYPE_SERVICES,
    allowed_services,
    bootstrap_command,
    boundary_policy_document,
    ensure_bootstrap_policies,
    execution_policy_document,
    workload_boundary_document,
)

REPO = Path(__file__).resolve().parents[2]
CDK = REPO / "node_modules" / ".bin" / "cdk"


@pytest.fixture(scope="module")
def deployment() -> Deployment:
    return load_config().get("au-production")


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def _denied(document: dict[str, Any]) -> set[str]:
    return {a for s in document["Statement"] if s["Effect"] == "Deny" for a in _actions(s)}


def test_execution_policy_never_allows_everything(deployment: Deployment) -> None:
    document = execution_policy_document(deployment)
    for statement in document["Statement"]:
        if statement["Effect"] == "Allow":
            assert "*" not in _actions(statement)
            assert "*:*" not in _actions(statement)
            assert "iam:*" not in _actions(statement)
    allowed = {a for s in document["Statement"] if s["Effect"] == "Allow" for a in _actions(s)}
    assert not any(a.startswith(("iam:CreateUser", "iam:CreateAccessKey")) for a in allowed)


@pytest.mark.parametrize("builder", [execution_policy_document, boundary_policy_document])
def test_denies_what_the_team_boundary_denies(deployment: Deployment, builder: Any) -> None:
    denied = _denied(builder(deployment))
    assert set(KMS_DESTRUCTIVE_ACTIONS) <= denied
    assert {"iam:CreateUser", "iam:CreateAccessKey", "iam:AttachUserPolicy", "iam:CreateLoginProfile"} <= denied
    assert {"backup:DeleteBackupVault", "backup:DeleteRecoveryPoint"} <= denied
    assert {"cloudtrail:StopLogging", "cloudtrail:DeleteTrail"} <= denied
    statements = {s["Sid"]: s for s in builder(deployment)["Statement"]}
    assert statements["DenyBreakGlassTrustChanges"]["Resource"] == [
        f"arn:aws:iam::{deployment.account}:role/{deployment.break_glass_role_name}"
    ]
    assert (
        f"arn:aws:iam::{deployment.account}:policy/{deployment.name}-team-boundary"
        in (statements["DenyTeamBoundaryChanges"]["Resource"])
    )
    assert statements["DenyChangingBootstrapRoles"]["Resource"] == [f"arn:aws:iam::{deployment.account}:role/cdk-*"]


@pytest.mark.parametrize("builder", [execution_policy_document, boundary_policy_document])
def test_deploys_cannot_delete_or_unlock_audit_records_but_keep_what_a_deploy_needs(
    deployment: Deployment, builder: Any
) -> None:
    """ACC-3: no deploy deletes an audit record version, bypasses or changes its lock, or deletes the trail log
    group's streams; the audit buckets' settings, DeleteBucket / DeleteLogGroup (a failed first create cleans up)
    and the log group's declared retention stay deployable."""
    statements = {s["Sid"]: s for s in builder(deployment)["Statement"]}
    audit = statements["DenyAuditRecordDeletion"]
    assert audit["Effect"] == "Deny"
    assert set(_actions(audit)) == {
        "s3:BypassGovernanceRetention",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:PutObjectRetention",
        "logs:DeleteLogStream",
        "logs:DisassociateKmsKey",
    }
    account = deployment.account
    assert audit["Resource"] == [
        f"arn:aws:s3:::au-production-*-audit-{account}/*",
        f"arn:aws:s3:::au-production-primary-evidence-{account}/*",
        f"arn:aws:logs:*:{account}:log-group:/audit/*",
    ]
    denied = _denied(builder(deployment))
    deploy_needs = {"s3:PutBucketPolicy", "s3:PutBucketObjectLockConfiguration", "s3:DeleteBucket"}
    assert not denied & (deploy_needs | {"logs:DeleteLogGroup", "logs:PutRetentionPolicy"})


def test_team_boundary_change_can_be_unfrozen_and_role_boundary_is_required_by_default(deployment: Deployment) -> None:
    sids = {s["Sid"] for s in execution_policy_document(deployment, freeze_team_boundary=False)["Statement"]}
    assert "DenyTeamBoundaryChanges" not in sids
    assert "DenyRolesWithoutABoundary" in sids
    relaxed = execution_policy_document(deployment, require_role_boundary=False)["Statement"]
    assert not any(s["Sid"] == "DenyRolesWithoutABoundary" for s in relaxed)


@pytest.mark.parametrize("builder", [boundary_policy_document, workload_boundary_document])
def test_boundaries_are_a_ceiling_with_the_denies(deployment: Deployment, builder: Any) -> None:
    statements = builder(deployment)["Statement"]
    assert statements[0] == {"Sid": "CeilingOnly", "Effect": "Allow", "Action": "*", "Resource": "*"}
    assert all(s["Effect"] == "Deny" for s in statements[1:])


def test_policies_fit_iam_size_limit(platform_config: Any) -> None:
    for deployment in platform_config.deployments:
        for builder in (execution_policy_document, boundary_policy_document, workload_boundary_document):
            # customer managed policies: 6,144 characters, whitespace not counted
            assert len(json.dumps(builder(deployment), separators=(",", ":"))) <= 6144, (deployment.name, builder)


# --- ACC-1 (issue 18 item 1): no deploy creates a role beyond the platform's denies


def _policy(deployment: Deployment, name: str) -> str:
    return f"arn:aws:iam::{deployment.account}:policy/{name}"


def _role(deployment: Deployment, name: str) -> str:
    return f"arn:aws:iam::{deployment.account}:role/{name}"


def _create_role(deployment: Deployment, name: str, boundary: str | None) -> Request:
    context = {} if boundary is None else {"iam:PermissionsBoundary": boundary}
    return Request("iam:CreateRole", _role(deployment, name), context)


@pytest.mark.parametrize(
    ("boundary", "decision"),
    [
        pytest.param(None, "Deny", id="no-boundary"),
        pytest.param("{deployment}-cdk-boundary", "Deny", id="the-execution-roles-boundary"),
        pytest.param("{deployment}-primary-release-boundary", "Deny", id="a-stack-made-boundary"),
        pytest.param("us-production-workload-boundary", "Deny", id="another-deployments-boundary"),
        pytest.param("{deployment}-workload-boundary", "Allow", id="the-workload-boundary"),
        pytest.param("{deployment}-team-boundary", "Allow", id="the-team-boundary"),
    ],
)
def test_the_execution_policy_refuses_a_role_without_a_platform_boundary(
    deployment: Deployment, boundary: str | None, decision: str
) -> None:
    document = execution_policy_document(deployment)
    arn = None if boundary is None else _policy(deployment, boundary.format(deployment=deployment.name))
    request = _create_role(deployment, f"{deployment.name}-primary-web-AdminForMe", arn)
    assert evaluate(document, request) == decision
    if decision == "Deny":
        assert denying_sids(document, request) == {"DenyRolesWithoutABoundary"}
    # Changing a role's boundary to another is held to the same list; removing one is denied outright.
    put = Request("iam:PutRolePermissionsBoundary", request.resource, request.context)
    assert evaluate(document, put) == decision
    remove = Request("iam:DeleteRolePermissionsBoundary", request.resource)
    assert evaluate(document, remove) == "Deny"


def test_only_the_hosted_rotation_role_is_created_without_a_boundary(deployment: Deployment) -> None:
    """The AWS::SecretsManager transform's nested stack gives its role no boundary (HostedRotationLambda has no
    such property): its name pattern is the one exemption, and only in the primary Data stack's name space."""
    document = execution_policy_document(deployment)
    rotation = f"{deployment.name}-primary-data-SecretsManagerRDSPostgreSQLRotationS-1A2B3C"
    assert evaluate(document, _create_role(deployment, rotation, None)) == "Allow"
    for other in (f"{deployment.name}-primary-web-SecretsManagerLookalike", f"{deployment.name}-primary-data-x"):
        assert evaluate(document, _create_role(deployment, other, None)) == "Deny", other


ADMIN_POLICIES = (
    "arn:aws:iam::aws:policy/AdministratorAccess",
    "arn:aws:iam::aws:policy/AdministratorAccess-Amplify",
    "arn:aws:iam::aws:policy/PowerUserAccess",
    "arn:aws:iam::aws:policy/IAMFullAccess",
)


@pytest.mark.parametrize("builder", [execution_policy_document, boundary_policy_document, workload_boundary_document])
@pytest.mark.parametrize("policy", ADMIN_POLICIES)
def test_nobody_attaches_an_administrator_policy_but_to_break_glass(
    deployment: Deployment, builder: Any, policy: str
) -> None:
    document = builder(deployment)
    context = {"iam:PolicyARN": policy}
    for action in ("iam:AttachRolePolicy", "iam:AttachUserPolicy", "iam:AttachGroupPolicy"):
        request = Request(action, _role(deployment, f"{deployment.name}-primary-data-Anything"), context)
        assert evaluate(document, request) == "Deny"
        assert "DenyAttachingAdministratorPolicies" in denying_sids(document, request)
    glass = Request("iam:AttachRolePolicy", _role(deployment, deployment.break_glass_role_name), context)
    assert "DenyAttachingAdministratorPolicies" not in denying_sids(document, glass)


def test_the_execution_role_still_attaches_scoped_aws_policies_and_admin_to_break_glass(
    deployment: Deployment,
) -> None:
    document = execution_policy_document(deployment)
    ssm = {"iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}
    assert evaluate(document, Request("iam:AttachRolePolicy", _role(deployment, "x"), ssm)) == "Allow"
    admin = {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}
    glass = _role(deployment, deployment.break_glass_role_name)
    assert evaluate(document, Request("iam:AttachRolePolicy", glass, admin)) == "Allow"


@pytest.mark.parametrize(
    ("action", "resource", "decision"),
    [
        pytest.param("iam:CreateRole", "role/any", "Deny", id="create-role"),
        pytest.param("iam:PutRolePolicy", "role/any", "Deny", id="put-role-policy"),
        pytest.param("iam:AttachRolePolicy", "role/any", "Deny", id="attach-role-policy"),
        pytest.param("iam:UpdateAssumeRolePolicy", "role/any", "Deny", id="trust-change"),
        pytest.param("iam:CreatePolicyVersion", "policy/any", "Deny", id="policy-version"),
        pytest.param("iam:CreateUser", "user/any", "Deny", id="create-user"),
        pytest.param("iam:TagRole", "role/any", "Deny", id="tag-role-abac"),
        pytest.param("iam:AddRoleToInstanceProfile", "instance-profile/any", "Deny", id="instance-profile"),
        pytest.param("iam:PassRole", "role/any", "Allow", id="pass-role"),
        pytest.param("iam:CreateServiceLinkedRole", "role/aws-service-role/x", "Allow", id="service-linked-role"),
        pytest.param("iam:GetRole", "role/any", "Allow", id="read"),
        pytest.param("kms:ScheduleKeyDeletion", "*", "Deny", id="key-deletion"),
        pytest.param("cloudtrail:StopLogging", "*", "Deny", id="trail-stop"),
        pytest.param("s3:GetObject", "*", "Allow", id="workload-action"),
    ],
)
def test_the_workload_boundary_caps_every_workload_role(
    deployment: Deployment, action: str, resource: str, decision: str
) -> None:
    arn = resource if resource == "*" else f"arn:aws:iam::{deployment.account}:{resource}"
    assert evaluate(workload_boundary_document(deployment), Request(action, arn)) == decision


@pytest.mark.parametrize(
    "name", ["{deployment}-cdk-execution", "{deployment}-cdk-boundary", "{deployment}-workload-boundary"]
)
def test_no_deploy_changes_the_bootstrap_policies(deployment: Deployment, name: str) -> None:
    arn = _policy(deployment, name.format(deployment=deployment.name))
    for action in ("iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:SetDefaultPolicyVersion"):
        assert evaluate(execution_policy_document(deployment), Request(action, arn)) == "Deny"


def test_every_synthesized_resource_type_has_its_service(au_production: dict[str, RegionalStage]) -> None:
    types = set()
    for stage in au_production.values():
        for template in Path(stage.outdir).glob("*.template.json"):
            types |= {r["Type"] for r in json.loads(template.read_text())["Resources"].values()}
    uncovered = {t for t in types - {"AWS::CDK::Metadata"} if not any(t.startswith(p) for p in RESOURCE_TYPE_SERVICES)}
    assert not uncovered
    assert "backup-storage" in allowed_services() and "iam" not in allowed_services()


def test_bootstrap_command(deployment: Deployment) -> None:
    command = bootstrap_command("cdk", "cdk.out", deployment)
    assert command[:4] == ["cdk", "bootstrap", "--app", "cdk.out"]
    flags = dict(zip(command[4:8:2], command[5:8:2], strict=True))
    assert flags == {
        "--cloudformation-execution-policies": f"arn:aws:iam::{deployment.account}:policy/au-production-cdk-execution",
        "--custom-permissions-boundary": "au-production-cdk-boundary",
    }
    assert command[8:] == [f"aws://{deployment.account}/ap-southeast-2", f"aws://{deployment.account}/ap-southeast-4"]


@pytest.mark.skipif(not CDK.exists(), reason="CDK CLI not installed")
def test_the_pinned_cli_knows_the_flags(deployment: Deployment) -> None:
    help_text = subprocess.run([str(CDK), "bootstrap", "--help"], capture_output=True, text=True, check=True).stdout
    for flag in bootstrap_command("cdk", "cdk.out", deployment):
        if flag.startswith("--"):
            assert flag in help_text


def test_ensure_creates_then_updates_without_piling_up_versions(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", deployment.account)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        arn, boundary = ensure_bootstrap_policies(iam, deployment)
        assert arn == f"arn:aws:iam::{deployment.account}:policy/au-production-cdk-execution"
        assert boundary == "au-production-cdk-boundary"
        workload = iam.get_policy(PolicyArn=f"arn:aws:iam::{deployment.account}:policy/au-production-workload-boundary")
        assert workload["Policy"]["DefaultVersionId"] == "v1"
        ensure_bootstrap_policies(iam, deployment)  # unchanged: no new version
        assert len(iam.list_policy_versions(PolicyArn=arn)["Versions"]) == 1
        for flip in range(6):  # alternate documents: IAM's limit of five versions holds
            ensure_bootstrap_policies(iam, deployment, freeze_team_boundary=flip % 2 == 1)
        versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
        assert len(versions) <= 5
        default = next(v for v in versions if v["IsDefaultVersion"])
        document = iam.get_policy_version(PolicyArn=arn, VersionId=default["VersionId"])["PolicyVersion"]["Document"]
        assert "DenyTeamBoundaryChanges" in json.dumps(document)

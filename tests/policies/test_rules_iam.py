"""Tests of policies/rules/iam.py (IAM rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from typing import Any

import pytest

from policies.rules import iam
from tests.policies.rulekit import NA, C, N, check, res, stack


def _role(name: str = "app", trust: str = "ec2.amazonaws.com", **props: Any) -> Any:
    doc = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": trust} if "." in trust else {"AWS": trust},
                "Action": "sts:AssumeRole",
            }
        ]
    }
    return res("R", "AWS::IAM::Role", {"RoleName": name, "AssumeRolePolicyDocument": doc, **props})


def _inline(*statements: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"PolicyName": "p", "PolicyDocument": {"Statement": list(statements)}}]


def test_acc1_acc5_iam_rules() -> None:
    admin = _inline({"Effect": "Allow", "Action": "*", "Resource": "*"})
    assert check(iam.no_wildcard_admin, _role(Policies=admin)) is N
    assert check(iam.no_wildcard_admin, _role("au-production-break-glass", "arn:aws:iam::1:root", Policies=admin)) is NA
    assert check(iam.no_wildcard_admin, _role(ManagedPolicyArns=["arn:aws:iam::aws:policy/AdministratorAccess"])) is N
    assert check(iam.no_wildcard_admin, _role()) is C

    assert check(iam.human_role_boundary, _role("dev", "arn:aws:iam::1:root", PermissionsBoundary="arn:b")) is C
    assert check(iam.human_role_boundary, _role("dev", "arn:aws:iam::1:root")) is N
    assert check(iam.human_role_boundary, _role()) is NA

    read_only = _role(
        "au-production-auditor", "arn:aws:iam::1:root", ManagedPolicyArns=["arn:aws:iam::aws:policy/SecurityAudit"]
    )
    assert check(iam.auditor_read_only, read_only) is C
    writer = _role(
        "au-production-auditor",
        "arn:aws:iam::1:root",
        Policies=_inline({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}),
    )
    assert check(iam.auditor_read_only, writer) is N

    assert (
        check(
            iam.web_role_no_backup_access,
            _role(Policies=_inline({"Effect": "Allow", "Action": "ssm:UpdateInstanceInformation", "Resource": "*"})),
        )
        is C
    )
    assert (
        check(
            iam.web_role_no_backup_access,
            _role(Policies=_inline({"Effect": "Allow", "Action": "backup:*", "Resource": "*"})),
        )
        is N
    )
    assert (
        check(
            iam.web_role_no_backup_access,
            _role(Policies=_inline({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})),
        )
        is N
    )
    assert (
        check(iam.web_role_no_backup_access, _role(ManagedPolicyArns=["arn:aws:iam::aws:policy/AWSBackupFullAccess"]))
        is N
    )


HUMAN = "arn:aws:iam::111111111111:root"


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        pytest.param({"Effect": "Allow", "Action": "*", "Resource": "*"}, N, id="ACC1-NoWildcardAdmin-star-on-star"),
        pytest.param(
            {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/*"}, C, id="ACC1-NoWildcardAdmin-star-on-one"
        ),
        pytest.param(
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, C, id="ACC1-NoWildcardAdmin-one-on-star"
        ),
        pytest.param({"Effect": "Deny", "Action": "*", "Resource": "*"}, C, id="ACC1-NoWildcardAdmin-deny-star"),
    ],
)
def test_acc1_no_wildcard_admin(statement: dict[str, Any], expected: object) -> None:
    assert check(iam.no_wildcard_admin, _role(Policies=_inline(statement))) is expected


def test_acc1_no_wildcard_admin_policies_and_managed_policies() -> None:
    admin = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    glass = _role("au-production-break-glass", HUMAN)
    app = res("App", "AWS::IAM::Role", {"RoleName": "app"})
    unattached = res("M", "AWS::IAM::ManagedPolicy", {"PolicyDocument": admin})
    assert check(iam.no_wildcard_admin, unattached) is NA
    on_glass = res("P", "AWS::IAM::Policy", {"PolicyDocument": admin, "Roles": [{"Ref": "R"}]})
    assert check(iam.no_wildcard_admin, on_glass, stack(on_glass, glass)) is NA
    on_app = res("P", "AWS::IAM::Policy", {"PolicyDocument": admin, "Roles": [{"Ref": "App"}]})
    assert check(iam.no_wildcard_admin, on_app, stack(on_app, app)) is N
    managed = _role(ManagedPolicyArns=["arn:aws:iam::aws:policy/AdministratorAccess"])
    assert iam.no_wildcard_admin.check(managed, stack(managed)).detail == "attaches AdministratorAccess"


def _auditor(name: str = "au-production-auditor", logical_id: str = "R", **props: Any) -> Any:
    role = _role(name, HUMAN, **props)
    return res(logical_id, role.type, dict(role.properties))


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        pytest.param(_auditor(ManagedPolicyArns=[]), C, id="ACC1-AuditorReadOnly-by-name"),
        pytest.param(_auditor("", "AuditorRole"), C, id="ACC1-AuditorReadOnly-by-logical-id"),
        pytest.param(
            _auditor("app", "R", ManagedPolicyArns=["arn:aws:iam::aws:policy/AdministratorAccess"]),
            NA,
            id="ACC1-AuditorReadOnly-not-the-auditor",
        ),
        pytest.param(
            _auditor(ManagedPolicyArns=["arn:aws:iam::aws:policy/PowerUserAccess"]),
            N,
            id="ACC1-AuditorReadOnly-non-read-only-managed-policy",
        ),
        pytest.param(
            _auditor(ManagedPolicyArns=[{"Ref": "Custom"}]), N, id="ACC1-AuditorReadOnly-unknown-managed-policy"
        ),
        pytest.param(
            _auditor(Policies=_inline({"Effect": "Allow", "Action": ["s3:GetObject", "logs:Describe*"]})),
            C,
            id="ACC1-AuditorReadOnly-read-actions",
        ),
        pytest.param(_auditor(Policies=_inline({"Effect": "Allow", "Action": "*"})), N, id="ACC1-AuditorReadOnly-star"),
        pytest.param(
            _auditor(Policies=_inline({"Effect": "Allow", "Action": "s3:*"})), N, id="ACC1-AuditorReadOnly-service-star"
        ),
        pytest.param(
            _auditor(Policies=_inline({"Effect": "Deny", "Action": "s3:PutObject"})),
            C,
            id="ACC1-AuditorReadOnly-deny-of-a-write",
        ),
    ],
)
def test_acc1_auditor_read_only(role: Any, expected: object) -> None:
    assert check(iam.auditor_read_only, role) is expected


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param(
            {"ManagedPolicyArns": ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]},
            C,
            id="ACC5-WebRoleNoBackupAccess-ssm-core",
        ),
        pytest.param(
            {"ManagedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]},
            N,
            id="ACC5-WebRoleNoBackupAccess-admin",
        ),
        pytest.param(
            {"ManagedPolicyArns": ["arn:aws:iam::aws:policy/AmazonS3FullAccess"]},
            N,
            id="ACC5-WebRoleNoBackupAccess-s3-full-access",
        ),
        pytest.param(
            {"Policies": _inline({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::app/*"})},
            C,
            id="ACC5-WebRoleNoBackupAccess-read-an-app-bucket",
        ),
        pytest.param(
            {
                "Policies": _inline(
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x-archive/*"}
                )
            },
            N,
            id="ACC5-WebRoleNoBackupAccess-read-an-archive",
        ),
        pytest.param(
            {"Policies": _inline({"Effect": "Deny", "Action": "backup:*", "Resource": "*"})},
            C,
            id="ACC5-WebRoleNoBackupAccess-deny-ignored",
        ),
    ],
)
def test_acc5_web_role_no_backup_access(props: dict[str, Any], expected: object) -> None:
    assert check(iam.web_role_no_backup_access, _role(**props)) is expected


def test_acc5_web_role_no_backup_access_names_the_targets_up_to_100_characters() -> None:
    targets = "arn:aws:s3:::archive-" + "x" * 200
    role = _role(Policies=_inline({"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": targets}))
    detail = iam.web_role_no_backup_access.check(role, stack(role)).detail
    assert detail == f"statement Read grants decrypt/read on {targets.lower()[:100]}"
    assert check(iam.web_role_no_backup_access, _role("app", HUMAN)) is NA


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        pytest.param(_role("dev", HUMAN, PermissionsBoundary="arn:b"), C, id="ACC1-HumanRoleBoundary-bounded"),
        pytest.param(_role("dev", HUMAN), N, id="ACC1-HumanRoleBoundary-unbounded"),
        pytest.param(_role(), NA, id="ACC1-HumanRoleBoundary-service-role"),
        pytest.param(_role("au-production-break-glass", HUMAN), NA, id="ACC1-HumanRoleBoundary-break-glass"),
    ],
)
def test_acc1_human_role_boundary(role: Any, expected: object) -> None:
    assert check(iam.human_role_boundary, role) is expected


WORKLOAD_BOUNDARY = "arn:aws:iam::111111111111:policy/au-production-workload-boundary"


@pytest.mark.parametrize(
    ("boundary", "expected"),
    [
        pytest.param(WORKLOAD_BOUNDARY, C, id="ACC1-RoleHasPermissionsBoundary-workload-arn"),
        pytest.param(
            {
                "Fn::Join": [
                    "",
                    ["arn:", {"Ref": "AWS::Partition"}, ":iam::111111111111:policy/au-production-workload-boundary"],
                ]
            },
            C,
            id="ACC1-RoleHasPermissionsBoundary-workload-joined-arn",
        ),
        pytest.param(None, N, id="ACC1-RoleHasPermissionsBoundary-none"),
        pytest.param(
            "arn:aws:iam::111111111111:policy/au-production-cdk-boundary", N, id="ACC1-RoleHasPermissionsBoundary-cdk"
        ),
        pytest.param(
            "arn:aws:iam::111111111111:policy/us-production-workload-boundary",
            N,
            id="ACC1-RoleHasPermissionsBoundary-other-deployment",
        ),
    ],
)
def test_acc1_role_has_permissions_boundary(boundary: object, expected: object) -> None:
    props: dict[str, Any] = {"PermissionsBoundary": boundary} if boundary is not None else {}
    assert check(iam.role_has_permissions_boundary, _role("app", "ec2.amazonaws.com", **props)) is expected


def test_acc1_role_has_permissions_boundary_by_ref_to_the_team_boundary() -> None:
    """A team role names the team boundary by Ref (Access stack); a stack-made boundary of another name fails."""
    team = res("Team", "AWS::IAM::ManagedPolicy", {"ManagedPolicyName": "au-production-team-boundary"})
    own = res("Own", "AWS::IAM::ManagedPolicy", {"ManagedPolicyName": "au-production-primary-release-boundary"})
    director = _role("au-production-technical-director", HUMAN, PermissionsBoundary={"Ref": "Team"})
    assert check(iam.role_has_permissions_boundary, director, stack(director, team)) is C
    releaser = _role("au-production-primary-release", HUMAN, PermissionsBoundary={"Ref": "Own"})
    assert check(iam.role_has_permissions_boundary, releaser, stack(releaser, own)) is N
    detail = iam.role_has_permissions_boundary.check(releaser, stack(releaser, own)).detail
    assert "au-production-primary-release-boundary" in detail

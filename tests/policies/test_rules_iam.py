"""Tests of policies/rules/iam.py (IAM rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from typing import Any

from policies.rules import iam
from tests.policies.rulekit import NA, C, N, check, res


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


def test_iam_rules() -> None:
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

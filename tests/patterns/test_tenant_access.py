"""patterns/tenant_access.py on a bare stack: the one grant on tenant objects (HOST-5). A team role
reaches only its own tenant's prefix (ABAC on `tenant-id`), the web tier every tenant's, and nothing
outside `tenants/`; the content key only through S3."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms

from patterns.team_actions import TENANT_READ_ACTIONS, TENANT_WRITE_ACTIONS
from patterns.tenant_access import TenantGrant, tenant_object_grant
from tests.patterns.bare import arn_of, bare_stack


def _grant(*, own_tenant_only: bool, actions: tuple[str, ...] = TENANT_READ_ACTIONS) -> tuple[cdk.Stack, TenantGrant]:
    stack = bare_stack()
    key = kms.Key(stack, "Content")
    grant = tenant_object_grant(
        stack, bucket_name="unit-content", actions=actions, own_tenant_only=own_tenant_only, content_key=key
    )
    return stack, grant


def _json(stack: cdk.Stack, grant: TenantGrant) -> list[dict[str, Any]]:
    return [stack.resolve(s.to_statement_json()) for s in grant.statements]


def _plain(value: Any) -> str:
    """A resolved ARN as IAM sees it in the `aws` partition."""
    if isinstance(value, str):
        return value
    (parts,) = value.values()
    return "".join("aws" if part == {"Ref": "AWS::Partition"} else part for part in parts[1])


def _allows(statement: dict[str, Any], object_arn: str, principal_tags: dict[str, str]) -> bool:
    """IAM's wildcard match of one object ARN against the statement, with the session's principal tags
    substituted into the policy variable and the `Null` condition on them checked."""
    for key, absent in statement.get("Condition", {}).get("Null", {}).items():
        if (key.split("/", 1)[1] not in principal_tags) != (absent == "true"):
            return False
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    for resource in map(_plain, resources):
        for tag, value in principal_tags.items():
            resource = resource.replace("${aws:PrincipalTag/" + tag + "}", value)
        if "${" not in resource and fnmatchcase(object_arn, resource):
            return True
    return False


def test_own_tenant_grant_is_scoped_to_the_principal_tag_prefix_and_needs_the_tag() -> None:
    stack, grant = _grant(own_tenant_only=True)
    objects, listing, _ = _json(stack, grant)
    assert objects["Sid"] == "OwnTenantObjects"
    assert _plain(objects["Resource"]) == "arn:aws:s3:::unit-content/tenants/${aws:PrincipalTag/tenant-id}/*"
    assert objects["Condition"] == {"Null": {"aws:PrincipalTag/tenant-id": "false"}}
    assert sorted(objects["Action"]) == sorted(TENANT_READ_ACTIONS)
    assert listing["Action"] == "s3:ListBucket"
    assert _plain(listing["Resource"]) == "arn:aws:s3:::unit-content"
    assert listing["Condition"] == {
        "StringLike": {"s3:prefix": ["tenants/${aws:PrincipalTag/tenant-id}/*"]},
        "Null": {"aws:PrincipalTag/tenant-id": "false"},
    }


def test_own_tenant_grant_reaches_no_other_tenant_and_nothing_without_the_tag() -> None:
    stack, grant = _grant(own_tenant_only=True)
    objects = _json(stack, grant)[0]
    acme = {"tenant-id": "acme"}
    assert _allows(objects, "arn:aws:s3:::unit-content/tenants/acme/report.pdf", acme)
    assert not _allows(objects, "arn:aws:s3:::unit-content/tenants/globex/report.pdf", acme)
    assert not _allows(objects, "arn:aws:s3:::unit-content/tenants/acme-evil/report.pdf", acme)
    assert not _allows(objects, "arn:aws:s3:::unit-content/public/index.html", acme)
    assert not _allows(objects, "arn:aws:s3:::other-bucket/tenants/acme/report.pdf", acme)
    assert not _allows(objects, "arn:aws:s3:::unit-content/tenants/acme/report.pdf", {})


def test_all_tenants_grant_covers_tenants_only_without_a_tag_condition() -> None:
    stack, grant = _grant(own_tenant_only=False, actions=TENANT_WRITE_ACTIONS)
    objects, listing, _ = _json(stack, grant)
    assert (objects["Sid"], listing["Sid"]) == ("TenantObjectsOnly", "ListTenantPrefixOnly")
    assert "Condition" not in objects
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["tenants/*"]}}
    (prefix,) = listing["Condition"]["StringLike"]["s3:prefix"]
    assert fnmatchcase("tenants/globex/", prefix) and not fnmatchcase("public/", prefix)
    assert _allows(objects, "arn:aws:s3:::unit-content/tenants/globex/a.txt", {})
    assert not _allows(objects, "arn:aws:s3:::unit-content/public/a.txt", {})
    assert not _allows(objects, "arn:aws:s3:::unit-content/tenantsx/a.txt", {})
    assert _plain(objects["Resource"]) == _plain(stack.resolve(grant.objects_arn))


def test_content_key_is_usable_only_through_s3_and_only_decrypts_for_readers() -> None:
    for actions, key_actions in (
        (TENANT_READ_ACTIONS, "kms:Decrypt"),
        (TENANT_WRITE_ACTIONS, ["kms:Decrypt", "kms:GenerateDataKey"]),
        ((*TENANT_READ_ACTIONS, *TENANT_WRITE_ACTIONS), ["kms:Decrypt", "kms:GenerateDataKey"]),
    ):
        stack, grant = _grant(own_tenant_only=True, actions=actions)
        key = _json(stack, grant)[2]
        assert (key["Sid"], key["Action"]) == ("ContentKeyThroughS3Only", key_actions)
        assert key["Condition"] == {"StringEquals": {"kms:ViaService": "s3.eu-west-2.amazonaws.com"}}
        assert key["Resource"] == arn_of(stack, stack.node.find_child("Content"))


def test_without_a_content_key_there_is_no_key_statement() -> None:
    stack = bare_stack()
    grant = tenant_object_grant(stack, bucket_name="b", actions=TENANT_READ_ACTIONS, own_tenant_only=False)
    assert grant.key_statement is None
    assert len(grant.statements) == 2

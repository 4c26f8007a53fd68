"""The one shape of a grant on tenant objects in the content bucket (HOST-5).

Two callers, one idea: a team role reaches only the caller's own tenant prefix,
`tenants/${aws:PrincipalTag/tenant-id}/` (ABAC: a session without the tag matches
nothing), while the multi-tenant web tier serves every tenant and so reaches
`tenants/`. Both get the objects statement, a `ListBucket` limited to the prefix,
and the content key usable only through S3 (decrypt for readers, also generate
data keys for writers).
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from patterns.tagging import TENANT_ID, TENANT_PREFIX_ABAC, TENANT_PREFIX_ALL
from patterns.team_actions import TENANT_READ_ACTIONS


@dataclass(frozen=True)
class TenantGrant:
    objects_arn: str  # the wildcard object ARN: callers acknowledge its IAM5 finding
    bucket_statements: tuple[iam.PolicyStatement, ...]  # the objects, then the prefix listing
    key_statement: iam.PolicyStatement | None  # the content key through S3 only

    @property
    def statements(self) -> list[iam.PolicyStatement]:
        return [*self.bucket_statements, *([self.key_statement] if self.key_statement else [])]


def tenant_object_grant(
    stack: cdk.Stack,
    *,
    bucket_name: str,
    actions: tuple[str, ...],
    own_tenant_only: bool,
    content_key: kms.IKey | None = None,
) -> TenantGrant:
    """Statements on the content bucket's tenant objects: the caller's own tenant (`own_tenant_only`,
    ABAC on the principal tag `tenant-id`) or every tenant (the web tier)."""
    prefix = TENANT_PREFIX_ABAC if own_tenant_only else TENANT_PREFIX_ALL
    tag_present: dict[str, object] = {"Null": {f"aws:PrincipalTag/{TENANT_ID}": "false"}} if own_tenant_only else {}
    bucket_arn = stack.format_arn(service="s3", region="", account="", resource=bucket_name)
    objects_arn = f"{bucket_arn}/{prefix}*"
    bucket_statements = (
        iam.PolicyStatement(
            sid="OwnTenantObjects" if own_tenant_only else "TenantObjectsOnly",
            actions=list(actions),
            resources=[objects_arn],
            conditions=tag_present or None,
        ),
        iam.PolicyStatement(
            sid="ListOwnTenantPrefix" if own_tenant_only else "ListTenantPrefixOnly",
            actions=["s3:ListBucket"],
            resources=[bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}, **tag_present},
        ),
    )
    key_statement = None
    if content_key is not None:
        key_actions = (
            ["kms:Decrypt"] if set(actions) == set(TENANT_READ_ACTIONS) else ["kms:Decrypt", "kms:GenerateDataKey"]
        )
        key_statement = iam.PolicyStatement(
            sid="ContentKeyThroughS3Only",
            actions=key_actions,
            resources=[content_key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
        )
    return TenantGrant(objects_arn, bucket_statements, key_statement)

"""ACC-3: audit records cannot be deleted or expired early, and are copied into the DR region.

The trail's bucket (primary Audit stack), its locked copy (DR AuditArchive stack) and the OPS-6
evidence bucket (primary Operations stack): S3 Object Lock (COMPLIANCE in production), policy denies
without a break-glass exemption, replication into the DR archive; the trail's log group is protected
by the team boundary (Access stack).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from patterns.team_actions import (
    AUDIT_BUCKET_SETTINGS_ACTIONS,
    AUDIT_LOG_PROTECTED_ACTIONS,
    AUDIT_RECORD_DELETION_ACTIONS,
)
from tests.conftest import Stages, TemplateOf

ACCOUNT = "111111111111"
DEV_ACCOUNT = "111111111113"
# (stage role, stack id, bucket name) of every audit bucket of au-production
AUDIT_BUCKETS = (
    ("primary", "Audit", f"au-production-primary-audit-{ACCOUNT}"),
    ("dr", "AuditArchive", f"au-production-dr-audit-{ACCOUNT}"),
    ("primary", "Operations", f"au-production-primary-evidence-{ACCOUNT}"),
)


def _lock(mode: str, days: int) -> dict[str, Any]:
    return {
        "ObjectLockEnabled": True,
        "ObjectLockConfiguration": {
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": mode, "Days": days}},
        },
        "VersioningConfiguration": {"Status": "Enabled"},
    }


def _bucket_statements(template: Template, bucket_name: str) -> dict[str, dict[str, Any]]:
    buckets = template.find_resources("AWS::S3::Bucket", {"Properties": {"BucketName": bucket_name}})
    assert len(buckets) == 1, bucket_name
    (logical_id,) = buckets
    policies = template.find_resources("AWS::S3::BucketPolicy", {"Properties": {"Bucket": {"Ref": logical_id}}})
    assert len(policies) == 1, bucket_name
    policy = next(iter(policies.values()))
    return {s.get("Sid", ""): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


@pytest.mark.parametrize(("role", "stack_id", "bucket_name"), AUDIT_BUCKETS)
def test_production_audit_buckets_are_locked_in_compliance_mode_for_the_audit_retention(
    au_production: Stages, template_of: TemplateOf, role: str, stack_id: str, bucket_name: str
) -> None:
    """COMPLIANCE for log_archive_expiry_days (2555): as long as the lifecycle keeps a record (BAK-7).

    `Retain` even on a failed first create: a locked bucket cannot be emptied (patterns/retention.py)."""
    template_of(au_production, role, stack_id).has_resource(
        "AWS::S3::Bucket",
        {
            "Properties": Match.object_like({"BucketName": bucket_name, **_lock("COMPLIANCE", 2555)}),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )


def test_development_audit_buckets_use_governance_mode_from_config(
    au_development: Stages, template_of: TemplateOf
) -> None:
    for role, stack_id, name in (
        ("primary", "Audit", f"au-development-primary-audit-{DEV_ACCOUNT}"),
        ("dr", "AuditArchive", f"au-development-dr-audit-{DEV_ACCOUNT}"),
        ("primary", "Operations", f"au-development-primary-evidence-{DEV_ACCOUNT}"),
    ):
        template_of(au_development, role, stack_id).has_resource_properties(
            "AWS::S3::Bucket", Match.object_like({"BucketName": name, **_lock("GOVERNANCE", 365)})
        )


@pytest.mark.parametrize(("role", "stack_id", "bucket_name"), AUDIT_BUCKETS)
def test_nobody_may_delete_or_unlock_an_audit_record_and_only_deploys_change_the_bucket(
    au_production: Stages, template_of: TemplateOf, role: str, stack_id: str, bucket_name: str
) -> None:
    statements = _bucket_statements(template_of(au_production, role, stack_id), bucket_name)
    deletion = statements["DenyAuditRecordDeletion"]
    assert deletion["Effect"] == "Deny" and deletion["Principal"] == {"AWS": "*"}
    assert set(deletion["Action"]) == set(AUDIT_RECORD_DELETION_ACTIONS)
    assert "Condition" not in deletion  # no exemption, break-glass included
    settings = statements["DenyAuditBucketSettingsButDeploys"]
    assert settings["Effect"] == "Deny" and settings["Principal"] == {"AWS": "*"}
    assert set(settings["Action"]) >= {
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketVersioning",
        "s3:PutBucketObjectLockConfiguration",
        "s3:PutReplicationConfiguration",
    }
    region = au_production[role].region
    assert settings["Condition"] == {
        "ArnNotEquals": {
            "aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-{region}"
        }
    }
    assert "break-glass" not in json.dumps(statements)
    # The record versions themselves: the deletion deny names the objects and the bucket.
    assert len(deletion["Resource"]) == 2


@pytest.mark.parametrize(
    ("stack_id", "source", "role_name"),
    [
        ("Audit", "audit", "au-production-audit-replication"),
        ("Operations", "evidence", "au-production-evidence-replication"),
    ],
)
def test_audit_records_replicate_into_the_locked_dr_archive_without_deletes(
    au_production: Stages, template_of: TemplateOf, stack_id: str, source: str, role_name: str
) -> None:
    template = template_of(au_production, "primary", stack_id)
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": f"au-production-primary-{source}-{ACCOUNT}",
            "ReplicationConfiguration": {
                "Role": Match.any_value(),
                "Rules": [
                    Match.object_like(
                        {
                            "Status": "Enabled",
                            "DeleteMarkerReplication": {"Status": "Disabled"},
                            "Destination": Match.object_like(
                                {
                                    "Bucket": f"arn:aws:s3:::au-production-dr-audit-{ACCOUNT}",
                                    "EncryptionConfiguration": {
                                        "ReplicaKmsKeyID": (
                                            f"arn:aws:kms:ap-southeast-4:{ACCOUNT}:alias/au-production/logs"
                                        )
                                    },
                                    "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                                }
                            ),
                        }
                    )
                ],
            },
        },
    )
    template.has_resource_properties("AWS::IAM::Role", {"RoleName": role_name})
    grants = [
        statement
        for policy in template.find_resources("AWS::IAM::ManagedPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Sid") in ("ReadSourceVersions", "WriteReplicas")
    ]
    actions = {a for s in grants for a in s["Action"]}
    # S3 needs both to replicate Object Lock versions; a copy that takes deletes is no copy of the record.
    assert {"s3:GetObjectRetention", "s3:GetObjectLegalHold", "s3:ReplicateObject"} <= actions
    assert "s3:ReplicateDelete" not in actions


def test_dr_archive_exists_without_a_standby_and_uses_the_dr_logs_key(
    au_development: Stages, template_of: TemplateOf
) -> None:
    """A deployment without a warm standby (development) still copies its audit records (ACC-3)."""
    archive = template_of(au_development, "dr", "AuditArchive")
    archive.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": f"au-development-dr-audit-{DEV_ACCOUNT}",
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like({"ServerSideEncryptionByDefault": Match.object_like({"SSEAlgorithm": "aws:kms"})})
                ]
            },
            "LoggingConfiguration": Match.object_like({"LogFilePrefix": "archive/"}),
        },
    )
    bucket = next(iter(archive.find_resources("AWS::S3::Bucket", {"Properties": {"ObjectLockEnabled": True}}).values()))
    assert "LogsKey" in json.dumps(bucket["Properties"]["BucketEncryption"])
    assert "ReplicationConfiguration" not in bucket["Properties"]
    template_of(au_development, "primary", "Audit").has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": f"au-development-primary-audit-{DEV_ACCOUNT}",
            "ReplicationConfiguration": Match.object_like(
                {
                    "Rules": [
                        Match.object_like(
                            {
                                "Destination": Match.object_like(
                                    {"Bucket": f"arn:aws:s3:::au-development-dr-audit-{DEV_ACCOUNT}"}
                                )
                            }
                        )
                    ]
                }
            ),
        },
    )


def test_team_boundary_protects_audit_records_and_the_trail_log_group(
    au_production: Stages, template_of: TemplateOf
) -> None:
    access = template_of(au_production, "primary", "Access")
    boundary = next(
        iter(
            access.find_resources(
                "AWS::IAM::ManagedPolicy", {"Properties": {"ManagedPolicyName": "au-production-team-boundary"}}
            ).values()
        )
    )
    statements = {s.get("Sid"): s for s in boundary["Properties"]["PolicyDocument"]["Statement"]}
    log_group = statements["DenyAuditLogGroupTampering"]
    assert log_group["Effect"] == "Deny" and "Condition" not in log_group
    assert (
        set(log_group["Action"])
        == set(AUDIT_LOG_PROTECTED_ACTIONS)
        >= {
            "logs:DeleteLogGroup",
            "logs:DeleteLogStream",
            "logs:PutRetentionPolicy",
        }
    )
    assert log_group["Resource"] == f"arn:aws:logs:*:{ACCOUNT}:log-group:/audit/*"
    records = statements["DenyAuditRecordTampering"]
    assert records["Effect"] == "Deny" and "Condition" not in records
    assert set(records["Action"]) == {*AUDIT_RECORD_DELETION_ACTIONS, *AUDIT_BUCKET_SETTINGS_ACTIONS}
    assert f"arn:aws:s3:::au-production-*-audit-{ACCOUNT}/*" in records["Resource"]
    assert f"arn:aws:s3:::au-production-primary-evidence-{ACCOUNT}" in records["Resource"]


def test_the_trail_log_group_is_the_one_the_boundary_protects(au_production: Stages, template_of: TemplateOf) -> None:
    template_of(au_production, "primary", "Audit").has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": Match.object_like({"LogGroupName": Match.string_like_regexp("^/audit/")}),
            "DeletionPolicy": "RetainExceptOnCreate",
            "UpdateReplacePolicy": "Retain",
        },
    )

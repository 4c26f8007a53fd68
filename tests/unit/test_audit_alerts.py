"""AlertsStack (OPS-2, OPS-4), AuditStack (ACC-3) and MonitoringStack (OPS-2)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from patterns.alerting import severity_label, severity_summary
from tests.conftest import Stages, TemplateOf, au_production_stack

alerts = au_production_stack("primary", "Alerts")
audit = au_production_stack("primary", "Audit")
keys = au_production_stack("primary", "Keys")


def _key_statements(keys: Template) -> list[dict[str, Any]]:
    return [
        statement
        for key in keys.find_resources("AWS::KMS::Key").values()
        for statement in key["Properties"]["KeyPolicy"]["Statement"]
    ]


# --- Alerts -------------------------------------------------------------------------------


def test_one_encrypted_topic_per_severity(alerts: Template) -> None:
    alerts.resource_count_is("AWS::SNS::Topic", 4)
    for severity in (1, 2, 3, 4):
        alerts.has_resource_properties(
            "AWS::SNS::Topic",
            {"TopicName": f"au-production-primary-sev{severity}", "KmsMasterKeyId": Match.any_value()},
        )
    for topic in alerts.find_resources("AWS::SNS::Topic").values():
        assert "SystemKey" in json.dumps(topic["Properties"]["KmsMasterKeyId"])


def test_topics_deny_publishing_without_tls_and_admit_only_this_accounts_publishers(alerts: Template) -> None:
    policies = alerts.find_resources("AWS::SNS::TopicPolicy")
    assert len(policies) == 4
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
        )
        allows = [s for s in statements if s["Effect"] == "Allow"]
        assert {s["Principal"]["Service"] for s in allows} == {"cloudwatch.amazonaws.com", "events.amazonaws.com"}
        assert all(s["Condition"] == {"StringEquals": {"aws:SourceAccount": "111111111111"}} for s in allows)


def test_only_sev1_and_sev2_page_the_on_call_address(alerts: Template) -> None:
    subscriptions = alerts.find_resources("AWS::SNS::Subscription")
    assert len(subscriptions) == 2
    for subscription in subscriptions.values():
        assert subscription["Properties"]["Protocol"] == "email"
        assert subscription["Properties"]["Endpoint"] == "oncall-au@saas.example.com"
        assert any(f"Sev{n}Topic" in subscription["Properties"]["TopicArn"]["Ref"] for n in (1, 2))


def test_system_key_lets_alarms_and_events_use_it_for_this_account_only(keys: Template) -> None:
    statements = [s for s in _key_statements(keys) if s.get("Sid") == "AllowAlarmAndEventPublishersToEncryptedTopics"]
    assert len(statements) == 1
    statement = statements[0]
    assert sorted(statement["Principal"]["Service"]) == ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "111111111111"}}


def test_severity_labels_carry_the_ops4_matrix() -> None:
    assert severity_label(1) == "Sev1"
    assert "within 1 hour" in severity_summary(1) and "fix within 7 hours" in severity_summary(1)
    assert "workaround within 48 hours" in severity_summary(2)
    with pytest.raises(ValueError, match="severity 5 unknown"):
        severity_label(5)


def test_dr_stage_has_its_own_alert_topics_but_no_primary_data_or_audit(
    au_production: Stages, template_of: TemplateOf
) -> None:
    dr = au_production["dr"]
    for stack_id in ("Data", "Audit", "Monitoring"):
        assert dr.node.try_find_child(stack_id) is None
    # DR alarms publish in their own region (OPS-2): the failed primary region cannot page anyone.
    alerts = template_of(au_production, "dr", "Alerts")
    alerts.resource_count_is("AWS::SNS::Topic", 4)
    alerts.has_resource_properties("AWS::SNS::Topic", {"TopicName": "au-production-dr-sev1"})


# --- Audit --------------------------------------------------------------------------------


def test_trail_is_multi_region_validated_encrypted_and_sent_to_cloudwatch(audit: Template) -> None:
    audit.has_resource_properties(
        "AWS::CloudTrail::Trail",
        {
            "TrailName": "au-production-audit",
            "IsLogging": True,
            "IsMultiRegionTrail": True,
            "IncludeGlobalServiceEvents": True,
            "EnableLogFileValidation": True,
            "KMSKeyId": Match.any_value(),
            "S3BucketName": {"Ref": Match.string_like_regexp("^AuditTrailBucket")},
            "CloudWatchLogsLogGroupArn": {"Fn::GetAtt": [Match.string_like_regexp("^AuditTrailLogGroup"), "Arn"]},
            "CloudWatchLogsRoleArn": {"Fn::GetAtt": [Match.string_like_regexp("^AuditTrailLogsRole"), "Arn"]},
        },
    )
    trail = next(iter(audit.find_resources("AWS::CloudTrail::Trail").values()))
    assert "LogsKey" in json.dumps(trail["Properties"]["KMSKeyId"])


def test_trail_log_group_is_encrypted_with_retention_and_kept(audit: Template) -> None:
    audit.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {
                "LogGroupName": "/audit/au-production-audit",
                "KmsKeyId": Match.any_value(),
                "RetentionInDays": 365,
            },
            "DeletionPolicy": "RetainExceptOnCreate",
        },
    )
    audit.resource_count_is("AWS::IAM::Policy", 0)


def test_trail_bucket_is_kms_versioned_logged_archived_and_retained(audit: Template) -> None:
    audit.has_resource(
        "AWS::S3::Bucket",
        {
            "DeletionPolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "BucketName": "au-production-primary-audit-111111111111",
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            Match.object_like(
                                {"ServerSideEncryptionByDefault": Match.object_like({"SSEAlgorithm": "aws:kms"})}
                            )
                        ]
                    },
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "PublicAccessBlockConfiguration": Match.object_like({"BlockPublicPolicy": True}),
                    "LoggingConfiguration": Match.object_like({"LogFilePrefix": "cloudtrail/"}),
                    "LifecycleConfiguration": {
                        "Rules": Match.array_with(
                            [
                                Match.object_like(
                                    {
                                        "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 30}],
                                        "ExpirationInDays": 2555,
                                    }
                                )
                            ]
                        )
                    },
                }
            ),
        },
    )


def test_trail_bucket_policy_lets_only_cloudtrail_write_and_nobody_delete(audit: Template) -> None:
    policy = next(
        p
        for p in audit.find_resources("AWS::S3::BucketPolicy").values()
        if "AuditTrailBucket" in json.dumps(p["Properties"]["Bucket"])
    )
    statements = {s.get("Sid"): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    write = statements["AWSCloudTrailWrite"]
    assert write["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert "aws:SourceArn" in write["Condition"]["StringEquals"]
    deny_write = statements["DenyWritesByAnyoneButCloudTrail"]
    assert deny_write["Effect"] == "Deny"
    assert deny_write["Condition"] == {
        "StringNotEqualsIfExists": {"aws:PrincipalServiceName": "cloudtrail.amazonaws.com"}
    }
    deny_delete = statements["DenyAuditRecordDeletion"]  # tests/unit/test_audit_immutability.py: ACC-3
    assert deny_delete["Effect"] == "Deny"
    assert "s3:DeleteObjectVersion" in deny_delete["Action"]
    assert "Condition" not in deny_delete  # break-glass is no exception any more
    # and no statement anywhere allows a principal other than CloudTrail
    for statement in statements.values():
        if statement["Effect"] == "Allow":
            assert statement["Principal"] == {"Service": "cloudtrail.amazonaws.com"}


def test_logs_key_admits_cloudtrail_only_for_this_trail(keys: Template) -> None:
    statements = [s for s in _key_statements(keys) if s.get("Sid", "").startswith("AllowCloudTrail")]
    assert len(statements) == 4
    for statement in statements:
        assert statement["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
        assert "trail/au-production-audit" in json.dumps(statement["Condition"]["StringEquals"]["aws:SourceArn"])
    encrypt = next(s for s in statements if s["Action"] == "kms:GenerateDataKey*")
    assert "kms:EncryptionContext:aws:cloudtrail:arn" in encrypt["Condition"]["StringLike"]


def test_logs_key_lets_cloudtrail_decrypt_for_the_bucket_key(keys: Template) -> None:
    """The trail bucket uses an S3 Bucket Key: CloudTrail needs kms:Decrypt (CloudTrail user guide,
    "Configure AWS KMS key policies for CloudTrail"), for this trail only, with an encryption context."""
    decrypts = [
        s
        for s in _key_statements(keys)
        if s.get("Action") == "kms:Decrypt" and s.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}
    ]
    assert decrypts
    contexts = set()
    for statement in decrypts:
        assert statement["Effect"] == "Allow"
        assert "trail/au-production-audit" in json.dumps(statement["Condition"]["StringEquals"]["aws:SourceArn"])
        keys_used = {k for op in statement["Condition"].values() for k in op}
        contexts |= {k for k in keys_used if k.startswith("kms:EncryptionContext:")}
        assert any(k.startswith("kms:EncryptionContext:") for k in keys_used)
    assert "kms:EncryptionContext:aws:s3:arn" in contexts
    bucket_key = next(s for s in decrypts if "kms:EncryptionContext:aws:s3:arn" in s["Condition"]["StringEquals"])
    assert json.dumps(bucket_key["Condition"]["StringEquals"]["kms:EncryptionContext:aws:s3:arn"]).endswith(
        's3:::au-production-primary-audit-111111111111"'
    )


def test_every_log_archive_moves_objects_of_any_size(au_production: Stages) -> None:
    """BAK-7: S3's default (all_storage_classes_128K) never transitions objects < 128 KB."""
    seen = 0
    for stage in au_production.values():
        for stack in stage.stacks:
            for bucket in Template.from_stack(stack).find_resources("AWS::S3::Bucket").values():
                lifecycle = bucket["Properties"].get("LifecycleConfiguration", {})
                if any(r.get("Transitions") for r in lifecycle.get("Rules", [])):
                    seen += 1
                    assert lifecycle.get("TransitionDefaultMinimumObjectSize") == "varies_by_storage_class"
    assert seen >= 3


def test_only_the_primary_region_has_a_trail(au_production: Stages, template_of: TemplateOf) -> None:
    for stack in au_production["dr"].stacks:
        assert not Template.from_stack(stack).find_resources("AWS::CloudTrail::Trail")


# --- Monitoring -----------------------------------------------------------------------------


def test_dashboard_shows_database_and_redis(au_production: Stages, template_of: TemplateOf) -> None:
    monitoring = template_of(au_production, "primary", "Monitoring")
    dashboard = next(iter(monitoring.find_resources("AWS::CloudWatch::Dashboard").values()))
    assert dashboard["Properties"]["DashboardName"] == "au-production-primary-operations"
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in ("CPUUtilization", "FreeStorageSpace", "DatabaseConnections", "EngineCPUUtilization", "Evictions"):
        assert metric in body
    assert "au-production-primary-redis-001" in body


def test_trail_records_management_and_customer_content_data_events(audit: Template) -> None:
    """ACC-3: object reads/writes of both regions' content buckets and of the export bucket are recorded;
    with advanced selectors a trail logs only what a selector names, so management events keep their own
    selector."""
    audit.has_resource_properties(
        "AWS::CloudTrail::Trail",
        {
            "AdvancedEventSelectors": [
                {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}], "Name": Match.any_value()},
                {
                    "Name": Match.any_value(),
                    "FieldSelectors": [
                        {"Field": "eventCategory", "Equals": ["Data"]},
                        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                        {
                            "Field": "resources.ARN",
                            "StartsWith": [
                                "arn:aws:s3:::au-production-primary-content-111111111111/",
                                "arn:aws:s3:::au-production-dr-content-111111111111/",
                                "arn:aws:s3:::au-production-primary-exports-111111111111/",  # DATA-2 exports
                            ],
                        },
                    ],
                },
            ]
        },
    )

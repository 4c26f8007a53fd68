"""DataStack: PostgreSQL, Redis, buckets and alarms (HOST-4, ENC-1..4, BAK-3, BAK-6..8, OPS-2, OPS-4, OPS-5)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from aws_cdk.assertions import Capture, Match, Template

from patterns.encrypted_postgres import window_before
from stacks.data import NO_STANDBY_REASON, estimated_max_connections
from tests.conftest import Stages, TemplateOf, au_production_stack


class KeyRef(Capture):
    """Captures a cross-stack key/topic reference; `names(x)` checks every captured value refers to x."""

    def names(self, name: str) -> None:
        while True:
            assert name in json.dumps(self.as_object()), (name, self.as_object())
            if not self.next():
                break


data = au_production_stack("primary", "Data")


@pytest.fixture(scope="module")
def dev_data(au_development: Stages, template_of: TemplateOf) -> Template:
    return template_of(au_development, "primary", "Data")


def _one(template: Template, type_: str) -> Mapping[str, Any]:
    found = template.find_resources(type_)
    assert len(found) == 1, found.keys()
    return next(iter(found.values()))


# --- PostgreSQL ---------------------------------------------------------------------


def test_postgres_is_multi_az_encrypted_isolated_and_iam_authenticated(data: Template) -> None:
    customer_key = KeyRef()
    data.has_resource_properties(
        "AWS::RDS::DBInstance",
        {
            "Engine": "postgres",
            "EngineVersion": Match.string_like_regexp(r"^17\."),
            "DBInstanceIdentifier": "au-production-primary-postgres",
            "MultiAZ": True,
            "StorageEncrypted": True,
            "KmsKeyId": customer_key,
            "EnablePerformanceInsights": True,
            "PerformanceInsightsKMSKeyId": customer_key,
            "EnableIAMDatabaseAuthentication": True,
            "PubliclyAccessible": False,
            "Port": "5433",
            "MonitoringInterval": 60,
            "MonitoringRoleArn": Match.any_value(),
            "EnableCloudwatchLogsExports": ["postgresql", "upgrade"],
            "AutoMinorVersionUpgrade": True,
        },
    )
    customer_key.names("CustomerKey")


def test_development_postgres_is_single_az(dev_data: Template) -> None:
    dev_data.has_resource_properties("AWS::RDS::DBInstance", {"MultiAZ": False, "StorageEncrypted": True})
    dev_data.has_resource_properties("AWS::ElastiCache::ReplicationGroup", {"NumCacheClusters": 2})


def test_postgres_keeps_backups_and_survives_deletion(data: Template) -> None:
    data.has_resource(
        "AWS::RDS::DBInstance",
        {
            "DeletionPolicy": "Retain",  # deletion protection refuses a delete (patterns/retention.py)
            "UpdateReplacePolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "DeletionProtection": True,
                    "BackupRetentionPeriod": 35,
                    "CopyTagsToSnapshot": True,
                    "PreferredMaintenanceWindow": "sun:16:00-sun:19:00",
                    "PreferredBackupWindow": "14:00-15:00",
                    "Tags": Match.array_with(
                        [
                            {"Key": "backup-tier", "Value": "database"},
                            {"Key": "data-classification", "Value": "customer"},
                        ]
                    ),
                }
            ),
        },
    )


def test_development_keeps_the_policy_minimum_of_automated_backups(dev_data: Template) -> None:
    dev_data.has_resource_properties("AWS::RDS::DBInstance", {"BackupRetentionPeriod": 30, "DeletionProtection": True})


def test_postgres_forces_tls(data: Template) -> None:
    data.has_resource_properties(
        "AWS::RDS::DBParameterGroup",
        {"Family": "postgres17", "Parameters": Match.object_like({"rds.force_ssl": "1"})},
    )


def test_postgres_log_groups_exist_first_encrypted_with_retention(data: Template) -> None:
    logs_key = KeyRef()
    for name in ("postgresql", "upgrade"):
        data.has_resource(
            "AWS::Logs::LogGroup",
            {
                "Properties": {
                    "LogGroupName": f"/aws/rds/instance/au-production-primary-postgres/{name}",
                    "KmsKeyId": logs_key,
                    "RetentionInDays": 365,
                },
                "DeletionPolicy": "RetainExceptOnCreate",
            },
        )
    depends_on = _one(data, "AWS::RDS::DBInstance")["DependsOn"]
    assert len([d for d in depends_on if "Logs" in d]) == 3  # postgresql, upgrade, RDSOSMetrics (issue 17 item 5)
    logs_key.names("LogsKey")


def test_master_secret_is_encrypted_with_system_key_and_rotated_in_the_vpc(data: Template) -> None:
    system_key = KeyRef()
    data.has_resource_properties(
        "AWS::SecretsManager::Secret",
        {"Name": "au-production-primary-postgres/master", "KmsKeyId": system_key},
    )
    data.has_resource_properties(
        "AWS::SecretsManager::RotationSchedule",
        {
            "HostedRotationLambda": Match.object_like(
                {
                    "RotationType": "PostgreSQLSingleUser",
                    "KmsKeyArn": {"Ref": Match.any_value()},
                    "VpcSecurityGroupIds": Match.any_value(),
                    "VpcSubnetIds": {"Ref": Match.any_value()},
                }
            ),
            "RotationRules": {"ScheduleExpression": "rate(30 days)"},
        },
    )
    # BAK-8: the password of the kept instance and its snapshots outlives the stack
    data.has_resource(
        "AWS::SecretsManager::Secret",
        {
            "Properties": Match.object_like({"Name": "au-production-primary-postgres/master"}),
            "DeletionPolicy": "RetainExceptOnCreate",
        },
    )
    # no plaintext password anywhere: the instance resolves it from Secrets Manager
    password = _one(data, "AWS::RDS::DBInstance")["Properties"]["MasterUserPassword"]
    assert "{{resolve:secretsmanager:" in str(password)
    system_key.names("SystemKey")


def _same_stack_parameter(template: Template, value: Any) -> str:
    """The SSM parameter name behind `{"Ref": <SSM-typed template parameter>}`."""
    assert isinstance(value, dict) and set(value) == {"Ref"}, value
    parameter = template.to_json()["Parameters"][value["Ref"]]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>", parameter
    name: str = parameter["Default"]
    return name


def _parameter_value(template: Template, name: str) -> Any:
    (parameter,) = template.find_resources("AWS::SSM::Parameter", {"Properties": {"Name": name}}).values()
    assert parameter["Properties"]["Type"] == "String"
    return parameter["Properties"]["Value"]


def test_hosted_rotation_is_fed_only_values_of_its_own_stack(
    data: Template, au_production: Stages, template_of: TemplateOf
) -> None:
    """Issue 17 item 4: the AWS::SecretsManager transform expands HostedRotationLambda before intrinsics
    resolve, and no AWS page says it carries `Fn::GetStackOutput` into its nested stack: the key ARN and
    subnets come from SSM-typed parameters of the Data stack, written by the Keys and Network stacks."""
    assert data.to_json()["Transform"] == "AWS::SecretsManager-2024-09-16"
    (schedule,) = data.find_resources("AWS::SecretsManager::RotationSchedule").values()
    hosted = schedule["Properties"]["HostedRotationLambda"]
    assert "Fn::GetStackOutput" not in json.dumps(hosted) and "Fn::ImportValue" not in json.dumps(hosted)

    keys = template_of(au_production, "primary", "Keys")
    key_value = _parameter_value(keys, _same_stack_parameter(data, hosted["KmsKeyArn"]))
    (system_key,) = keys.find_resources(
        "AWS::KMS::Key", {"Properties": {"Description": Match.string_like_regexp("system key:")}}
    )
    assert key_value == {"Fn::GetAtt": [system_key, "Arn"]}

    network = template_of(au_production, "primary", "Network")
    subnets_value = _parameter_value(network, _same_stack_parameter(data, hosted["VpcSubnetIds"]))
    private = network.find_resources(
        "AWS::EC2::Subnet",
        {"Properties": {"Tags": Match.array_with([{"Key": "aws-cdk:subnet-type", "Value": "Private"}])}},
    )
    assert len(private) == 3
    assert subnets_value == {"Fn::Join": [",", [{"Ref": subnet} for subnet in sorted(private)]]}


def test_monitoring_role_uses_a_scoped_managed_policy_not_inline_or_aws_managed(data: Template) -> None:
    data.resource_count_is("AWS::IAM::Policy", 0)
    data.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": Match.object_like(
                {"Statement": [Match.object_like({"Principal": {"Service": "monitoring.rds.amazonaws.com"}})]}
            ),
            "ManagedPolicyArns": Match.absent(),
        },
    )
    monitoring = {
        k: v for k, v in data.find_resources("AWS::IAM::ManagedPolicy").items() if k.startswith("PostgresMonitoring")
    }
    assert len(monitoring) == 1, monitoring.keys()
    grants = json.dumps(next(iter(monitoring.values()))["Properties"]["PolicyDocument"])
    assert "log-group:RDSOSMetrics" in grants
    assert "log-group:*" not in grants and '"*"' not in grants


def test_database_admits_only_security_groups_never_a_cidr(data: Template) -> None:
    db_sg = Capture()
    data.has_resource_properties("AWS::RDS::DBInstance", {"VPCSecurityGroups": [{"Fn::GetAtt": [db_sg, "GroupId"]}]})
    ingress = [
        r["Properties"]
        for r in data.find_resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [db_sg.as_string(), "GroupId"]}
    ]
    assert ingress, "the rotation function (and the web tier) must be admitted"
    for rule in ingress:
        assert "CidrIp" not in rule
        assert rule["FromPort"] == rule["ToPort"] == 5433
    inline = data.find_resources("AWS::EC2::SecurityGroup")[db_sg.as_string()]["Properties"]
    assert "SecurityGroupIngress" not in inline


def test_database_subnets_are_the_isolated_ones(data: Template) -> None:
    subnets = _one(data, "AWS::RDS::DBSubnetGroup")["Properties"]["SubnetIds"]
    assert len(subnets) == 3
    assert all("isolated" in str(subnet) for subnet in subnets)


# --- Redis ----------------------------------------------------------------------------


def test_redis_is_multi_az_with_failover_and_encrypted_both_ways(data: Template) -> None:
    customer_key = KeyRef()
    data.has_resource(
        "AWS::ElastiCache::ReplicationGroup",
        {
            "DeletionPolicy": "Snapshot",
            "Properties": Match.object_like(
                {
                    "ReplicationGroupId": "au-production-primary-redis",
                    "NumCacheClusters": 3,
                    "AutomaticFailoverEnabled": True,
                    "MultiAZEnabled": True,
                    "AtRestEncryptionEnabled": True,
                    "KmsKeyId": customer_key,
                    "TransitEncryptionEnabled": True,
                    "TransitEncryptionMode": "required",
                    "UserGroupIds": ["au-production-primary-redis-users"],
                    "Port": 6380,
                    "PreferredMaintenanceWindow": "sun:16:00-sun:19:00",
                    "SnapshotRetentionLimit": 35,
                    "SnapshotWindow": "12:00-13:00",
                }
            ),
        },
    )
    customer_key.names("CustomerKey")


def test_redis_authenticates_with_iam_and_has_no_static_secret(data: Template) -> None:
    """ENC-4: RBAC with IAM authentication (Redis OSS >= 7, TLS required, user id == user name,
    authentication mode iam); the mandatory `default` user is switched off; no AUTH token, no secret."""
    group = _one(data, "AWS::ElastiCache::ReplicationGroup")["Properties"]
    assert "AuthToken" not in group
    assert tuple(int(p) for p in group["EngineVersion"].split(".")[:2]) >= (7, 0)
    data.has_resource_properties(
        "AWS::ElastiCache::User",
        {
            "Engine": "redis",
            "UserId": "au-production-primary-redis-app",
            "UserName": "au-production-primary-redis-app",
            "AuthenticationMode": {"Type": "iam"},
        },
    )
    data.has_resource_properties(
        "AWS::ElastiCache::User",
        {"UserName": "default", "AccessString": Match.string_like_regexp("^off "), "NoPasswordRequired": True},
    )
    data.has_resource_properties(
        "AWS::ElastiCache::UserGroup",
        {
            "UserGroupId": "au-production-primary-redis-users",
            "UserIds": ["au-production-primary-redis-app", "au-production-primary-redis-default"],
        },
    )
    for secret in data.find_resources("AWS::SecretsManager::Secret").values():
        assert "redis" not in json.dumps(secret["Properties"].get("Name", ""))


def test_redis_lives_in_isolated_subnets_behind_a_closed_group(data: Template) -> None:
    subnets = _one(data, "AWS::ElastiCache::SubnetGroup")["Properties"]["SubnetIds"]
    assert len(subnets) == 3
    assert all("isolated" in str(subnet) for subnet in subnets)
    for group in data.find_resources("AWS::EC2::SecurityGroup").values():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            assert rule.get("CidrIp") != "0.0.0.0/0"


# --- Buckets ----------------------------------------------------------------------------


def test_content_bucket_customer_key_versioned_private_logged_retained(data: Template) -> None:
    customer_key = KeyRef()
    data.has_resource(
        "AWS::S3::Bucket",
        {
            "DeletionPolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "BucketName": "au-production-primary-content-111111111111",
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            {
                                "BucketKeyEnabled": True,
                                "ServerSideEncryptionByDefault": {
                                    "SSEAlgorithm": "aws:kms",
                                    "KMSMasterKeyID": customer_key,
                                },
                            }
                        ]
                    },
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                    "LoggingConfiguration": {"DestinationBucketName": Match.any_value(), "LogFilePrefix": "content/"},
                    "LifecycleConfiguration": {
                        "Rules": [
                            Match.object_like(
                                {"NoncurrentVersionExpiration": {"NoncurrentDays": 90}, "Status": "Enabled"}
                            )
                        ]
                    },
                    "Tags": Match.array_with([{"Key": "data-classification", "Value": "customer"}]),
                }
            ),
        },
    )
    customer_key.names("CustomerKey")


def test_log_bucket_archives_to_glacier_then_expires(data: Template) -> None:
    logs_key = KeyRef()
    data.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": "au-production-primary-logs-111111111111",
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like(
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": logs_key}}
                    )
                ]
            },
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
        },
    )
    logs_key.names("LogsKey")


def test_content_bucket_never_expires_current_objects(data: Template) -> None:
    content = [
        b
        for b in data.find_resources("AWS::S3::Bucket").values()
        if b["Properties"].get("BucketName") == "au-production-primary-content-111111111111"
    ]
    for rule in content[0]["Properties"]["LifecycleConfiguration"]["Rules"]:
        assert "ExpirationInDays" not in rule
        assert "Transitions" not in rule


def test_access_log_target_is_sse_s3_and_writable_only_by_s3_logging(data: Template) -> None:
    data.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": "au-production-primary-access-logs-111111111111",
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "LoggingConfiguration": Match.absent(),
        },
    )
    statements = Capture()
    data.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": statements,
                "Version": "2012-10-17",
            },
            "Bucket": {"Ref": Match.string_like_regexp("^AccessLogs")},
        },
    )
    allows = [s for s in statements.as_array() if s["Effect"] == "Allow"]
    assert allows and all(s["Principal"] == {"Service": "logging.s3.amazonaws.com"} for s in allows)
    assert all(s["Condition"]["StringEquals"]["aws:SourceAccount"] == "111111111111" for s in allows)


def test_every_bucket_denies_plain_http(data: Template) -> None:
    policies = data.find_resources("AWS::S3::BucketPolicy")
    assert len(policies) == 3
    for policy in policies.values():
        assert {
            "Action": "s3:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
        }.items() <= policy["Properties"]["PolicyDocument"]["Statement"][0].items()


# --- Alarms -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "severity", "operator"),
    [
        ("CPUUtilization", 2, "GreaterThanThreshold"),
        ("FreeStorageSpace", 1, "LessThanThreshold"),
        ("DatabaseConnections", 3, "GreaterThanThreshold"),
    ],
)
def test_database_alarms_publish_to_their_severity_topic(
    data: Template, metric: str, severity: int, operator: str
) -> None:
    topic = KeyRef()
    data.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": metric,
            "Namespace": "AWS/RDS",
            "ComparisonOperator": operator,
            "AlarmDescription": Match.string_like_regexp(f"^Sev{severity}: "),
            "AlarmActions": [topic],
            "OKActions": [Match.any_value()],
        },
    )
    topic.names(f"Sev{severity}Topic")


def test_free_storage_threshold_is_ten_percent_of_allocated(data: Template) -> None:
    data.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "FreeStorageSpace", "Threshold": 200 * 1024**3 // 10}
    )


@pytest.mark.parametrize(("metric", "severity"), [("EngineCPUUtilization", 2), ("Evictions", 3)])
def test_redis_alarms_watch_every_node_and_carry_severity(data: Template, metric: str, severity: int) -> None:
    description = f"^Sev{severity}: Redis"
    topic = KeyRef()
    data.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmDescription": Match.string_like_regexp(description),
            "Metrics": Match.array_with(
                [Match.object_like({"Expression": "MAX([m0,m1,m2])"})]
                + [
                    Match.object_like(
                        {
                            "MetricStat": Match.object_like(
                                {
                                    "Metric": {
                                        "Namespace": "AWS/ElastiCache",
                                        "MetricName": metric,
                                        "Dimensions": [
                                            {"Name": "CacheClusterId", "Value": f"au-production-primary-redis-00{n}"}
                                        ],
                                    }
                                }
                            )
                        }
                    )
                    for n in (1, 2, 3)
                ]
            ),
            "AlarmActions": [topic],
        },
    )
    topic.names(f"Sev{severity}Topic")


def test_every_data_alarm_has_an_action_and_a_severity(data: Template) -> None:
    alarms = data.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 8  # five database and cache alarms, three object replication alarms
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmDescription"][:4] in {"Sev1", "Sev2", "Sev3", "Sev4"}
        assert len(alarm["Properties"]["AlarmActions"]) == 1
        assert alarm["Properties"].get("ActionsEnabled", True) is True


# --- helpers -----------------------------------------------------------------------------


def test_backup_window_ends_before_maintenance_starts() -> None:
    assert window_before("16:00", hours_before=2) == "14:00-15:00"
    assert window_before("01:30", hours_before=2) == "23:30-00:30"


def test_connection_estimate_follows_instance_memory() -> None:
    assert estimated_max_connections("db.t4g.medium") == 4 * 1024**3 // 9531392
    assert estimated_max_connections("db.r7g.large") == 16 * 1024**3 // 9531392
    assert estimated_max_connections("db.r7g.16xlarge") == 5000


def test_a_deployment_without_standby_says_only_what_its_backups_hold(
    au_development: Stages, dev_data: Template, template_of: Callable[[Stages, str, str], Template]
) -> None:
    """Issue 18 item 7: the content bucket's no-replication acknowledgment names controls that exist.
    No backup plan selects S3, so the reason must not claim the files are in the DR vault; the files'
    control is versioning with noncurrent versions kept, which the bucket must have."""
    backup_types = {
        selection["Properties"]["BackupSelection"]["ListOfTags"][0]["ConditionValue"]
        for role in ("primary", "dr")
        for selection in template_of(au_development, role, "Backup")
        .find_resources("AWS::Backup::BackupSelection")
        .values()
    }
    assert "content" not in backup_types and "s3" not in backup_types
    assert "files are not copied out of the region" in NO_STANDBY_REASON
    assert "recovered from their noncurrent versions" in NO_STANDBY_REASON
    (content,) = [
        bucket
        for bucket in dev_data.find_resources("AWS::S3::Bucket").values()
        if "-content-" in json.dumps(bucket["Properties"].get("BucketName", ""))
    ]
    assert content["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = content["Properties"]["LifecycleConfiguration"]["Rules"]
    assert any(rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays", 0) >= 30 for rule in rules)
    assert "ReplicationConfiguration" not in content["Properties"]


def test_object_replication_pages_when_it_fails_or_runs_late(data: Template, dev_data: Template) -> None:
    """Issue 18 item 4 (DR-1): the 15-minute object RPO is monitored, per rule, on Sev2."""
    dimensions = [
        {"Name": "DestinationBucket", "Value": "au-production-dr-content-111111111111"},
        {"Name": "RuleId", "Value": "ToDisasterRecoveryRegion"},
        {"Name": "SourceBucket", "Value": "au-production-primary-content-111111111111"},
    ]
    for name, metric, statistic, threshold in (
        ("au-production-primary-content-replication-failed", "OperationsFailedReplication", "Sum", 1),
        ("au-production-primary-content-replication-late", "ReplicationLatency", "Maximum", 900),
    ):
        data.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "AlarmName": name,
                "Namespace": "AWS/S3",
                "MetricName": metric,
                "Statistic": statistic,
                "Threshold": threshold,
                "Dimensions": Match.array_with([Match.object_like(d) for d in dimensions]),
                "TreatMissingData": "notBreaching",
                "AlarmDescription": Match.string_like_regexp("^Sev2: "),
            },
        )
    names = [a["Properties"].get("AlarmName", "") for a in dev_data.find_resources("AWS::CloudWatch::Alarm").values()]
    assert not any("content-replication" in name for name in names)


def test_an_object_that_misses_the_replication_threshold_is_queued_and_pages_once(
    data: Template, dev_data: Template, au_production: Stages, template_of: TemplateOf
) -> None:
    """Issue 18 item 4 (DR-1): S3's per-object missed-threshold event (RTC) goes to an encrypted queue that
    only S3, for the content bucket, may write; the queue's first message pages Sev2."""
    queue_arn = Capture()
    data.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": "au-production-primary-content-111111111111",
            "NotificationConfiguration": {
                "QueueConfigurations": [{"Event": "s3:Replication:OperationMissedThreshold", "Queue": queue_arn}]
            },
        },
    )
    (queue_id,) = data.find_resources(
        "AWS::SQS::Queue",
        {
            "Properties": {
                "QueueName": "au-production-primary-content-replication-missed-threshold",
                "KmsMasterKeyId": Match.any_value(),
                "MessageRetentionPeriod": 14 * 24 * 3600,
            }
        },
    )
    assert queue_arn.as_object() == {"Fn::GetAtt": [queue_id, "Arn"]}
    policy = data.find_resources("AWS::SQS::QueuePolicy", {"Properties": {"Queues": [{"Ref": queue_id}]}})
    (policy_id,) = policy
    statements = {s.get("Sid"): s for s in policy[policy_id]["Properties"]["PolicyDocument"]["Statement"]}
    send = statements["AllowReplicationEventsOfTheContentBucket"]
    assert send["Principal"] == {"Service": "s3.amazonaws.com"} and send["Action"] == "sqs:SendMessage"
    assert send["Condition"]["ArnEquals"] == {
        "aws:SourceArn": "arn:aws:s3:::au-production-primary-content-111111111111"
    }
    assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s) for s in statements.values())
    # S3 tests its permission when the configuration is put, so the queue policy exists first
    (bucket,) = data.find_resources(
        "AWS::S3::Bucket", {"Properties": {"BucketName": "au-production-primary-content-111111111111"}}
    ).values()
    assert policy_id in bucket["DependsOn"]
    data.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "au-production-primary-content-replication-missed-threshold",
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}],
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmDescription": Match.string_like_regexp("^Sev2: "),
        },
    )
    # the queue's key (system) lets S3 encrypt the events, for this account only
    template_of(au_production, "primary", "Keys").has_resource_properties(
        "AWS::KMS::Key",
        {
            "Description": Match.string_like_regexp("system key:"),
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "AllowS3EventNotificationsToEncryptedQueues",
                                "Principal": {"Service": "s3.amazonaws.com"},
                                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                                "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}},
                            }
                        )
                    ]
                )
            },
        },
    )
    dev_data.resource_count_is("AWS::SQS::Queue", 0)  # no standby, no replication, nothing to watch

"""The DR region's warm standby (DR-1): what each region holds, the replica, the replicated
bucket, the failover switch and records, the standby web tier, and that the DR stage needs
nothing from the primary region at deploy time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk.assertions import Capture, Match, Template

from config import PlatformConfig
from config.topology import DR, PRIMARY, SWITCH_METRIC, SWITCH_NAMESPACE, FailoverTopology
from stacks.deploy_steps import steps_in_assembly
from tests.assertions import assert_a_bucket_policy_denies_plain_http
from tests.conftest import Stages, TemplateOf, au_production_stack

TOPOLOGY_NAME = "au-production"


@pytest.fixture(scope="module")
def topology(platform_config: PlatformConfig) -> FailoverTopology:
    return FailoverTopology.of(platform_config.get(TOPOLOGY_NAME))


primary_data = au_production_stack("primary", "Data")
primary_web = au_production_stack("primary", "Web")
storage = au_production_stack("dr", "Storage")
switch = au_production_stack("dr", "Switch")
standby_data = au_production_stack("dr", "StandbyData")
standby_web = au_production_stack("dr", "StandbyWeb")


def _stack_ids(stages: Stages, role: str) -> list[str]:
    return [stack.node.id for stack in stages[role].stacks]


FOUNDATION = ["Keys", "Network", "Alerts", "Backup", "AuditArchive", "Storage", "Switch"]
STANDBY = ["StandbyData", "StandbyPatching", "StandbyWeb"]


def test_each_region_holds_what_its_build_says(au_production: Stages, au_development: Stages) -> None:
    assert _stack_ids(au_production, "dr") == [*FOUNDATION, *STANDBY]
    assert _stack_ids(au_production, "primary") == [
        "Keys", "Network", "Alerts", "Data", "Audit", "Operations", "Backup",
        "Dns", "Access", "Patching", "Identity", "Web", "Monitoring",
    ]  # fmt: skip
    # Development has no standby: the DR region holds the foundation without replica bucket or switch,
    # but with the locked audit archive (ACC-3 does not depend on the standby).
    assert _stack_ids(au_development, "dr") == ["Keys", "Network", "Alerts", "Backup", "AuditArchive"]


def _assembly(stages: Stages) -> Path:
    return Path(stages[PRIMARY].node.root.outdir)  # type: ignore[attr-defined]


def test_deploy_order_is_foundation_then_primary_then_standby(au_production: Stages, au_development: Stages) -> None:
    """The order the synthesized assembly carries (stacks/deploy_steps.py), as tooling/deploy.py reads it."""
    steps = steps_in_assembly(_assembly(au_production), au_production[PRIMARY].deployment)
    assert [s.what for s in steps] == ["DR foundation", "primary", "DR standby"]
    assert steps[0].selectors() == [f"au-production-dr/{name}" for name in FOUNDATION]
    assert steps[1].selectors() == ["au-production-primary/*"]
    assert steps[2].selectors() == [f"au-production-dr/{name}" for name in STANDBY]
    development = steps_in_assembly(_assembly(au_development), au_development[PRIMARY].deployment)
    assert [s.selectors() for s in development] == [["au-development-dr/*"], ["au-development-primary/*"]]


def test_replica_is_an_encrypted_cross_region_copy_of_the_primary(
    standby_data: Template, topology: FailoverTopology
) -> None:
    key = Capture()
    standby_data.has_resource(
        "AWS::RDS::DBInstance",
        {
            "Properties": Match.object_like(
                {
                    "DBInstanceIdentifier": topology.db_instance_id(DR),
                    "SourceDBInstanceIdentifier": "arn:aws:rds:ap-southeast-2:111111111111:db:"
                    "au-production-primary-postgres",
                    "KmsKeyId": key,
                    "PubliclyAccessible": False,
                    "DeletionProtection": True,
                    "DBSubnetGroupName": Match.any_value(),
                }
            ),
            "DeletionPolicy": "Retain",
        },
    )
    # The DR region's customer key, from this region's Keys stack, never the primary's.
    assert key.as_object()["Fn::GetStackOutput"]["StackName"] == "au-production-dr-keys"
    assert key.as_object()["Fn::GetStackOutput"]["Region"] == "ap-southeast-4"


def test_replica_lag_alarm_is_the_design_rpo_and_pages(standby_data: Template, topology: FailoverTopology) -> None:
    standby_data.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": topology.replica_lag_alarm_name,
            "MetricName": "ReplicaLag",
            "Namespace": "AWS/RDS",
            "Threshold": 60,
            "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": topology.db_instance_id(DR)}],
            "AlarmActions": Match.any_value(),
        },
    )


def test_replica_lag_alarm_ignores_an_idle_primary_and_clears_after_promotion(
    standby_data: Template, topology: FailoverTopology
) -> None:
    """An idle PostgreSQL source shows up to 5 min of lag between RDS heartbeats: the Minimum of 5 minutes, twice,
    pages only lag that never recovers; a promoted writer reports no ReplicaLag, which must not hold ALARM."""
    alarms = standby_data.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"AlarmName": topology.replica_lag_alarm_name}}
    )
    [alarm] = alarms.values()
    props = alarm["Properties"]
    assert (props["Statistic"], props["Period"]) == ("Minimum", 300)
    assert (props["EvaluationPeriods"], props["DatapointsToAlarm"]) == (2, 2)
    assert props["TreatMissingData"] == "notBreaching"
    assert props["ComparisonOperator"] == "GreaterThanThreshold"


def _statements(template: Template, resource_type: str, **properties: object) -> list[dict[str, object]]:
    found = template.find_resources(resource_type, {"Properties": properties} if properties else None)
    return [s for r in found.values() for s in r["Properties"]["PolicyDocument"]["Statement"]]


def test_dr_foundation_holds_a_dormant_reverse_replication_role_for_sse_kms_objects(
    storage: Template, topology: FailoverTopology
) -> None:
    """Failback replicates DR -> primary with its own role (issue 16 item 3), following
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html."""
    roles = storage.find_resources(
        "AWS::IAM::Role", {"Properties": {"RoleName": topology.reverse_replication_role_name()}}
    )
    [(role_id, role)] = roles.items()
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [(s["Principal"], s["Action"]) for s in trust] == [({"Service": "s3.amazonaws.com"}, "sts:AssumeRole")]
    storage.resource_count_is("AWS::IAM::Policy", 0)  # grants in a managed policy, never inline
    policies = storage.find_resources("AWS::IAM::ManagedPolicy")
    [policy] = [p for p in policies.values() if p["Properties"].get("Roles") == [{"Ref": role_id}]]
    by_sid = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    text = json.dumps(by_sid)
    assert set(by_sid) == {
        "ReadSourceConfiguration",
        "ReadSourceVersions",
        "WriteReplicas",
        "DecryptSourceThroughS3",
        "EncryptReplicasThroughS3",
    }

    def actions(sid: str) -> set[str]:
        action = by_sid[sid]["Action"]
        return {action} if isinstance(action, str) else set(action)

    assert actions("ReadSourceConfiguration") == {"s3:GetReplicationConfiguration", "s3:ListBucket"}
    assert actions("ReadSourceVersions") == {
        "s3:GetObjectVersionForReplication",
        "s3:GetObjectVersionAcl",
        "s3:GetObjectVersionTagging",
    }
    assert actions("WriteReplicas") == {"s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"}
    assert by_sid["WriteReplicas"]["Resource"] == f"arn:aws:s3:::{topology.content_bucket(PRIMARY)}/*"
    assert json.dumps(by_sid["ReadSourceVersions"]["Resource"]).count("Fn::GetAtt") == 1  # the DR bucket
    # Decrypt with the DR customer key through S3 in DR; encrypt with the primary's customer key (by alias)
    # through S3 in the primary region.
    decrypt = by_sid["DecryptSourceThroughS3"]
    assert actions("DecryptSourceThroughS3") == {"kms:Decrypt"}
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": f"s3.{topology.dr_region}.amazonaws.com"}}
    assert decrypt["Resource"]["Fn::GetStackOutput"]["StackName"] == "au-production-dr-keys"
    encrypt = by_sid["EncryptReplicasThroughS3"]
    assert actions("EncryptReplicasThroughS3") == {"kms:Encrypt", "kms:GenerateDataKey"}
    assert encrypt["Resource"] == f"arn:aws:kms:{topology.primary_region}:{topology.account}:key/*"
    assert encrypt["Condition"] == {
        "StringEquals": {"kms:ViaService": f"s3.{topology.primary_region}.amazonaws.com"},
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": topology.customer_key_alias()},
    }
    assert '"Effect": "Deny"' not in text
    # Dormant: the DR bucket carries no replication rule until failback puts one on.
    for bucket in storage.find_resources("AWS::S3::Bucket").values():
        assert "ReplicationConfiguration" not in bucket["Properties"]


def test_dr_system_key_admits_secrets_manager_replicas_of_this_account(
    au_production: Stages, au_development: Stages, template_of: TemplateOf, topology: FailoverTopology
) -> None:
    """The master secret's replica is written under the caller's identity with the DR `system` key (item 6)."""
    sid = "AllowSecretsManagerReplicasInThisRegion"
    keys = template_of(au_production, "dr", "Keys").find_resources("AWS::KMS::Key")
    by_class = {k["Properties"]["Description"].split()[1]: k["Properties"]["KeyPolicy"] for k in keys.values()}
    [grant] = [s for s in by_class["system"]["Statement"] if s.get("Sid") == sid]
    assert (grant["Effect"], grant["Principal"], grant["Resource"]) == ("Allow", {"AWS": "*"}, "*")
    assert set(grant["Action"]) == {"kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"}
    assert grant["Condition"] == {
        "StringEquals": {
            "kms:ViaService": f"secretsmanager.{topology.dr_region}.amazonaws.com",
            "kms:CallerAccount": topology.account,
        }
    }
    for data_class, policy in by_class.items():
        if data_class != "system":
            assert sid not in json.dumps(policy)
    # Primary keys and a deployment without a replicated secret need no such grant.
    assert sid not in json.dumps(template_of(au_production, "primary", "Keys").to_json())
    assert sid not in json.dumps(template_of(au_development, "dr", "Keys").to_json())


@pytest.mark.parametrize(("role", "stack_id"), [("primary", "Data"), ("dr", "StandbyData")])
def test_secret_replication_failure_pages_sev2(
    au_production: Stages, template_of: TemplateOf, role: str, stack_id: str
) -> None:
    rules = template_of(au_production, role, stack_id).find_resources("AWS::Events::Rule")
    [rule] = [
        r["Properties"] for r in rules.values() if r["Properties"].get("Name", "").endswith("secret-replication-failed")
    ]
    assert rule["Name"] == f"au-production-{role}-secret-replication-failed"
    assert rule["State"] == "ENABLED"
    assert rule["EventPattern"] == {
        "source": ["aws.secretsmanager"],
        "detail-type": ["AWS Service Event via CloudTrail"],
        "detail": {"eventSource": ["secretsmanager.amazonaws.com"], "eventName": ["ReplicationFailed"]},
    }
    [target] = rule["Targets"]
    alerts = template_of(au_production, role, "Alerts").to_json()
    output = (
        alerts["Outputs"][target["Arn"]["Fn::GetStackOutput"]["OutputName"]]
        if "Fn::GetStackOutput" in target["Arn"]
        else None
    )
    assert output is not None, target
    topic = alerts["Resources"][output["Value"]["Ref"]]["Properties"]["TopicName"]
    assert topic == f"au-production-{role}-sev2"


def test_content_bucket_replicates_with_rtc_and_delete_markers(
    primary_data: Template, topology: FailoverTopology
) -> None:
    primary_data.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": topology.content_bucket(PRIMARY),
            "ReplicationConfiguration": {
                "Role": Match.any_value(),
                "Rules": [
                    Match.object_like(
                        {
                            "Status": "Enabled",
                            "DeleteMarkerReplication": {"Status": "Enabled"},
                            "SourceSelectionCriteria": Match.object_like(
                                {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
                            ),
                            "Destination": {
                                "Bucket": Match.any_value(),
                                "EncryptionConfiguration": {
                                    "ReplicaKmsKeyID": Match.any_value(),
                                },
                                "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                                "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}},
                            },
                        }
                    )
                ],
            },
        },
    )
    text = json.dumps(primary_data.find_resources("AWS::S3::Bucket"))
    assert f":::{topology.content_bucket(DR)}" in text
    assert ":kms:ap-southeast-4:" in text and "alias/au-production/customer" in text


def test_replica_bucket_in_the_dr_foundation_is_versioned_kms_and_tls_only(
    storage: Template, topology: FailoverTopology
) -> None:
    storage.has_resource(
        "AWS::S3::Bucket",
        {
            "Properties": Match.object_like(
                {
                    "BucketName": topology.content_bucket(DR),
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            Match.object_like(
                                {"ServerSideEncryptionByDefault": Match.object_like({"SSEAlgorithm": "aws:kms"})}
                            )
                        ]
                    },
                }
            ),
            "DeletionPolicy": "Retain",
        },
    )
    assert_a_bucket_policy_denies_plain_http(storage)


def test_switch_lives_in_the_dr_region_and_holds_its_state(switch: Template, topology: FailoverTopology) -> None:
    switch.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": topology.switch_alarm_name,
            "Namespace": SWITCH_NAMESPACE,
            "MetricName": SWITCH_METRIC,
            "Dimensions": [{"Name": "Deployment", "Value": "au-production"}],
            "Statistic": "Maximum",
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "ignore",
        },
    )


def test_failover_records_primary_guarded_by_the_switch_secondary_by_zone_name(
    primary_web: Template, standby_web: Template, topology: FailoverTopology
) -> None:
    primary_web.has_resource_properties(
        "AWS::Route53::HealthCheck",
        {
            "HealthCheckConfig": {
                "Type": "CLOUDWATCH_METRIC",
                "AlarmIdentifier": {"Region": "ap-southeast-4", "Name": topology.switch_alarm_name},
                "InsufficientDataHealthStatus": "Healthy",
            }
        },
    )
    primary_web.has_resource_properties(
        "AWS::Route53::RecordSet",
        {
            "Name": "au.saas.example.com.",
            "Failover": "PRIMARY",
            "SetIdentifier": "primary",
            "HealthCheckId": Match.any_value(),
            "AliasTarget": Match.object_like({"EvaluateTargetHealth": False}),
        },
    )
    standby_web.has_resource_properties(
        "AWS::Route53::RecordSet",
        {
            "Name": "au.saas.example.com.",
            "HostedZoneName": "au.saas.example.com.",
            "Failover": "SECONDARY",
            "SetIdentifier": "dr",
            "AliasTarget": Match.object_like({"EvaluateTargetHealth": False}),
        },
    )


@pytest.mark.parametrize("role,stack_id", [("primary", "Web"), ("dr", "StandbyWeb")])
def test_each_region_probes_its_own_alb_by_its_own_name(
    au_production: Stages, template_of: TemplateOf, role: str, stack_id: str
) -> None:
    web = template_of(au_production, role, stack_id)
    name = Capture()
    web.has_resource_properties(
        "AWS::Route53::HealthCheck",
        {"HealthCheckConfig": Match.object_like({"Type": "HTTPS", "FullyQualifiedDomainName": name})},
    )
    assert "DNSName" in json.dumps(name.as_object())  # the ALB's own name, not the public name


def test_standby_web_tier_runs_two_instances_and_can_take_the_primary_load(
    standby_web: Template, topology: FailoverTopology
) -> None:
    standby_web.has_resource_properties(
        "AWS::AutoScaling::AutoScalingGroup",
        {"AutoScalingGroupName": topology.web_asg_name(DR), "MinSize": "2", "MaxSize": "12"},
    )
    standby_web.resource_count_is("AWS::WAFv2::WebACLAssociation", 1)
    standby_web.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener", {"Protocol": "HTTPS", "Certificates": Match.any_value()}
    )


def test_standby_web_tier_is_wired_to_the_dr_data_stores(standby_web: Template, topology: FailoverTopology) -> None:
    config = Capture()
    standby_web.has_resource_properties(
        "AWS::SSM::Parameter", {"Name": "/au-production-dr/app/config", "Value": config}
    )
    text = json.dumps(config.as_object())
    assert topology.content_bucket(DR) in text and "database_endpoint" in text and "cache_endpoint" in text
    policies = json.dumps(standby_web.find_resources("AWS::IAM::ManagedPolicy"))
    # The primary's master secret, as replicated into this region (any six-character suffix).
    assert "secret:au-production-primary-postgres/master-??????" in policies


def test_primary_master_secret_is_replicated_with_the_dr_system_key(
    primary_data: Template,
) -> None:
    primary_data.has_resource_properties(
        "AWS::SecretsManager::Secret",
        {
            "Name": "au-production-primary-postgres/master",
            "ReplicaRegions": [{"Region": "ap-southeast-4", "KmsKeyId": "alias/au-production/system"}],
        },
    )


def test_dr_stage_reads_nothing_from_the_primary_region(au_production: Stages, topology: FailoverTopology) -> None:
    """Acceptance (DR-1): the DR side deploys with no value read from the primary region. The only mentions of
    the primary region in a DR template are names built from config: the replica's source ARN, the dormant
    reverse replication's destination (bucket, key by alias, S3 endpoint) and the dormant DR plan's copy vault."""
    primary_region = str(au_production["primary"].region)
    dr_region = str(au_production["dr"].region)
    built_from_config = {
        "StandbyData": [topology.db_instance_arn(PRIMARY)],
        "Storage": [
            topology.content_bucket(PRIMARY),
            f"arn:aws:kms:{primary_region}:{topology.account}:key/*",
            f"s3.{primary_region}.amazonaws.com",
        ],
        "Backup": [
            f"arn:aws:backup:{primary_region}:{topology.account}:backup-vault:{topology.backup_vault_name(PRIMARY)}"
        ],
    }
    for stack in au_production["dr"].stacks:
        body = Template.from_stack(stack).to_json()
        template = json.dumps(body)
        for name in built_from_config.get(stack.node.id, []):
            assert name in template, f"{stack.stack_name} no longer names {name}: update this test"
            template = template.replace(name, "")
        # The master secret's DR replica is named after the primary's instance (it lives in this region).
        template = template.replace(topology.db_instance_id(PRIMARY), "")
        assert "au-production-primary-" not in template, f"{stack.stack_name} names a primary-region resource"
        assert primary_region not in template, f"{stack.stack_name} mentions {primary_region}"
        for reference in _stack_outputs_read(body):
            assert reference["Region"] == dr_region, f"{stack.stack_name} reads {reference}"
            assert reference["StackName"].startswith("au-production-dr-")
        assert "{{resolve:ssm" not in template


def _stack_outputs_read(node: object) -> list[dict[str, str]]:
    """Every `Fn::GetStackOutput` (CDK's weak cross-stack reference) in a template."""
    if isinstance(node, dict):
        found = [node["Fn::GetStackOutput"]] if "Fn::GetStackOutput" in node else []
        return found + [r for value in node.values() for r in _stack_outputs_read(value)]
    if isinstance(node, list):
        return [r for value in node for r in _stack_outputs_read(value)]
    return []


def test_development_dr_region_has_no_nat_and_no_interface_endpoints(
    au_development: Stages, template_of: TemplateOf
) -> None:
    network = template_of(au_development, "dr", "Network")
    network.resource_count_is("AWS::EC2::NatGateway", 0)
    network.resource_count_is("AWS::EC2::VPCEndpoint", 1)  # the S3 gateway endpoint: free
    network.has_resource_properties("AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway"})


def test_development_content_bucket_is_not_replicated(au_development: Stages, template_of: TemplateOf) -> None:
    data = template_of(au_development, "primary", "Data")
    for bucket in data.find_resources("AWS::S3::Bucket").values():
        assert "ReplicationConfiguration" not in bucket["Properties"]
    web = template_of(au_development, "primary", "Web")
    web.has_resource_properties("AWS::Route53::RecordSet", {"Name": "development.au.saas.example.com.", "Type": "A"})
    assert not web.find_resources("AWS::Route53::RecordSet", {"Properties": {"Failover": Match.any_value()}})


@pytest.mark.parametrize("role,stack_id", [("primary", "Web"), ("dr", "StandbyWeb")])
def test_each_region_pages_when_the_site_is_down_from_outside(
    au_production: Stages, template_of: TemplateOf, role: str, stack_id: str
) -> None:
    """Issue 9 item 9 / OPS-2: a canary in the region (HOST-2: not a us-east-1 alarm on Route 53's
    metrics) probes the public name and this region's ALB; its alarm pages the region's Sev1 topic."""
    web = template_of(au_production, role, stack_id)
    targets = Capture()
    web.has_resource_properties(
        "AWS::Synthetics::Canary",
        {
            "Name": f"au-prod-{role}-web",
            "RunConfig": Match.object_like({"EnvironmentVariables": {"TARGETS": targets}}),
            "ArtifactS3Location": Match.any_value(),
        },
    )
    assert "au.saas.example.com" in json.dumps(targets.as_object())
    assert "DNSName" in json.dumps(targets.as_object())
    topic = Capture()
    web.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "CloudWatchSynthetics",
            "MetricName": "SuccessPercent",
            "Threshold": 100,
            "ComparisonOperator": "LessThanThreshold",
            "TreatMissingData": "breaching",
            "AlarmActions": [topic],
        },
    )
    reference = topic.as_object()["Fn::GetStackOutput"]
    assert reference["StackName"] == f"au-production-{role}-alerts"
    assert "Sev1Topic" in reference["OutputName"]


def test_replica_backup_acknowledgment_names_the_dr_plan_that_exists(
    au_production: Stages, template_of: TemplateOf
) -> None:
    """Issue 16 item 5: plans are regional, so "the plans select it" was false until the DR region had its own."""
    replica = au_production["dr"].node.find_child("StandbyData").node.find_child("Replica").node.find_child("Instance")
    reasons = [
        reason
        for entry in replica.node.metadata
        if entry.type == "aws:cdk:acknowledged-rules"
        for rule, reason in entry.data.items()
        if rule.endswith("-RDSInBackupPlan")
    ]
    assert reasons, "the replica's RDSInBackupPlan acknowledgment is gone"
    for reason in reasons:
        assert "the plans select it" not in reason
        assert "-dr-database" in reason and "primary region's vault" in reason
    template_of(au_production, "dr", "Backup").has_resource_properties(
        "AWS::Backup::BackupPlan", {"BackupPlan": Match.object_like({"BackupPlanName": "au-production-dr-database"})}
    )

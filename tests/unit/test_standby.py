"""The DR region's warm standby (DR-1): what each region holds, the replica, the replicated
bucket, the failover switch and records, the standby web tier, and that the DR stage needs
nothing from the primary region at deploy time."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from aws_cdk.assertions import Capture, Match, Template

from config import PlatformConfig
from config.topology import DR, PRIMARY, SWITCH_METRIC, SWITCH_NAMESPACE, FailoverTopology
from stacks.stages import DR_FOUNDATION, DR_STANDBY, deploy_order
from tests.conftest import Stages

TemplateOf = Callable[[Stages, str, str], Template]
TOPOLOGY_NAME = "au-production"


@pytest.fixture(scope="module")
def topology(platform_config: PlatformConfig) -> FailoverTopology:
    return FailoverTopology.of(platform_config.get(TOPOLOGY_NAME))


def _stack_ids(stages: Stages, role: str) -> list[str]:
    return [stack.node.id for stack in stages[role].stacks]


def test_each_region_holds_what_its_build_says(au_production: Stages, au_development: Stages) -> None:
    assert _stack_ids(au_production, "dr") == [*DR_FOUNDATION, *DR_STANDBY]
    assert _stack_ids(au_production, "primary") == [
        "Keys", "Network", "Alerts", "Data", "Audit", "Operations", "Backup",
        "Dns", "Access", "Patching", "Identity", "Web", "Monitoring",
    ]  # fmt: skip
    # Development has no standby: the DR region holds the foundation without replica bucket or switch.
    assert _stack_ids(au_development, "dr") == ["Keys", "Network", "Alerts", "Backup"]


def test_deploy_order_is_foundation_then_primary_then_standby(platform_config: PlatformConfig) -> None:
    steps = deploy_order(platform_config.get("au-production"))
    assert [s.what for s in steps] == ["DR foundation", "primary", "DR standby"]
    assert steps[0].selectors()[0] == "au-production-dr/Keys"
    assert steps[1].selectors() == ["au-production-primary/*"]
    assert steps[2].selectors() == [f"au-production-dr/{name}" for name in DR_STANDBY]
    assert [s.what for s in deploy_order(platform_config.get("au-development"))] == ["DR foundation", "primary"]


def test_replica_is_an_encrypted_cross_region_copy_of_the_primary(
    au_production: Stages, template_of: TemplateOf, topology: FailoverTopology
) -> None:
    data = template_of(au_production, "dr", "StandbyData")
    key = Capture()
    data.has_resource(
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
            "DeletionPolicy": "RetainExceptOnCreate",
        },
    )
    # The DR region's customer key, from this region's Keys stack, never the primary's.
    assert key.as_object()["Fn::GetStackOutput"]["StackName"] == "au-production-dr-keys"
    assert key.as_object()["Fn::GetStackOutput"]["Region"] == "ap-southeast-4"


def test_replica_lag_alarm_is_the_design_rpo_and_pages(
    au_production: Stages, template_of: TemplateOf, topology: FailoverTopology
) -> None:
    data = template_of(au_production, "dr", "StandbyData")
    data.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": topology.replica_lag_alarm_name,
            "MetricName": "ReplicaLag",
            "Namespace": "AWS/RDS",
            "Threshold": 60,
            "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": topology.db_instance_id(DR)}],
            "TreatMissingData": "breaching",
            "AlarmActions": Match.any_value(),
        },
    )


def test_content_bucket_replicates_with_rtc_and_delete_markers(
    au_production: Stages, template_of: TemplateOf, topology: FailoverTopology
) -> None:
    data = template_of(au_production, "primary", "Data")
    data.has_resource_properties(
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
    text = json.dumps(data.find_resources("AWS::S3::Bucket"))
    assert f":::{topology.content_bucket(DR)}" in text
    assert ":kms:ap-southeast-4:" in text and "alias/au-production/customer" in text


def test_replica_bucket_in_the_dr_foundation_is_versioned_kms_and_tls_only(
    au_production: Stages, template_of: TemplateOf, topology: FailoverTopology
) -> None:
    storage = template_of(au_production, "dr", "Storage")
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
            "DeletionPolicy": "RetainExceptOnCreate",
        },
    )
    storage.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


def test_switch_lives_in_the_dr_region_and_holds_its_state(
    au_production: Stages, template_of: TemplateOf, topology: FailoverTopology
) -> None:
    switch = template_of(au_production, "dr", "Switch")
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
    au_production: Stages, template_of: TemplateOf, topology: FailoverTopology
) -> None:
    web = template_of(au_production, "primary", "Web")
    web.has_resource_properties(
        "AWS::Route53::HealthCheck",
        {
            "HealthCheckConfig": {
                "Type": "CLOUDWATCH_METRIC",
                "AlarmIdentifier": {"Region": "ap-southeast-4", "Name": topology.switch_alarm_name},
                "InsufficientDataHealthStatus": "Healthy",
            }
        },
    )
    web.has_resource_properties(
        "AWS::Route53::RecordSet",
        {
            "Name": "au.saas.example.com.",
            "Failover": "PRIMARY",
            "SetIdentifier": "primary",
            "HealthCheckId": Match.any_value(),
            "AliasTarget": Match.object_like({"EvaluateTargetHealth": False}),
        },
    )
    standby = template_of(au_production, "dr", "StandbyWeb")
    standby.has_resource_properties(
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
    au_production: Stages, template_of: TemplateOf, topology: FailoverTopology
) -> None:
    standby = template_of(au_production, "dr", "StandbyWeb")
    standby.has_resource_properties(
        "AWS::AutoScaling::AutoScalingGroup",
        {"AutoScalingGroupName": topology.web_asg_name(DR), "MinSize": "2", "MaxSize": "12"},
    )
    standby.resource_count_is("AWS::WAFv2::WebACLAssociation", 1)
    standby.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener", {"Protocol": "HTTPS", "Certificates": Match.any_value()}
    )


def test_standby_web_tier_is_wired_to_the_dr_data_stores(
    au_production: Stages, template_of: TemplateOf, topology: FailoverTopology
) -> None:
    standby = template_of(au_production, "dr", "StandbyWeb")
    config = Capture()
    standby.has_resource_properties("AWS::SSM::Parameter", {"Name": "/au-production-dr/app/config", "Value": config})
    text = json.dumps(config.as_object())
    assert topology.content_bucket(DR) in text and "database_endpoint" in text and "cache_endpoint" in text
    policies = json.dumps(standby.find_resources("AWS::IAM::ManagedPolicy"))
    # The primary's master secret, as replicated into this region (any six-character suffix).
    assert "secret:au-production-primary-postgres/master-??????" in policies


def test_primary_master_secret_is_replicated_with_the_dr_system_key(
    au_production: Stages, template_of: TemplateOf
) -> None:
    data = template_of(au_production, "primary", "Data")
    data.has_resource_properties(
        "AWS::SecretsManager::Secret",
        {
            "Name": "au-production-primary-postgres/master",
            "ReplicaRegions": [{"Region": "ap-southeast-4", "KmsKeyId": "alias/au-production/system"}],
        },
    )


def test_dr_stage_reads_nothing_from_the_primary_region(au_production: Stages) -> None:
    """Acceptance (DR-1): the DR side deploys with no value read from the primary region. The only
    mention of the primary region in a DR template is the replica's source ARN, built from config."""
    primary_region = str(au_production["primary"].region)
    dr_region = str(au_production["dr"].region)
    for stack in au_production["dr"].stacks:
        body = Template.from_stack(stack).to_json()
        template = json.dumps(body)
        assert "au-production-primary-" not in template.replace("au-production-primary-postgres", ""), (
            f"{stack.stack_name} names a primary-region resource"
        )
        for reference in _stack_outputs_read(body):
            assert reference["Region"] == dr_region, f"{stack.stack_name} reads {reference}"
            assert reference["StackName"].startswith("au-production-dr-")
        assert "{{resolve:ssm" not in template
        if primary_region in template:
            assert stack.node.id == "StandbyData", f"{stack.stack_name} mentions {primary_region}"
            assert template.count(primary_region) == 1


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

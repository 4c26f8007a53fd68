"""The emulator fixes of `tooling.emulator`, through boto3 against one launcher server.

One server for the module (started as the project starts it: `tooling.moto_server`,
bound to 127.0.0.1, reached as `localhost`, stopped by its own process). Each test
uses its own names, so the tests do not depend on each other's order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import EMULATOR_ACCOUNT as ACCOUNT
from tests.e2e.conftest import emulator_client
from tooling.emulator.route53 import alias_addresses
from tooling.moto_server import MotoServer

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("emulator")]

PRIMARY = "ap-southeast-2"
DR = "ap-southeast-4"
NAMESPACE = "Platform/Failover"
METRIC = "FailoverRequested"
DIMENSIONS = [{"Name": "Deployment", "Value": "unit"}]

Client = Callable[[str, str], Any]
# Alarms aggregate per period as on AWS (a 1 and a 0 in the same minute have Maximum 1), so a
# switch that flips publishes each value in its own minute, counted from a fixed past time.
BASE = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)


def minute(n: int) -> datetime:
    return BASE + timedelta(minutes=n, seconds=5)


@pytest.fixture(scope="module")
def aws(server: MotoServer) -> Client:
    return lambda service, region: emulator_client(server, service, region)


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def subnet_group(aws: Client, region: str, name: str) -> str:
    ec2 = aws("ec2", region)
    vpc_id = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"{region}{zone}")["Subnet"]
        for i, zone in enumerate("ab")
    ]
    aws("rds", region).create_db_subnet_group(
        DBSubnetGroupName=name, DBSubnetGroupDescription=name, SubnetIds=[s["SubnetId"] for s in subnets]
    )
    return name


def writer(aws: Client, name: str) -> str:
    rds = aws("rds", PRIMARY)
    database = rds.create_db_instance(
        DBInstanceIdentifier=name,
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="admin_user",
        MasterUserPassword="not-a-secret-1",
        BackupRetentionPeriod=7,
    )["DBInstance"]
    return str(database["DBInstanceArn"])


def describe(aws: Client, region: str, name: str) -> dict[str, Any]:
    (database,) = aws("rds", region).describe_db_instances(DBInstanceIdentifier=name)["DBInstances"]
    return dict(database)


# --- RDS ---------------------------------------------------------------------------------


def test_cross_region_replica_with_subnet_group_is_promoted_once(aws: Client) -> None:
    source_arn = writer(aws, "promote-primary")
    group = subnet_group(aws, DR, "promote-dr-subnets")
    dr = aws("rds", DR)
    replica = dr.create_db_instance_read_replica(
        DBInstanceIdentifier="promote-replica",
        SourceDBInstanceIdentifier=source_arn,
        DBSubnetGroupName=group,
        KmsKeyId="alias/unit/customer",
    )["DBInstance"]
    assert replica["DBSubnetGroup"]["DBSubnetGroupName"] == group
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == source_arn
    assert describe(aws, PRIMARY, "promote-primary")["ReadReplicaDBInstanceIdentifiers"] == [replica["DBInstanceArn"]]

    promoted = dr.promote_read_replica(DBInstanceIdentifier="promote-replica")["DBInstance"]

    assert "ReadReplicaSourceDBInstanceIdentifier" not in promoted
    assert describe(aws, DR, "promote-replica")["DBInstanceStatus"] == "available"
    assert describe(aws, PRIMARY, "promote-primary").get("ReadReplicaDBInstanceIdentifiers", []) == []
    with pytest.raises(ClientError) as again:
        dr.promote_read_replica(DBInstanceIdentifier="promote-replica")
    assert error_code(again) == "InvalidDBInstanceState"
    with pytest.raises(ClientError) as writer_promoted:
        aws("rds", PRIMARY).promote_read_replica(DBInstanceIdentifier="promote-primary")
    assert error_code(writer_promoted) == "InvalidDBInstanceState"


def test_renaming_a_replica_and_its_writer_keeps_the_links(aws: Client) -> None:
    writer(aws, "rename-primary")
    rds = aws("rds", PRIMARY)
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier="rename-replica", SourceDBInstanceIdentifier="rename-primary"
    )

    rds.modify_db_instance(
        DBInstanceIdentifier="rename-replica", NewDBInstanceIdentifier="rename-replica-2", ApplyImmediately=True
    )
    assert describe(aws, PRIMARY, "rename-primary")["ReadReplicaDBInstanceIdentifiers"] == ["rename-replica-2"]
    rds.modify_db_instance(
        DBInstanceIdentifier="rename-primary", NewDBInstanceIdentifier="rename-primary-2", ApplyImmediately=True
    )
    assert describe(aws, PRIMARY, "rename-replica-2")["ReadReplicaSourceDBInstanceIdentifier"] == "rename-primary-2"
    assert describe(aws, PRIMARY, "rename-primary-2")["ReadReplicaDBInstanceIdentifiers"] == ["rename-replica-2"]
    rds.promote_read_replica(DBInstanceIdentifier="rename-replica-2")
    assert describe(aws, PRIMARY, "rename-primary-2").get("ReadReplicaDBInstanceIdentifiers", []) == []


# --- CloudWatch --------------------------------------------------------------------------


def put_alarm(aws: Client, name: str, dimensions: list[dict[str, str]], **overrides: Any) -> None:
    settings: dict[str, Any] = {
        "AlarmName": name,
        "Namespace": NAMESPACE,
        "MetricName": METRIC,
        "Dimensions": dimensions,
        "Statistic": "Maximum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "ignore",
        **overrides,
    }
    aws("cloudwatch", DR).put_metric_alarm(**settings)


def publish(aws: Client, value: float, dimensions: list[dict[str, str]], at: datetime) -> None:
    datum: dict[str, Any] = {"MetricName": METRIC, "Dimensions": dimensions, "Value": value, "Timestamp": at}
    aws("cloudwatch", DR).put_metric_data(Namespace=NAMESPACE, MetricData=[datum])


def alarm_state(aws: Client, name: str) -> tuple[str, str]:
    (alarm,) = aws("cloudwatch", DR).describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return str(alarm["StateValue"]), str(alarm["StateReason"])


def test_alarm_follows_put_metric_data(aws: Client) -> None:
    dimensions = [{"Name": "Deployment", "Value": "alarm"}]
    put_alarm(aws, "switch-alarm", dimensions)
    assert alarm_state(aws, "switch-alarm")[0] == "INSUFFICIENT_DATA"

    publish(aws, 1, dimensions, minute(1))
    state, reason = alarm_state(aws, "switch-alarm")
    assert state == "ALARM"
    assert reason.startswith("Threshold Crossed")

    publish(aws, 0, dimensions, minute(1))  # same minute: the Maximum is still 1
    assert alarm_state(aws, "switch-alarm")[0] == "ALARM"
    publish(aws, 0, dimensions, minute(2))
    assert alarm_state(aws, "switch-alarm")[0] == "OK"
    publish(
        aws, 1, [{"Name": "Deployment", "Value": "another"}], minute(3)
    )  # other dimensions: not this alarm's metric
    assert alarm_state(aws, "switch-alarm")[0] == "OK"


@pytest.mark.parametrize(
    ("statistic", "operator", "threshold", "expected"),
    [
        ("Average", "GreaterThanThreshold", 2.0, "ALARM"),  # (1+2+3+6)/4 = 3 > 2
        ("Sum", "LessThanThreshold", 12.0, "OK"),  # 12 is not < 12
        ("SampleCount", "GreaterThanOrEqualToThreshold", 4.0, "ALARM"),
        ("Minimum", "LessThanOrEqualToThreshold", 1.0, "ALARM"),
        ("Maximum", "LessThanThreshold", 6.0, "OK"),
    ],
)
def test_alarm_statistics_over_evaluation_periods(
    aws: Client, statistic: str, operator: str, threshold: float, expected: str
) -> None:
    name = f"stat-{statistic}-{operator}"
    dimensions = [{"Name": "Deployment", "Value": name}]
    put_alarm(aws, name, dimensions, Statistic=statistic, ComparisonOperator=operator, Threshold=threshold)
    publish(aws, 100, dimensions, minute(1))  # an earlier period: outside the one evaluated
    for value in (1, 2, 3, 6):
        publish(aws, value, dimensions, minute(5) + timedelta(seconds=5 * value))
    assert alarm_state(aws, name)[0] == expected


def test_m_out_of_n_and_missing_data(aws: Client) -> None:
    dimensions = [{"Name": "Deployment", "Value": "m-of-n"}]
    put_alarm(aws, "m-of-n", dimensions, EvaluationPeriods=3, DatapointsToAlarm=2, TreatMissingData="breaching")
    publish(aws, 5, dimensions, minute(1))  # breaching, and 2 missing periods count as breaching
    assert alarm_state(aws, "m-of-n")[0] == "ALARM"
    publish(aws, 0, dimensions, minute(2))
    publish(aws, 0, dimensions, minute(3))  # window: 5, 0, 0 -> 1 of 3
    assert alarm_state(aws, "m-of-n")[0] == "OK"


# --- Route 53 ------------------------------------------------------------------------------


def failover_zone(aws: Client, zone_name: str, health_check_id: str) -> str:
    route53 = aws("route53", PRIMARY)
    zone_id = route53.create_hosted_zone(Name=zone_name, CallerReference=zone_name)["HostedZone"]["Id"]
    record = f"app.{zone_name}"
    changes = [
        {
            "Action": "CREATE",
            "ResourceRecordSet": {
                "Name": record,
                "Type": "A",
                "SetIdentifier": "primary",
                "Failover": "PRIMARY",
                "HealthCheckId": health_check_id,
                "AliasTarget": {
                    "HostedZoneId": "Z1GM3OXH4ZPM65",
                    "DNSName": "primary-alb-123.ap-southeast-2.elb.amazonaws.com.",
                    "EvaluateTargetHealth": False,
                },
            },
        },
        {
            "Action": "CREATE",
            "ResourceRecordSet": {
                "Name": record,
                "Type": "A",
                "SetIdentifier": "dr",
                "Failover": "SECONDARY",
                "TTL": 60,
                "ResourceRecords": [{"Value": "192.0.2.44"}],
            },
        },
        {
            "Action": "CREATE",
            "ResourceRecordSet": {
                "Name": f"www.{zone_name}",
                "Type": "CNAME",
                "TTL": 60,
                "ResourceRecords": [{"Value": record}],
            },
        },
    ]
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
    return str(zone_id)


def metric_health_check(aws: Client, alarm_name: str, reference: str) -> str:
    config = {
        "Type": "CLOUDWATCH_METRIC",
        "AlarmIdentifier": {"Region": DR, "Name": alarm_name},
        "InsufficientDataHealthStatus": "Healthy",
    }
    health_check = aws("route53", PRIMARY).create_health_check(CallerReference=reference, HealthCheckConfig=config)
    return str(health_check["HealthCheck"]["Id"])


def status(aws: Client, health_check_id: str) -> str:
    observations = aws("route53", PRIMARY).get_health_check_status(HealthCheckId=health_check_id)
    return str(observations["HealthCheckObservations"][0]["StatusReport"]["Status"])


def dns_answer(aws: Client, zone_id: str, name: str, record_type: str = "A") -> list[str]:
    answer = aws("route53", PRIMARY).test_dns_answer(HostedZoneId=zone_id, RecordName=name, RecordType=record_type)
    assert answer["ResponseCode"] == "NOERROR"
    return list(answer["RecordData"])


def test_metric_health_check_keeps_its_alarm_and_follows_it(aws: Client) -> None:
    dimensions = [{"Name": "Deployment", "Value": "health"}]
    put_alarm(aws, "health-alarm", dimensions)
    health_check_id = metric_health_check(aws, "health-alarm", "health")
    config = aws("route53", PRIMARY).get_health_check(HealthCheckId=health_check_id)["HealthCheck"]["HealthCheckConfig"]
    assert config["AlarmIdentifier"] == {"Region": DR, "Name": "health-alarm"}
    assert config["InsufficientDataHealthStatus"] == "Healthy"

    assert status(aws, health_check_id).startswith("Success")  # INSUFFICIENT_DATA -> Healthy
    publish(aws, 1, dimensions, minute(1))
    assert status(aws, health_check_id).startswith("Failure")
    publish(aws, 0, dimensions, minute(2))
    assert status(aws, health_check_id).startswith("Success")


def test_dns_answer_fails_over_and_back_with_the_alarm(aws: Client) -> None:
    dimensions = [{"Name": "Deployment", "Value": "dns"}]
    put_alarm(aws, "dns-alarm", dimensions)
    zone_id = failover_zone(aws, "dns.example.com", metric_health_check(aws, "dns-alarm", "dns"))
    # An alias answers with the addresses a resolver would get, never the target's name (API_TestDNSAnswer).
    primary = alias_addresses("primary-alb-123.ap-southeast-2.elb.amazonaws.com")
    assert len(primary) == 2 and all(address.startswith("198.51.100.") for address in primary)
    assert alias_addresses("dualstack.primary-alb-123.ap-southeast-2.elb.amazonaws.com.") == primary

    assert dns_answer(aws, zone_id, "app.dns.example.com") == primary
    publish(aws, 1, dimensions, minute(1))
    assert dns_answer(aws, zone_id, "app.dns.example.com") == ["192.0.2.44"]
    publish(aws, 0, dimensions, minute(2))
    assert dns_answer(aws, zone_id, "app.dns.example.com.") == primary
    assert dns_answer(aws, zone_id, "www.dns.example.com", "CNAME") == ["app.dns.example.com"]
    missing = aws("route53", PRIMARY).test_dns_answer(
        HostedZoneId=zone_id, RecordName="x.dns.example.com", RecordType="A"
    )
    assert missing["ResponseCode"] == "NXDOMAIN"


# --- S3 --------------------------------------------------------------------------------------


def versioned_bucket(aws: Client, name: str, region: str) -> Any:
    s3 = aws("s3", region)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return s3


def test_objects_and_delete_markers_replicate_across_regions(aws: Client) -> None:
    source = versioned_bucket(aws, "unit-content-primary", PRIMARY)
    destination = versioned_bucket(aws, "unit-content-dr", DR)
    source.put_bucket_replication(
        Bucket="unit-content-primary",
        ReplicationConfiguration={
            "Role": f"arn:aws:iam::{ACCOUNT}:role/unit-content-replication",
            "Rules": [
                {
                    "ID": "all",
                    "Priority": 1,
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "DeleteMarkerReplication": {"Status": "Enabled"},
                    "Destination": {"Bucket": "arn:aws:s3:::unit-content-dr"},
                }
            ],
        },
    )
    (rule,) = source.get_bucket_replication(Bucket="unit-content-primary")["ReplicationConfiguration"]["Rules"]
    assert rule["DeleteMarkerReplication"] == {"Status": "Enabled"}

    source.put_object(Bucket="unit-content-primary", Key="docs/a.txt", Body=b"hello", Metadata={"owner": "unit"})
    assert source.head_object(Bucket="unit-content-primary", Key="docs/a.txt")["ReplicationStatus"] == "COMPLETED"
    replica = destination.get_object(Bucket="unit-content-dr", Key="docs/a.txt")
    assert replica["Body"].read() == b"hello"
    assert replica["ReplicationStatus"] == "REPLICA"
    assert replica["Metadata"] == {"owner": "unit"}

    source.copy_object(
        Bucket="unit-content-primary",
        Key="docs/b.txt",
        CopySource={"Bucket": "unit-content-primary", "Key": "docs/a.txt"},
    )
    assert destination.head_object(Bucket="unit-content-dr", Key="docs/b.txt")["ReplicationStatus"] == "REPLICA"

    source.delete_object(Bucket="unit-content-primary", Key="docs/a.txt")
    markers = destination.list_object_versions(Bucket="unit-content-dr", Prefix="docs/a.txt").get("DeleteMarkers", [])
    assert [m["Key"] for m in markers] == ["docs/a.txt"]
    with pytest.raises(ClientError):
        destination.head_object(Bucket="unit-content-dr", Key="docs/a.txt")


def test_an_sse_kms_objects_etag_is_not_the_md5_of_its_data(aws: Client) -> None:
    """API_Object.html: "Objects encrypted by SSE-C or SSE-KMS have ETags that are not an MD5 digest
    of their object data"; so a copy's ETag never equals its source's. SSE-S3 keeps the MD5."""
    s3 = versioned_bucket(aws, "unit-etag", PRIMARY)
    body = b"same bytes"
    plain = s3.put_object(Bucket="unit-etag", Key="plain.txt", Body=body, ServerSideEncryption="AES256")
    assert plain["ETag"] == f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'
    kms = s3.put_object(Bucket="unit-etag", Key="a.txt", Body=body, ServerSideEncryption="aws:kms")
    assert kms["ETag"] != plain["ETag"]
    s3.copy_object(
        Bucket="unit-etag",
        Key="b.txt",
        CopySource={"Bucket": "unit-etag", "Key": "a.txt"},
        ServerSideEncryption="aws:kms",
    )
    copy = s3.head_object(Bucket="unit-etag", Key="b.txt")
    assert copy["ServerSideEncryption"] == "aws:kms" and copy["ETag"] != kms["ETag"]


# --- Auto Scaling ------------------------------------------------------------------------------


def test_desired_capacity_above_max_is_rejected(aws: Client) -> None:
    ec2 = aws("ec2", DR)
    template = ec2.create_launch_template(
        LaunchTemplateName="unit-web", LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"}
    )["LaunchTemplate"]
    autoscaling = aws("autoscaling", DR)
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="unit-web",
        LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"]},
        MinSize=0,
        MaxSize=2,
        DesiredCapacity=0,
        AvailabilityZones=[f"{DR}a"],
    )
    with pytest.raises(ClientError) as above:
        autoscaling.set_desired_capacity(AutoScalingGroupName="unit-web", DesiredCapacity=3)
    assert error_code(above) == "ValidationError"
    with pytest.raises(ClientError) as update:
        autoscaling.update_auto_scaling_group(AutoScalingGroupName="unit-web", DesiredCapacity=3)
    assert error_code(update) == "ValidationError"
    autoscaling.update_auto_scaling_group(AutoScalingGroupName="unit-web", MaxSize=3, DesiredCapacity=3)
    (group,) = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["unit-web"])["AutoScalingGroups"]
    assert group["DesiredCapacity"] == 3


# --- CloudFormation: the DR region's standby, as the stacks declare it --------------------------


def standby_template(source_arn: str, zone_name: str, secondary_ttl: int) -> str:
    record = f"app.{zone_name}"
    resources: dict[str, Any] = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.20.0.0/16"}},
        **{
            f"Subnet{i}": {
                "Type": "AWS::EC2::Subnet",
                "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": f"10.20.{i}.0/24", "AvailabilityZone": f"{DR}{z}"},
            }
            for i, z in enumerate("ab")
        },
        "Subnets": {
            "Type": "AWS::RDS::DBSubnetGroup",
            "Properties": {
                "DBSubnetGroupDescription": "standby",
                "DBSubnetGroupName": "stack-standby-subnets",
                "SubnetIds": [{"Ref": "Subnet0"}, {"Ref": "Subnet1"}],
            },
        },
        "Replica": {
            "Type": "AWS::RDS::DBInstance",
            "Properties": {
                "DBInstanceIdentifier": "stack-replica",
                "SourceDBInstanceIdentifier": source_arn,
                "DBInstanceClass": "db.t3.micro",
                "KmsKeyId": f"arn:aws:kms:{DR}:{ACCOUNT}:alias/unit/customer",
                "DBSubnetGroupName": {"Ref": "Subnets"},
                "DeletionProtection": True,
            },
        },
        "Content": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": "stack-content-primary",
                "VersioningConfiguration": {"Status": "Enabled"},
                "ReplicationConfiguration": {
                    "Role": f"arn:aws:iam::{ACCOUNT}:role/stack-replication",
                    "Rules": [
                        {
                            "Id": "to-dr",
                            "Priority": 1,
                            "Status": "Enabled",
                            "Filter": {"Prefix": ""},
                            "DeleteMarkerReplication": {"Status": "Enabled"},
                            "Destination": {
                                "Bucket": "arn:aws:s3:::stack-content-dr",
                                "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                                "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}},
                            },
                        }
                    ],
                },
            },
        },
        "Switch": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": "stack-switch",
                "Namespace": NAMESPACE,
                "MetricName": METRIC,
                "Dimensions": [{"Name": "Deployment", "Value": "stack"}],
                "Statistic": "Maximum",
                "Period": 60,
                "EvaluationPeriods": 1,
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "ignore",
            },
        },
        "SwitchCheck": {
            "Type": "AWS::Route53::HealthCheck",
            "Properties": {
                "HealthCheckConfig": {
                    "Type": "CLOUDWATCH_METRIC",
                    "AlarmIdentifier": {"Region": DR, "Name": {"Ref": "Switch"}},
                    "InsufficientDataHealthStatus": "Healthy",
                }
            },
        },
        "PrimaryRecord": {
            "Type": "AWS::Route53::RecordSet",
            "Properties": {
                "HostedZoneName": f"{zone_name}.",
                "Name": f"{record}.",
                "Type": "A",
                "SetIdentifier": "primary",
                "Failover": "PRIMARY",
                "HealthCheckId": {"Fn::GetAtt": ["SwitchCheck", "HealthCheckId"]},
                "AliasTarget": {"HostedZoneId": "Z1GM3OXH4ZPM65", "DNSName": "primary-alb.example.com"},
            },
        },
        "SecondaryRecord": {
            "Type": "AWS::Route53::RecordSet",
            "Properties": {
                "HostedZoneName": f"{zone_name}.",
                "Name": f"{record}.",
                "Type": "A",
                "SetIdentifier": "dr",
                "Failover": "SECONDARY",
                "TTL": str(secondary_ttl),
                "ResourceRecords": ["192.0.2.55"],
            },
        },
    }
    return json.dumps({"Resources": resources})


def test_standby_stack_with_failover_records_by_zone_name_and_a_replica(aws: Client) -> None:
    source_arn = writer(aws, "stack-primary")
    versioned_bucket(aws, "stack-content-dr", DR)
    route53 = aws("route53", PRIMARY)
    zone_id = route53.create_hosted_zone(Name="stack.example.com", CallerReference="stack")["HostedZone"]["Id"]
    cloudformation = aws("cloudformation", DR)

    cloudformation.create_stack(
        StackName="unit-standby", TemplateBody=standby_template(source_arn, "stack.example.com", 60)
    )
    (stack,) = cloudformation.describe_stacks(StackName="unit-standby")["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")

    replica = describe(aws, DR, "stack-replica")
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == source_arn
    assert replica["DBSubnetGroup"]["DBSubnetGroupName"] == "stack-standby-subnets"
    assert replica["DeletionProtection"] is True  # the launcher's own fix still applies
    (rule,) = aws("s3", PRIMARY).get_bucket_replication(Bucket="stack-content-primary")["ReplicationConfiguration"][
        "Rules"
    ]
    assert rule["ID"] == "to-dr"
    assert rule["Destination"]["ReplicationTime"]["Status"] == "Enabled"
    assert alarm_state(aws, "stack-switch")[0] == "INSUFFICIENT_DATA"

    def failover_records() -> dict[str, dict[str, Any]]:
        records = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        return {r["SetIdentifier"]: r for r in records if r.get("Failover")}

    records = failover_records()
    assert {r["Failover"] for r in records.values()} == {"PRIMARY", "SECONDARY"}
    health_check_id = records["primary"]["HealthCheckId"]
    config = route53.get_health_check(HealthCheckId=health_check_id)["HealthCheck"]["HealthCheckConfig"]
    assert config["AlarmIdentifier"] == {"Region": DR, "Name": "stack-switch"}
    assert dns_answer(aws, zone_id, "app.stack.example.com") == alias_addresses("primary-alb.example.com")
    publish(aws, 1, [{"Name": "Deployment", "Value": "stack"}], minute(1))
    assert dns_answer(aws, zone_id, "app.stack.example.com") == ["192.0.2.55"]

    cloudformation.update_stack(
        StackName="unit-standby", TemplateBody=standby_template(source_arn, "stack.example.com", 30)
    )
    records = failover_records()
    assert set(records) == {"primary", "dr"}
    assert records["dr"]["TTL"] == 30


# --- CloudFormation: the primary's replicated master secret and the web tier's config parameter ---


def secret_and_parameter_template() -> str:
    resources = {
        "Master": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "Name": "unit-primary-postgres/master",
                "GenerateSecretString": {
                    "SecretStringTemplate": json.dumps({"username": "dbadmin"}),
                    "GenerateStringKey": "password",
                    "PasswordLength": 30,
                    "ExcludeCharacters": "/@\"' ",
                },
                "ReplicaRegions": [{"Region": DR, "KmsKeyId": "alias/unit/system"}],
                "Tags": [{"Key": "backup-tier", "Value": "database"}],
            },
        },
        "AppConfig": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {
                "Name": "/unit-primary/app/config",
                "Type": "String",
                "Value": {"Fn::Join": ["", ['{"secret":"', {"Ref": "Master"}, '"}']]},
                "Tags": {"deployment-role": "primary", "owner": "platform-engineering"},
            },
        },
    }
    return json.dumps({"Resources": resources, "Outputs": {"Parameter": {"Value": {"Ref": "AppConfig"}}}})


def test_replicated_secret_and_tagged_json_parameter_from_a_template(aws: Client) -> None:
    cloudformation = aws("cloudformation", PRIMARY)
    cloudformation.create_stack(StackName="unit-secret", TemplateBody=secret_and_parameter_template())
    (stack,) = cloudformation.describe_stacks(StackName="unit-secret")["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")

    primary = aws("secretsmanager", PRIMARY)
    value = json.loads(primary.get_secret_value(SecretId="unit-primary-postgres/master")["SecretString"])
    assert value["username"] == "dbadmin" and len(value["password"]) == 30
    described = primary.describe_secret(SecretId="unit-primary-postgres/master")
    assert [r["Region"] for r in described["ReplicationStatus"]] == [DR]
    replica = aws("secretsmanager", DR).describe_secret(SecretId="unit-primary-postgres/master")
    assert replica["PrimaryRegion"] == PRIMARY

    (name,) = [o["OutputValue"] for o in stack["Outputs"]]
    assert name == "/unit-primary/app/config"
    ssm = aws("ssm", PRIMARY)
    assert json.loads(ssm.get_parameter(Name=name)["Parameter"]["Value"]) == {"secret": described["ARN"]}
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    assert {t["Key"]: t["Value"] for t in tags} == {"deployment-role": "primary", "owner": "platform-engineering"}


def test_stop_replication_makes_the_replica_a_standalone_secret(aws: Client) -> None:
    primary, dr = aws("secretsmanager", PRIMARY), aws("secretsmanager", DR)
    primary.create_secret(Name="unit-standalone", SecretString="s3cret", AddReplicaRegions=[{"Region": DR}])
    assert dr.describe_secret(SecretId="unit-standalone")["PrimaryRegion"] == PRIMARY

    dr.stop_replication_to_replica(SecretId="unit-standalone")

    standalone = dr.describe_secret(SecretId="unit-standalone")
    assert standalone.get("PrimaryRegion") in (None, DR)
    assert dr.get_secret_value(SecretId="unit-standalone")["SecretString"] == "s3cret"
    assert not primary.describe_secret(SecretId="unit-standalone").get("ReplicationStatus")
    with pytest.raises(ClientError):
        dr.stop_replication_to_replica(SecretId="unit-standalone")  # no longer a replica


# --- EC2 security groups ------------------------------------------------------------------------


def security_group_egress_template(vpc_id: str) -> str:
    https = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
    resources = {
        "Open": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "no egress named", "VpcId": vpc_id},
        },
        "Closed": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "template egress",
                "VpcId": vpc_id,
                "SecurityGroupEgress": [{**https, "CidrIp": "203.0.113.0/24", "Description": "vendor"}],
            },
        },
        "ToS3": {
            "Type": "AWS::EC2::SecurityGroupEgress",
            "Properties": {
                **https,
                "GroupId": {"Fn::GetAtt": ["Closed", "GroupId"]},
                "DestinationPrefixListId": "pl-0s3",
            },
        },
    }
    return json.dumps({"Resources": resources})


def test_a_templates_egress_replaces_the_default_rule(aws: Client) -> None:
    """AWS::EC2::SecurityGroup: the default allow-all egress goes once the template names egress rules."""
    ec2 = aws("ec2", PRIMARY)
    vpc_id = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    cloudformation = aws("cloudformation", PRIMARY)
    cloudformation.create_stack(StackName="unit-egress", TemplateBody=security_group_egress_template(vpc_id))
    (stack,) = cloudformation.describe_stacks(StackName="unit-egress")["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    resources = cloudformation.list_stack_resources(StackName="unit-egress")["StackResourceSummaries"]
    ids = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}
    groups = {
        g["GroupId"]: g for g in ec2.describe_security_groups(GroupIds=[ids["Open"], ids["Closed"]])["SecurityGroups"]
    }

    def destinations(group_id: str) -> set[str]:
        permissions = groups[group_id]["IpPermissionsEgress"]
        return {
            *(r["CidrIp"] for p in permissions for r in p.get("IpRanges", [])),
            *(r["PrefixListId"] for p in permissions for r in p.get("PrefixListIds", [])),
        }

    assert destinations(ids["Open"]) == {"0.0.0.0/0"}  # EC2's default when the template names none
    assert destinations(ids["Closed"]) == {"203.0.113.0/24", "pl-0s3"}


def test_a_role_needs_its_permissions_boundary_policy_to_exist(aws: Client) -> None:
    """As on AWS (NoSuchEntity), so the emulator deploy proves the bootstrap created the workload boundary."""
    iam = aws("iam", DR)
    trust = json.dumps(
        {
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ]
        }
    )
    missing = "arn:aws:iam::123456789012:policy/unit-workload-boundary"
    with pytest.raises(ClientError) as refused:
        iam.create_role(RoleName="unit-bounded", AssumeRolePolicyDocument=trust, PermissionsBoundary=missing)
    assert error_code(refused) == "NoSuchEntity"
    ceiling = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    boundary = iam.create_policy(PolicyName="unit-workload-boundary", PolicyDocument=ceiling)["Policy"]["Arn"]
    assert boundary == missing
    role = iam.create_role(RoleName="unit-bounded", AssumeRolePolicyDocument=trust, PermissionsBoundary=boundary)
    assert role["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    with pytest.raises(ClientError) as put_refused:
        iam.put_role_permissions_boundary(
            RoleName="unit-bounded", PermissionsBoundary="arn:aws:iam::123456789012:policy/unit-nowhere"
        )
    assert error_code(put_refused) == "NoSuchEntity"
    iam.create_role(RoleName="unit-unbounded", AssumeRolePolicyDocument=trust)  # no boundary: unchanged

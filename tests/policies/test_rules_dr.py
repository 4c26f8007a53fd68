"""Tests of policies/rules/dr.py (DR-1 rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from config.policy import DATABASE_RPO_MAX_SECONDS
from config.topology import DR, PRIMARY, FailoverTopology
from policies.rules import dr
from policies.rules.model import StackView
from tests.policies.rulekit import NA, C, N, check, deployment, res, stack

T = FailoverTopology.of(deployment("au-production"))


SOURCE = T.db_instance_arn(PRIMARY)


DEST = f"arn:aws:s3:::{T.content_bucket(DR)}"


def _rule_item(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "Status": "Enabled",
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "Destination": {
            "Bucket": DEST,
            "EncryptionConfiguration": {"ReplicaKmsKeyID": T.customer_key_alias_arn(DR)},
            "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
            "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}},
        },
    }
    for path, value in changes.items():
        target = item
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return item


def _world(
    *,
    replica: dict[str, Any] | None = None,
    lag_threshold: float = 60,
    lag_actions: bool = True,
    replication: dict[str, Any] | None = None,
    switch_missing: str = "ignore",
    switch_region: str = "ap-southeast-4",
    secondary: bool = True,
    asg: tuple[str, str] = ("2", "12"),
    name: str = "au-production",
) -> tuple[StackView, StackView]:
    """A primary and a DR stack of one deployment, as the stages build them."""
    topology = FailoverTopology.of(deployment(name))
    replica_props = {
        "DBInstanceIdentifier": topology.db_instance_id(DR),
        "SourceDBInstanceIdentifier": topology.db_instance_arn(PRIMARY),
        "KmsKeyId": {"Ref": "Key"},
    }
    primary = stack(
        res("Vpc", "AWS::EC2::VPC"),
        res(
            "Content",
            "AWS::S3::Bucket",
            {
                "Tags": [{"Key": "data-classification", "Value": "customer"}],
                "ReplicationConfiguration": {"Rules": [replication if replication is not None else _rule_item()]},
            },
        ),
        res(
            "Switch",
            "AWS::Route53::HealthCheck",
            {
                "HealthCheckConfig": {
                    "Type": "CLOUDWATCH_METRIC",
                    "AlarmIdentifier": {"Region": switch_region, "Name": topology.switch_alarm_name},
                }
            },
        ),
        res(
            "Primary",
            "AWS::Route53::RecordSet",
            {"Name": topology.record_name, "Failover": "PRIMARY", "HealthCheckId": {"Ref": "Switch"}},
        ),
        name=name,
    )
    dr_resources = [
        res("Vpc", "AWS::EC2::VPC"),
        res("Key", "AWS::KMS::Key"),
        res("Replica", "AWS::RDS::DBInstance", replica if replica is not None else replica_props),
        res(
            "Lag",
            "AWS::CloudWatch::Alarm",
            {
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": topology.db_instance_id(DR)}],
                "Threshold": lag_threshold,
                "AlarmActions": ["topic"] if lag_actions else [],
            },
        ),
        res(
            "SwitchAlarm",
            "AWS::CloudWatch::Alarm",
            {"AlarmName": topology.switch_alarm_name, "TreatMissingData": switch_missing},
        ),
        res("Asg", "AWS::AutoScaling::AutoScalingGroup", {"MinSize": asg[0], "MaxSize": asg[1]}),
    ]
    if secondary:
        dr_resources.append(
            res("Secondary", "AWS::Route53::RecordSet", {"Name": topology.record_name, "Failover": "SECONDARY"})
        )
    standby = stack(*dr_resources, role="dr", name=name)
    primary.deployment_stacks = standby.deployment_stacks = [primary, standby]
    return primary, standby


def test_a_complete_standby_passes_every_dr1_rule() -> None:
    primary, standby = _world()
    assert check(dr.standby_region, primary.resources["Vpc"], primary) is C
    assert check(dr.replica_of_primary, primary.resources["Vpc"], primary) is C
    assert check(dr.replica_lag_alarm, standby.resources["Replica"], standby) is C
    assert check(dr.bucket_replication_rtc, primary.resources["Content"], primary) is C
    assert check(dr.failover_records, primary.resources["Vpc"], primary) is C
    assert check(dr.switch_in_dr_region, primary.resources["Vpc"], primary) is C
    assert check(dr.standby_capacity, standby.resources["Asg"], standby) is C


def test_dr1_rules_not_applicable_without_a_standby_or_outside_their_anchor() -> None:
    primary, standby = _world(name="au-development")
    for rule in (dr.standby_region, dr.replica_of_primary, dr.failover_records, dr.switch_in_dr_region):
        assert check(rule, primary.resources["Vpc"], primary) is NA
    assert check(dr.standby_capacity, standby.resources["Asg"], standby) is NA
    production_primary, production_dr = _world()
    assert check(dr.failover_records, production_dr.resources["Vpc"], production_dr) is NA
    assert check(dr.standby_capacity, production_dr.resources["Asg"], production_primary) is NA


def test_dr1_standby_region_fails_without_dr_network_or_keys() -> None:
    primary, standby = _world()
    standby.resources.pop("Key")
    assert check(dr.standby_region, primary.resources["Vpc"], primary) is N
    alone = stack(res("Vpc", "AWS::EC2::VPC"))
    assert check(dr.standby_region, alone.resources["Vpc"], alone) is N


@pytest.mark.parametrize(
    "replica",
    [
        pytest.param(
            {"SourceDBInstanceIdentifier": "arn:aws:rds:us-west-2:111111111111:db:x"},
            id="DR1-ReplicaOfPrimary-other-source",
        ),
        pytest.param({"SourceDBInstanceIdentifier": SOURCE}, id="DR1-ReplicaOfPrimary-no-kms-key"),
        pytest.param({"KmsKeyId": {"Ref": "Key"}}, id="DR1-ReplicaOfPrimary-not-a-replica"),
    ],
)
def test_dr1_replica_of_primary_fails(replica: dict[str, Any]) -> None:
    primary, _ = _world(replica=replica)
    assert check(dr.replica_of_primary, primary.resources["Vpc"], primary) is N


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"lag_threshold": DATABASE_RPO_MAX_SECONDS + 1}, id="DR1-ReplicaLagAlarm-threshold-above-rpo"),
        pytest.param({"lag_actions": False}, id="DR1-ReplicaLagAlarm-no-action"),
    ],
)
def test_dr1_replica_lag_alarm_fails(changes: dict[str, Any]) -> None:
    _, standby = _world(**changes)
    assert check(dr.replica_lag_alarm, standby.resources["Replica"], standby) is N


def test_dr1_replica_lag_alarm_boundary_and_missing_alarm() -> None:
    _, standby = _world(lag_threshold=DATABASE_RPO_MAX_SECONDS)
    assert check(dr.replica_lag_alarm, standby.resources["Replica"], standby) is C
    standby.resources.pop("Lag")
    assert check(dr.replica_lag_alarm, standby.resources["Replica"], standby) is N
    writer = res("Db", "AWS::RDS::DBInstance", {"DBInstanceIdentifier": "w"})
    assert check(dr.replica_lag_alarm, writer, standby) is NA


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"Status": "Disabled"}, id="DR1-BucketReplicationRtc-rule-disabled"),
        pytest.param(
            {"Destination__Bucket": "arn:aws:s3:::elsewhere"}, id="DR1-BucketReplicationRtc-other-destination"
        ),
        pytest.param({"Destination__ReplicationTime__Status": "Disabled"}, id="DR1-BucketReplicationRtc-rtc-off"),
        pytest.param({"Destination__ReplicationTime__Time__Minutes": 16}, id="DR1-BucketReplicationRtc-rtc-over-15"),
        pytest.param({"Destination__Metrics__Status": "Disabled"}, id="DR1-BucketReplicationRtc-metrics-off"),
        pytest.param({"DeleteMarkerReplication__Status": "Disabled"}, id="DR1-BucketReplicationRtc-delete-markers-off"),
        pytest.param({"Destination__EncryptionConfiguration": {}}, id="DR1-BucketReplicationRtc-no-replica-key"),
        pytest.param(
            {"Destination__EncryptionConfiguration__ReplicaKmsKeyID": T.customer_key_alias_arn(PRIMARY)},
            id="DR1-BucketReplicationRtc-replica-key-in-primary-region",
        ),
    ],
)
def test_dr1_bucket_replication_fails(changes: dict[str, Any]) -> None:
    primary, _ = _world(replication=_rule_item(**copy.deepcopy(changes)))
    assert check(dr.bucket_replication_rtc, primary.resources["Content"], primary) is N


def test_dr1_bucket_replication_only_for_customer_buckets() -> None:
    primary, _ = _world()
    logs = res("Logs", "AWS::S3::Bucket", {"Tags": [{"Key": "data-classification", "Value": "logs"}]})
    assert check(dr.bucket_replication_rtc, logs, primary) is NA
    bare = res("Content2", "AWS::S3::Bucket", {"Tags": [{"Key": "data-classification", "Value": "customer"}]})
    assert check(dr.bucket_replication_rtc, bare, primary) is N


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"secondary": False}, id="DR1-FailoverRecords-no-secondary"),
        pytest.param({"switch_region": "ap-southeast-2"}, id="DR1-FailoverRecords-switch-in-primary-region"),
    ],
)
def test_dr1_failover_records_fail(changes: dict[str, Any]) -> None:
    primary, _ = _world(**changes)
    assert check(dr.failover_records, primary.resources["Vpc"], primary) is N


def test_dr1_failover_records_fail_without_primary_health_check() -> None:
    primary, _ = _world()
    primary.resources.pop("Switch")
    assert check(dr.failover_records, primary.resources["Vpc"], primary) is N


@pytest.mark.parametrize(
    "missing",
    [
        pytest.param(m, id=f"DR1-SwitchInDrRegion-treat-missing-data-{m}")
        for m in ("missing", "breaching", "notBreaching")
    ],
)
def test_dr1_switch_must_hold_its_state(missing: str) -> None:
    primary, _ = _world(switch_missing=missing)
    assert check(dr.switch_in_dr_region, primary.resources["Vpc"], primary) is N


def test_dr1_switch_missing_in_dr_region() -> None:
    primary, standby = _world()
    standby.resources.pop("SwitchAlarm")
    assert check(dr.switch_in_dr_region, primary.resources["Vpc"], primary) is N


@pytest.mark.parametrize(
    "asg,expected",
    [
        pytest.param(("2", "2"), C, id="DR1-StandbyCapacity-max-equals-primary-min"),
        pytest.param(("1", "12"), N, id="DR1-StandbyCapacity-min-below-2"),
        pytest.param(("2", "1"), N, id="DR1-StandbyCapacity-max-below-primary-min"),
    ],
)
def test_dr1_standby_capacity_boundaries(asg: tuple[str, str], expected: object) -> None:
    _, standby = _world(asg=asg)
    assert check(dr.standby_capacity, standby.resources["Asg"], standby) is expected


def test_dr1_standby_region_fails_when_the_dr_region_is_the_primary_region() -> None:
    """DR1-StandbyRegion: a standby in the primary's own region is no standby, whatever it holds."""
    primary, _ = _world()
    same_region = stack(
        res("Vpc", "AWS::EC2::VPC"), res("Key", "AWS::KMS::Key"), region=T.dr_region, deployment=deployment()
    )
    assert check(dr.standby_region, same_region.resources["Vpc"], same_region) is N
    assert check(dr.standby_region, primary.resources["Vpc"], primary) is C


def _lag_alarm(logical_id: str, metric: str, instance: str, actions: list[str]) -> Any:
    return res(
        logical_id,
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": metric,
            "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": instance}],
            "Threshold": DATABASE_RPO_MAX_SECONDS,
            "AlarmActions": actions,
        },
    )


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        pytest.param(
            _lag_alarm("Cpu", "CPUUtilization", T.db_instance_id(DR), []),
            C,
            id="DR1-ReplicaLagAlarm-other-metric-of-the-replica-ignored",
        ),
        pytest.param(
            _lag_alarm("OtherLag", "ReplicaLag", "another-db", []),
            C,
            id="DR1-ReplicaLagAlarm-lag-of-another-instance-ignored",
        ),
    ],
)
def test_dr1_replica_lag_alarm_reads_only_its_own_lag_alarm(other: Any, expected: object) -> None:
    replica = res(
        "Replica",
        "AWS::RDS::DBInstance",
        {"DBInstanceIdentifier": T.db_instance_id(DR), "SourceDBInstanceIdentifier": SOURCE},
    )
    own = _lag_alarm("Lag", "ReplicaLag", T.db_instance_id(DR), ["topic"])
    view = stack(replica, other, own, role="dr")
    assert check(dr.replica_lag_alarm, replica, view) is expected


def test_dr1_replica_lag_alarm_without_threshold_reads_as_zero() -> None:
    _, standby = _world()
    lag = standby.resources["Lag"]
    standby.resources["Lag"] = res("Lag", lag.type, {k: v for k, v in lag.properties.items() if k != "Threshold"})
    assert dr.replica_lag_alarm.check(standby.resources["Replica"], standby).detail == "ReplicaLag alarm at 0 s"


def test_dr1_standby_capacity_unset_sizes_read_as_zero() -> None:
    """DR1-StandbyCapacity: an Auto Scaling group without MinSize/MaxSize is reported as 0/0."""
    _, standby = _world()
    asg = res("Asg", "AWS::AutoScaling::AutoScalingGroup", {})
    detail = dr.standby_capacity.check(asg, standby).detail
    assert detail.startswith("min 0, max 0: needs min >= ")


SOURCE_BUCKET = T.content_bucket(PRIMARY)


def _watched(
    *,
    failed: bool = True,
    late_threshold: float | None = 900,
    queue_alarm_actions: bool = True,
    event: str | None = None,
) -> StackView:
    """A replicated content bucket with the three watches of patterns/bucket_replication.py, each removable."""
    notifications = {
        "QueueConfigurations": [
            {"Event": event or "s3:Replication:OperationMissedThreshold", "Queue": {"Fn::GetAtt": ["Queue", "Arn"]}}
        ]
    }
    resources = [
        res("Vpc", "AWS::EC2::VPC"),
        res(
            "Content",
            "AWS::S3::Bucket",
            {
                "BucketName": SOURCE_BUCKET,
                "Tags": [{"Key": "data-classification", "Value": "customer"}],
                "ReplicationConfiguration": {"Rules": [_rule_item()]},
                "NotificationConfiguration": notifications,
            },
        ),
        res("Queue", "AWS::SQS::Queue"),
        res(
            "Depth",
            "AWS::CloudWatch::Alarm",
            {
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["Queue", "QueueName"]}}],
                "AlarmActions": ["topic"] if queue_alarm_actions else [],
            },
        ),
    ]
    dimensions = [{"Name": "SourceBucket", "Value": SOURCE_BUCKET}]
    if failed:
        resources.append(
            res(
                "Failed",
                "AWS::CloudWatch::Alarm",
                {"MetricName": "OperationsFailedReplication", "Dimensions": dimensions, "AlarmActions": ["t"]},
            )
        )
    if late_threshold is not None:
        resources.append(
            res(
                "Late",
                "AWS::CloudWatch::Alarm",
                {
                    "MetricName": "ReplicationLatency",
                    "Dimensions": dimensions,
                    "Threshold": late_threshold,
                    "AlarmActions": ["t"],
                },
            )
        )
    return stack(*resources)


def test_dr1_replication_watched_when_failures_lateness_and_the_missed_threshold_event_page() -> None:
    primary = _watched()
    assert check(dr.bucket_replication_watched, primary.resources["Content"], primary) is C
    wildcard = _watched(event="s3:Replication:*")
    assert check(dr.bucket_replication_watched, wildcard.resources["Content"], wildcard) is C


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"failed": False}, id="DR1-BucketReplicationWatched-no-failed-alarm"),
        pytest.param({"late_threshold": None}, id="DR1-BucketReplicationWatched-no-latency-alarm"),
        pytest.param({"late_threshold": 901}, id="DR1-BucketReplicationWatched-latency-above-rpo"),
        pytest.param({"queue_alarm_actions": False}, id="DR1-BucketReplicationWatched-queue-depth-not-paged"),
        pytest.param(
            {"event": "s3:Replication:OperationFailedReplication"}, id="DR1-BucketReplicationWatched-other-event"
        ),
    ],
)
def test_dr1_replication_watch_fails(changes: dict[str, Any]) -> None:
    primary = _watched(**changes)
    assert check(dr.bucket_replication_watched, primary.resources["Content"], primary) is N


def test_dr1_replication_watch_fails_without_a_notification_and_is_na_elsewhere() -> None:
    primary = _watched()
    bucket = primary.resources["Content"]
    silent = res(
        "Content", "AWS::S3::Bucket", {k: v for k, v in bucket.properties.items() if k != "NotificationConfiguration"}
    )
    assert check(dr.bucket_replication_watched, silent, primary) is N
    unreplicated = res("Bare", "AWS::S3::Bucket", {"Tags": [{"Key": "data-classification", "Value": "customer"}]})
    assert check(dr.bucket_replication_watched, unreplicated, primary) is NA
    development = stack(res("Vpc", "AWS::EC2::VPC"), name="au-development")
    assert check(dr.bucket_replication_watched, bucket, development) is NA

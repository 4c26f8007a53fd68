"""DR-1 rules: every part of the warm standby, read across the deployment's two regions.

A deployment has a standby when its configuration says so (`standby.enabled`, always
true in production); the rules are not applicable elsewhere. What no template can show
(the failover automation's duration) is measured by the game day and reported as the
part of DR-1 that synth does not check (`policies/coverage.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from config.policy import (
    DATABASE_RPO_MAX_SECONDS,
    OBJECT_RPO_MAX_MINUTES,
    STANDBY_MIN_WEB_CAPACITY,
)
from config.topology import DR, PRIMARY, FailoverTopology
from policies.rules.cfn import as_list, flatten
from policies.rules.model import Resource, Result, StackView, fail, na, ok, rule

VPC = ("AWS::EC2::VPC",)


def _standby(stack: StackView) -> FailoverTopology | None:
    deployment = stack.deployment
    if deployment is None or not (deployment.standby.enabled or deployment.is_production):
        return None
    return FailoverTopology.of(deployment)


NOT_ANCHOR: Final = na("only the primary VPC of a deployment with a standby anchors DR-1")


def _anchor(stack: StackView) -> FailoverTopology | None:
    """The primary region's VPC anchors the deployment-wide checks (one finding per deployment)."""
    return _standby(stack) if stack.role == PRIMARY else None


def _in(stack: StackView, region: str, *types: str) -> Iterator[tuple[StackView, Resource]]:
    for view in stack.deployment_stacks or [stack]:
        if view.region == region:
            for resource in view.of_type(*types):
                yield view, resource


def _arn(value: object) -> str:
    """An ARN as text, with the pseudo parameters CDK may leave in it made literal."""
    return flatten(value).replace("{AWS::Partition}", "aws").replace("{AWS::AccountId}", "ACCOUNT")


def _region_of_arn(value: object) -> str:
    parts = _arn(value).split(":")
    return parts[3] if len(parts) > 5 else ""


@rule(
    "DR1-StandbyRegion",
    "DR-1",
    VPC,
    "DR-1: each production deployment has a warm standby in a DR region of the same jurisdiction; this "
    "deployment has no network and keys in a DR region of its jurisdiction.",
    "Seed 003: on data-centre failure, services move to a regionally distinct site within 24 h.",
)
def standby_region(resource: Resource, stack: StackView) -> Result:
    topology = _anchor(stack)
    if topology is None:
        return NOT_ANCHOR
    assert stack.deployment is not None
    dr = topology.dr_region
    if dr == stack.region or dr not in stack.deployment.allowed_regions:
        return fail(f"DR region {dr} is the primary region or outside {stack.deployment.jurisdiction}")
    types = {r.type for _, r in _in(stack, dr, "AWS::EC2::VPC", "AWS::KMS::Key")}
    missing = [t for t in ("AWS::EC2::VPC", "AWS::KMS::Key") if t not in types]
    return fail(f"missing in {dr}: {', '.join(missing)}") if missing else ok(f"VPC and keys in {dr}")


@rule(
    "DR1-ReplicaOfPrimary",
    "DR-1",
    VPC,
    "DR-1: the standby database is an encrypted cross-region read replica of the primary database, in the "
    "DR region of the same jurisdiction; this deployment's DR region has none.",
    "Seed 003: services move to a regionally distinct site; the data must already be there.",
)
def replica_of_primary(resource: Resource, stack: StackView) -> Result:
    topology = _anchor(stack)
    if topology is None:
        return NOT_ANCHOR
    source = topology.db_instance_arn(PRIMARY)
    for _, db in _in(stack, topology.dr_region, "AWS::RDS::DBInstance"):
        if _arn(db.prop("SourceDBInstanceIdentifier")) != source:
            continue
        if not db.prop("KmsKeyId"):
            return fail(f"replica {db.logical_id} of {source} names no KMS key of {topology.dr_region}")
        return ok(f"replica {db.logical_id} of {source}, encrypted")
    return fail(f"no DB instance in {topology.dr_region} replicates {source}")


@rule(
    "DR1-ReplicaLagAlarm",
    "DR-1",
    ("AWS::RDS::DBInstance",),
    f"DR-1: a replica raises an alarm when it lags more than the design database RPO "
    f"({DATABASE_RPO_MAX_SECONDS} s); this replica has no such alarm with an action.",
    "Seed 003 via DR-1: the database RPO is only a design objective if someone is told when it is missed.",
)
def replica_lag_alarm(resource: Resource, stack: StackView) -> Result:
    if not resource.prop("SourceDBInstanceIdentifier"):
        return na("not a replica")
    identifier = flatten(resource.prop("DBInstanceIdentifier"))
    for _, alarm in stack.in_region("AWS::CloudWatch::Alarm"):
        dimensions = {d.get("Name"): flatten(d.get("Value")) for d in as_list(alarm.prop("Dimensions"))}
        if alarm.prop("MetricName") != "ReplicaLag" or dimensions.get("DBInstanceIdentifier") != identifier:
            continue
        threshold = float(alarm.prop("Threshold") or 0)
        if threshold > DATABASE_RPO_MAX_SECONDS or not as_list(alarm.prop("AlarmActions")):
            return fail(f"ReplicaLag alarm {alarm.logical_id}: threshold {threshold:g} s or no action")
        return ok(f"ReplicaLag alarm at {threshold:g} s")
    return fail(f"no ReplicaLag alarm on {identifier}")


@rule(
    "DR1-BucketReplicationRtc",
    "DR-1",
    ("AWS::S3::Bucket",),
    f"DR-1: customer files replicate into the DR region with Replication Time Control "
    f"({OBJECT_RPO_MAX_MINUTES} min, metrics on) and delete markers; this customer-data bucket does not.",
    "Seed 003 via DR-1: the design object RPO of 15 minutes is S3 RTC's SLA.",
)
def bucket_replication_rtc(resource: Resource, stack: StackView) -> Result:
    topology = _anchor(stack)
    if topology is None or resource.tags.get("data-classification") != "customer":
        return na("only customer-data buckets of a primary region with a standby")
    destination = f"arn:aws:s3:::{topology.content_bucket(DR)}"
    for item in as_list(resource.prop("ReplicationConfiguration", "Rules")):
        target = item.get("Destination") or {}
        if item.get("Status") != "Enabled" or _arn(target.get("Bucket")) != destination:
            continue
        rtc = target.get("ReplicationTime") or {}
        metrics = target.get("Metrics") or {}
        minutes = (rtc.get("Time") or {}).get("Minutes")
        problems = [
            "RTC off" if rtc.get("Status") != "Enabled" or minutes is None or minutes > OBJECT_RPO_MAX_MINUTES else "",
            "metrics off" if metrics.get("Status") != "Enabled" else "",
            "delete markers not replicated"
            if (item.get("DeleteMarkerReplication") or {}).get("Status") != "Enabled"
            else "",
            "no replica KMS key" if not (target.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID") else "",
        ]
        found = [p for p in problems if p]
        if found:
            return fail(f"replication to {destination}: {', '.join(found)}")
        if _region_of_arn((target.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID")) != topology.dr_region:
            return fail(f"replica key is not in {topology.dr_region}")
        return ok(f"replicated to {destination} with RTC {minutes} min")
    return fail(f"no enabled replication rule to {destination}")


MISSED_THRESHOLD_EVENTS: Final = ("s3:Replication:OperationMissedThreshold", "s3:Replication:*")


def _alarm_with_action(stack: StackView, metric: str, dimension: str, value: str) -> Resource | None:
    for _, alarm in stack.in_region("AWS::CloudWatch::Alarm"):
        dimensions = {d.get("Name"): flatten(d.get("Value")) for d in as_list(alarm.prop("Dimensions"))}
        if (
            alarm.prop("MetricName") == metric
            and dimensions.get(dimension) == value
            and as_list(alarm.prop("AlarmActions"))
        ):
            return alarm
    return None


def _missed_threshold_paged(resource: Resource, stack: StackView) -> bool:
    """The bucket sends the RTC missed-threshold event to a topic, or to a queue whose depth alarms."""
    notifications = resource.prop("NotificationConfiguration") or {}
    for item in as_list(notifications.get("TopicConfigurations")):
        if item.get("Event") in MISSED_THRESHOLD_EVENTS:
            return True
    for item in as_list(notifications.get("QueueConfigurations")):
        queue = stack.get(item.get("Queue"))
        if item.get("Event") in MISSED_THRESHOLD_EVENTS and queue is not None:
            depth = _alarm_with_action(
                stack, "ApproximateNumberOfMessagesVisible", "QueueName", f"{{{queue.logical_id}}}"
            )
            if depth is not None:
                return True
    return False


@rule(
    "DR1-BucketReplicationWatched",
    "DR-1",
    ("AWS::S3::Bucket",),
    f"DR-1: replication of customer files pages when an object fails to replicate, when replication runs "
    f"later than the {OBJECT_RPO_MAX_MINUTES}-minute object RPO, and on S3's missed-threshold event; this "
    "replicated customer-data bucket lacks one of them.",
    "Seed 003 via DR-1: the 15-minute object RPO is only a design objective if someone is told when it is missed.",
)
def bucket_replication_watched(resource: Resource, stack: StackView) -> Result:
    if _anchor(stack) is None or resource.tags.get("data-classification") != "customer":
        return na("only customer-data buckets of a primary region with a standby")
    if not as_list(resource.prop("ReplicationConfiguration", "Rules")):
        return na("not replicated (DR1-BucketReplicationRtc requires it)")
    name = flatten(resource.prop("BucketName"))
    late = _alarm_with_action(stack, "ReplicationLatency", "SourceBucket", name)
    problems = [
        ""
        if _alarm_with_action(stack, "OperationsFailedReplication", "SourceBucket", name)
        else "no failed-replication alarm",
        "no latency alarm"
        if late is None
        else (
            "latency alarm above the RPO" if float(late.prop("Threshold") or 0) > OBJECT_RPO_MAX_MINUTES * 60 else ""
        ),
        "" if _missed_threshold_paged(resource, stack) else "missed-threshold event not paged",
    ]
    found = [p for p in problems if p]
    return fail(", ".join(found)) if found else ok("failed, late and missed-threshold replication page")


def _failover_records(stack: StackView, kind: str) -> Iterator[tuple[StackView, Resource]]:
    for view in stack.deployment_stacks or [stack]:
        for record in view.of_type("AWS::Route53::RecordSet"):
            if record.prop("Failover") == kind:
                yield view, record


@rule(
    "DR1-FailoverRecords",
    "DR-1",
    VPC,
    "DR-1: the public name has a PRIMARY failover record guarded by a health check on the failover switch in "
    "the DR region, and a SECONDARY record on the DR region's load balancer; this deployment lacks one.",
    "Seed 003 via DR-1: traffic must move without any call to the failed region.",
)
def failover_records(resource: Resource, stack: StackView) -> Result:
    topology = _anchor(stack)
    if topology is None:
        return NOT_ANCHOR
    name = topology.record_name
    primaries = [(v, r) for v, r in _failover_records(stack, "PRIMARY") if r.prop("Name") == name]
    secondaries = [(v, r) for v, r in _failover_records(stack, "SECONDARY") if r.prop("Name") == name]
    if not primaries or not secondaries:
        return fail(f"{name}: {len(primaries)} PRIMARY and {len(secondaries)} SECONDARY record(s)")
    view, primary = primaries[0]
    if secondaries[0][0].region != topology.dr_region:
        return fail(f"the SECONDARY record of {name} is not in the DR stage ({topology.dr_region})")
    check = view.get(primary.prop("HealthCheckId"))
    config = (check.prop("HealthCheckConfig") if check else None) or {}
    alarm = config.get("AlarmIdentifier") or {}
    if config.get("Type") != "CLOUDWATCH_METRIC" or alarm.get("Region") != topology.dr_region:
        return fail(f"the PRIMARY record of {name} is not guarded by a CloudWatch-alarm health check in the DR region")
    return ok(f"{name}: PRIMARY guarded by alarm {alarm.get('Name')} in {topology.dr_region}, SECONDARY in DR")


@rule(
    "DR1-SwitchInDrRegion",
    "DR-1",
    VPC,
    "DR-1: the failover switch is an alarm in the DR region that keeps its state between values "
    "(TreatMissingData ignore); the alarm the PRIMARY record's health check watches is missing or not so.",
    "Seed 003 via DR-1: failing over is one data-plane call in the DR region (AWS's standby-takes-over pattern).",
)
def switch_in_dr_region(resource: Resource, stack: StackView) -> Result:
    topology = _anchor(stack)
    if topology is None:
        return NOT_ANCHOR
    for _, alarm in _in(stack, topology.dr_region, "AWS::CloudWatch::Alarm"):
        if alarm.prop("AlarmName") != topology.switch_alarm_name:
            continue
        if alarm.prop("TreatMissingData") != "ignore":
            return fail(f"switch {topology.switch_alarm_name} does not keep its state (TreatMissingData)")
        return ok(f"switch {topology.switch_alarm_name} in {topology.dr_region}")
    return fail(f"no alarm {topology.switch_alarm_name} in {topology.dr_region}")


@rule(
    "DR1-StandbyCapacity",
    "DR-1",
    ("AWS::AutoScaling::AutoScalingGroup",),
    "DR-1: the standby web tier runs at least 2 instances (HOST-1) and may grow to the primary's minimum "
    "capacity, which the failover automation scales it to; this DR web tier cannot.",
    "Seed 003 via DR-1: full service in the DR region after a failover.",
)
def standby_capacity(resource: Resource, stack: StackView) -> Result:
    topology = _standby(stack)
    if topology is None or stack.role != DR:
        return na("only the web tier of a DR region with a standby")
    low, high = int(resource.prop("MinSize") or 0), int(resource.prop("MaxSize") or 0)
    if low < STANDBY_MIN_WEB_CAPACITY or high < topology.primary_web_min_capacity:
        return fail(
            f"min {low}, max {high}: needs min >= {STANDBY_MIN_WEB_CAPACITY} and max >= "
            f"{topology.primary_web_min_capacity}"
        )
    return ok(f"min {low}, max {high}")


RULES = [
    standby_region,
    replica_of_primary,
    replica_lag_alarm,
    bucket_replication_rtc,
    failover_records,
    switch_in_dr_region,
    standby_capacity,
]

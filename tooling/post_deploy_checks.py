"""The post-deploy checks themselves (tooling/post_deploy.py runs them): read-only, clients passed in.

Each check returns a `CheckResult`: passed or not, a one-line reason, and detail lines (which
resources drifted and how). An AWS error inside a check is the check's failure, named, not a crash
(tooling/post_deploy.py catches it), so one failed check never hides the verdict of the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from config.topology import DR, PRIMARY, FailoverTopology
from runbooks import standby
from runbooks.toolkit import StepFailedError, wait_until


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    reason: str
    details: tuple[str, ...] = ()
    skipped: bool = False  # did not apply (a replica check without a standby): not a failure


# -- the stateful stacks (drift) ------------------------------------------------------------------


@dataclass(frozen=True)
class StatefulStack:
    """A stack whose resources hold data that a change made outside CloudFormation could lose or expose."""

    role: str  # PRIMARY | DR: the region the stack lives in
    stack_id: str  # the construct id in stacks/stages.py
    why: str
    standby_only: bool = False


# The one list of the stacks whose drift the `drift` check detects. A stack is here when it holds
# customer data, backups or audit records, the resources whose settings the policy packs checked at
# synth (deletion protection, retention, encryption, Object Lock, vault policies) and that a console
# edit could quietly undo. Stacks that hold only logs of their own tier (Network's flow logs, Web's ALB
# access logs, Access and Patching's session and patch logs), keys, alarms, DNS or compute are not.
STATEFUL_STACKS: tuple[StatefulStack, ...] = (
    StatefulStack(PRIMARY, "Data", "PostgreSQL, Redis and the content bucket: customer data (BAK-3, BAK-6, BAK-8)"),
    StatefulStack(PRIMARY, "Backup", "the locked backup vault and the plans that fill it (BAK-1..BAK-5, ACC-4)"),
    StatefulStack(PRIMARY, "Audit", "the multi-region trail and its Object Lock bucket: the audit records (ACC-3)"),
    StatefulStack(PRIMARY, "Operations", "the tenant-export and compliance-evidence buckets (DATA-2, OPS-6)"),
    StatefulStack(DR, "Backup", "the locked vault that receives every backup copy (BAK-5, ACC-4)"),
    StatefulStack(DR, "AuditArchive", "the locked copy of the audit records in the DR region (ACC-3)"),
    StatefulStack(DR, "Storage", "the content replica bucket (DR-1, objects RPO)", standby_only=True),
    StatefulStack(DR, "StandbyData", "the cross-region read replica and the standby Redis (DR-1)", standby_only=True),
)


def stack_name(topology: FailoverTopology, role: str, stack_id: str) -> str:
    """`au-production-primary-data`: the convention of stacks/base.py (`<deployment>-<role>-<id lower>`)."""
    return f"{topology.prefix(role)}-{stack_id.lower()}"


def stateful_stacks(topology: FailoverTopology) -> list[tuple[str, str]]:
    """(role, stack name) of every stateful stack this deployment has, in STATEFUL_STACKS order."""
    return [
        (stack.role, stack_name(topology, stack.role, stack.stack_id))
        for stack in STATEFUL_STACKS
        if topology.standby_enabled or not stack.standby_only
    ]


# -- name: the public name answers with the primary region's load balancer (DR-1, OPS-2) -------------


def check_name(
    route53: Any,
    topology: FailoverTopology,
    *,
    alb_dns_name: str,
    zone_id: str,
    resolve: Callable[[str], set[str]] = standby.resolve_addresses,
) -> CheckResult:
    """Route 53's own answer (TestDNSAnswer, runbooks/standby.py) for the public name shares an address
    with the primary ALB: the PRIMARY record is the one served (its health check is healthy and the
    failover switch is off), not the DR standby's SECONDARY record."""
    domain = topology.domain_name
    answer = standby.Route53TestAnswer(route53, zone_id, resolve)
    if answer.resolves_to(domain, alb_dns_name):
        return CheckResult("name", True, f"{domain} answers with the primary ALB {alb_dns_name}")
    # Only to say what it answered instead (TestDNSAnswer is read-only and cheap).
    got = route53.test_dns_answer(HostedZoneId=zone_id, RecordName=domain, RecordType="A")
    answered = sorted(str(data) for data in got.get("RecordData", []))
    alb = sorted(resolve(alb_dns_name.rstrip(".")))
    return CheckResult(
        "name",
        False,
        f"{domain} answers {answered or 'nothing'} ({got.get('ResponseCode')}) in zone {zone_id}, "
        f"not the primary ALB {alb_dns_name} ({alb or 'it resolves to no address'})",
    )


# -- drift: the stateful stacks are IN_SYNC (BAK-8, ACC-3, ACC-4) -----------------------------------
#
# The calls and shapes, from the CloudFormation API reference (moto does not implement drift
# detection; tests/tooling/test_post_deploy.py pins them with a botocore Stubber):
# - DetectStackDrift -> StackDriftDetectionId:
#   https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DetectStackDrift.html
# - DescribeStackDriftDetectionStatus -> DetectionStatus (DETECTION_IN_PROGRESS | DETECTION_COMPLETE |
#   DETECTION_FAILED), DetectionStatusReason, StackDriftStatus (DRIFTED | IN_SYNC | UNKNOWN | NOT_CHECKED),
#   DriftedStackResourceCount. DETECTION_FAILED: detection failed for at least one resource; results
#   exist for the others:
#   https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackDriftDetectionStatus.html
# - DescribeStackResourceDrifts (StackResourceDriftStatusFilters, NextToken; no boto3 paginator) ->
#   StackResourceDrifts[]: LogicalResourceId, PhysicalResourceId, ResourceType,
#   StackResourceDriftStatus, PropertyDifferences[] (PropertyPath, ExpectedValue, ActualValue,
#   DifferenceType ADD | REMOVE | NOT_EQUAL):
#   https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackResourceDrifts.html ,
#   https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackResourceDrift.html ,
#   https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_PropertyDifference.html

DRIFTED_RESOURCE_STATUSES = ["MODIFIED", "DELETED"]


@dataclass(frozen=True)
class DriftWait:
    """The bounded wait for drift detection; tests inject the clock and the sleep."""

    timeout_s: float = 900.0
    poll_s: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


@dataclass
class _Detection:
    role: str
    stack: str
    detection_id: str | None = None
    status: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.error is not None or self.status.get("DetectionStatus") not in (None, "DETECTION_IN_PROGRESS")


def check_drift(
    cloudformation: Mapping[str, Any],
    stacks: Sequence[tuple[str, str]],
    *,
    wait: DriftWait = DriftWait(),
    out: TextIO | None = None,
) -> CheckResult:
    """Detect drift on every stack (all started first, then polled together within `wait.timeout_s`);
    only DETECTION_COMPLETE with IN_SYNC passes. `cloudformation` maps a role to its region's client."""
    detections = [_start(cloudformation[role], role, stack) for role, stack in stacks]
    pending = [d for d in detections if not d.finished]
    try:
        wait_until(
            "drift detection of " + ", ".join(d.stack for d in pending),
            lambda: _poll(cloudformation, pending),
            timeout_s=wait.timeout_s,
            poll_s=wait.poll_s,
            sleep=wait.sleep,
            clock=wait.clock,
            out=out,
        )
    except StepFailedError:
        for detection in detections:
            if not detection.finished:
                detection.error = f"no result within {wait.timeout_s:.0f} s (still DETECTION_IN_PROGRESS)"
    failures: list[str] = []
    details: list[str] = []
    for detection in detections:
        verdict, lines = _verdict(cloudformation[detection.role], detection)
        details += lines
        if verdict:
            failures.append(f"{detection.stack} {verdict}")
    if failures:
        return CheckResult("drift", False, "; ".join(failures), tuple(details))
    return CheckResult("drift", True, f"{len(detections)} stateful stacks IN_SYNC", tuple(details))


def _start(client: Any, role: str, stack: str) -> _Detection:
    try:
        return _Detection(role, stack, client.detect_stack_drift(StackName=stack)["StackDriftDetectionId"])
    except Exception as error:  # e.g. ValidationError: the stack does not exist
        return _Detection(role, stack, error=f"cannot start drift detection: {standby.describe_error(error)}")


def _poll(cloudformation: Mapping[str, Any], pending: Sequence[_Detection]) -> bool:
    for detection in pending:
        if not detection.finished:
            client = cloudformation[detection.role]
            detection.status = client.describe_stack_drift_detection_status(
                StackDriftDetectionId=detection.detection_id
            )
    return all(d.finished for d in pending)


def _verdict(client: Any, detection: _Detection) -> tuple[str, list[str]]:
    """('' when IN_SYNC, else what is wrong, in a few words), and the detail lines."""
    if detection.error is not None:
        return detection.error, [f"{detection.stack}: {detection.error}"]
    status = detection.status
    drift = status.get("StackDriftStatus", "UNKNOWN")
    if status["DetectionStatus"] == "DETECTION_COMPLETE" and drift == "IN_SYNC":
        return "", [f"{detection.stack}: IN_SYNC"]
    lines = _drifted_resources(client, detection.stack) if drift == "DRIFTED" else []
    if status["DetectionStatus"] == "DETECTION_FAILED":
        reason = status.get("DetectionStatusReason", "no reason given")
        verdict = f"DETECTION_FAILED ({reason}); {drift} where it could check"
    elif drift == "DRIFTED":
        verdict = f"DRIFTED ({status.get('DriftedStackResourceCount', len(lines))} resources)"
    else:
        verdict = drift
    return verdict, [f"{detection.stack}: {verdict}", *lines]


def _drifted_resources(client: Any, stack: str) -> list[str]:
    lines: list[str] = []
    token: str | None = None
    while True:
        args: dict[str, Any] = {"StackName": stack, "StackResourceDriftStatusFilters": DRIFTED_RESOURCE_STATUSES}
        if token:
            args["NextToken"] = token
        page = client.describe_stack_resource_drifts(**args)
        lines += [_describe_resource(resource) for resource in page["StackResourceDrifts"]]
        token = page.get("NextToken")
        if not token:
            return lines


def _describe_resource(resource: Mapping[str, Any]) -> str:
    """`Database (AWS::RDS::DBInstance au-production-primary-postgres) MODIFIED: /DeletionProtection ...`"""
    physical = resource.get("PhysicalResourceId", "")
    head = f"  {resource['LogicalResourceId']} ({resource['ResourceType']} {physical}".rstrip() + ")"
    differences = [
        f"{d['PropertyPath']} expected {d['ExpectedValue']}, actual {d['ActualValue']} ({d['DifferenceType']})"
        for d in resource.get("PropertyDifferences", [])
    ]
    return f"{head} {resource['StackResourceDriftStatus']}" + (": " + "; ".join(differences) if differences else "")


# -- replica: the DR database replicates the primary within the design RPO (DR-1) -------------------


def check_replica(rds: Any, cloudwatch: Any, topology: FailoverTopology, *, now: Any) -> CheckResult:
    """The DR instance is a read replica of the primary (ReadReplicaSourceDBInstanceIdentifier names
    it: its ARN, the replica being in another region), its read replication is not in error, and its
    ReplicaLag over the last 5 minutes (`standby.replica_lag_seconds`: the source is up, so the current
    lag) is at most the design database RPO. No datapoint is an unknown lag, and unknown is not a pass.

    The design RPO is `replica_lag_alarm_seconds` (config/model.py: "the design database RPO", at most
    DATABASE_RPO_MAX_SECONDS = 60 s, DR-1's "RPO <= 1 min"), not `failover_max_lag_seconds` (300 s in
    every environment: how much loss the failover runbook accepts before it asks for
    --accept-data-loss); a lag between the two passes the failover but not DR-1. `rds` and
    `cloudwatch` are the DR region's clients."""
    replica_id = topology.db_instance_id(DR)
    primary = (topology.db_instance_arn(PRIMARY), topology.db_instance_id(PRIMARY))
    instance = standby.describe_db(rds, replica_id)
    if instance is None:
        return CheckResult("replica", False, f"{replica_id} not found in {topology.dr_region}")
    if not standby.is_replica(instance):
        return CheckResult("replica", False, f"{replica_id} is a standalone instance, not a read replica")
    source = instance["ReadReplicaSourceDBInstanceIdentifier"]
    if source not in primary:
        return CheckResult("replica", False, f"{replica_id} replicates {source}, not the primary {primary[0]}")
    broken = _replication_not_normal(instance)
    if broken:
        return CheckResult("replica", False, f"{replica_id} {broken}")
    lag = standby.replica_lag_seconds(cloudwatch, replica_id, now)
    limit = topology.replica_lag_alarm_seconds
    if lag is None:
        return CheckResult("replica", False, f"{replica_id} ReplicaLag unknown (no datapoint in the last 5 minutes)")
    if lag > limit:
        return CheckResult("replica", False, f"{replica_id} ReplicaLag {lag:.0f} s > the design RPO {limit} s (DR-1)")
    return CheckResult(
        "replica", True, f"{replica_id} replicates {source}, ReplicaLag {lag:.0f} s <= the design RPO {limit} s"
    )


def _replication_not_normal(instance: Mapping[str, Any]) -> str:
    """'read replication error: ...' when RDS reports the replication abnormal (StatusInfos,
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBInstanceStatusInfo.html), else ''."""
    for info in instance.get("StatusInfos", []):
        if info.get("StatusType") == "read replication" and not info.get("Normal", True):
            return f"read replication {info.get('Status')}: {info.get('Message', 'no message')}"
    return ""

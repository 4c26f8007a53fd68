"""Monitoring rules: alarms notify the severity topics; the right alarms exist per component (OPS-2)."""

from __future__ import annotations

from collections.abc import Iterable

from policies.rules.cfn import as_list
from policies.rules.model import Resource, Result, StackView, fail, na, ok, rule


def _alarm_metrics(stack: StackView) -> set[str]:
    metrics: set[str] = set()
    for _, alarm in stack.in_region("AWS::CloudWatch::Alarm"):
        if alarm.prop("MetricName"):
            metrics.add(str(alarm.prop("MetricName")))
        for query in as_list(alarm.prop("Metrics")):
            name = ((query or {}).get("MetricStat") or {}).get("Metric", {}).get("MetricName")
            if name:
                metrics.add(str(name))
    return metrics


def _missing(stack: StackView, wanted: Iterable[tuple[str, ...]]) -> list[str]:
    metrics = _alarm_metrics(stack)
    return [" or ".join(options) for options in wanted if not metrics.intersection(options)]


@rule(
    "OPS2-AlarmNotifies",
    "OPS-2",
    ("AWS::CloudWatch::Alarm",),
    "OPS-2: developers are notified when the site is down; this alarm has no alarm action (no SNS severity topic).",
    "Seed 003: site monitored, developers notified when down.",
)
def alarm_notifies(resource: Resource, stack: StackView) -> Result:
    actions = as_list(resource.prop("AlarmActions"))
    return ok(f"{len(actions)} alarm action(s)") if actions else fail("AlarmActions is empty")


@rule(
    "OPS2-AlbAlarms",
    "OPS-2",
    ("AWS::ElasticLoadBalancingV2::LoadBalancer",),
    "OPS-2: 5xx responses and unhealthy hosts raise alarms; this load balancer's region has no such alarm.",
    "Seed 003: site monitored, developers notified when down.",
)
def alb_alarms(resource: Resource, stack: StackView) -> Result:
    missing = _missing(
        stack, [("HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count"), ("UnHealthyHostCount", "HealthyHostCount")]
    )
    return fail(f"no alarm on {'; '.join(missing)}") if missing else ok("5xx and host-health alarms present")


@rule(
    "OPS2-DatabaseAlarms",
    "OPS-2",
    ("AWS::RDS::DBInstance",),
    "OPS-2: database CPU, storage and replica lag raise alarms; this database's region lacks one of them.",
    "Seed 003: site monitored, developers notified when down.",
)
def database_alarms(resource: Resource, stack: StackView) -> Result:
    wanted = [("CPUUtilization",), ("FreeStorageSpace",)]
    if resource.prop("SourceDBInstanceIdentifier"):
        wanted.append(("ReplicaLag",))
    missing = _missing(stack, wanted)
    return fail(f"no alarm on {'; '.join(missing)}") if missing else ok("CPU and storage alarms present")


@rule(
    "OPS2-BackupFailureAlarm",
    "OPS-2",
    ("AWS::Backup::BackupPlan",),
    "OPS-2: failed backup jobs raise an alarm; this backup plan's region has no alarm or event rule on backup job "
    "failures.",
    "Seed 003: developers notified when something is down; a silent backup failure is an outage of BAK-1..5.",
)
def backup_failure_alarm(resource: Resource, stack: StackView) -> Result:
    if "NumberOfBackupJobsFailed" in _alarm_metrics(stack) or "NumberOfCopyJobsFailed" in _alarm_metrics(stack):
        return ok("alarm on failed backup jobs")
    for _, event_rule in stack.in_region("AWS::Events::Rule"):
        pattern = event_rule.prop("EventPattern") or {}
        if "aws.backup" in as_list(pattern.get("source")) and as_list(event_rule.prop("Targets")):
            return ok(f"event rule {event_rule.logical_id} on AWS Backup events")
    return fail("no NumberOfBackupJobsFailed alarm and no aws.backup event rule with a target")


@rule(
    "OPS2-HealthCheck",
    "OPS-2",
    ("AWS::ElasticLoadBalancingV2::LoadBalancer",),
    "OPS-2: the site is probed from outside by a Route 53 health check; this production deployment has none.",
    "Seed 003: developers notified when the site is down, not only when a component says so.",
)
def health_check(resource: Resource, stack: StackView) -> Result:
    if not stack.is_production or resource.prop("Scheme") == "internal":
        return na("only internet-facing production load balancers")
    checks = [r for s in stack.deployment_stacks or [stack] for r in s.of_type("AWS::Route53::HealthCheck")]
    return (
        ok(f"{len(checks)} Route 53 health check(s)")
        if checks
        else fail("no AWS::Route53::HealthCheck in the deployment")
    )


@rule(
    "OPS2-OutsideInAlarm",
    "OPS-2",
    ("AWS::ElasticLoadBalancingV2::LoadBalancer",),
    "OPS-2: someone is paged when the site is down from outside: a Synthetics canary in this region probes the "
    "load balancer and an alarm on its SuccessPercent has an action; this internet-facing load balancer has none.",
    "Seed 003: developers notified when the site is down; Route 53 health-check alarms would live in us-east-1, "
    "outside the AU/UK jurisdictions (HOST-2), so the probe that pages runs in the region.",
)
def outside_in_alarm(resource: Resource, stack: StackView) -> Result:
    if resource.prop("Scheme") == "internal":
        return na("internal load balancer")
    canaries = {c.logical_id for _, c in stack.in_region("AWS::Synthetics::Canary")}
    if not canaries:
        return fail("no AWS::Synthetics::Canary in this region")
    for _, alarm in stack.in_region("AWS::CloudWatch::Alarm"):
        if alarm.prop("Namespace") != "CloudWatchSynthetics" or alarm.prop("MetricName") != "SuccessPercent":
            continue
        if as_list(alarm.prop("AlarmActions")):
            return ok(f"alarm {alarm.logical_id} on a canary's SuccessPercent")
    return fail("no alarm with an action on a canary's SuccessPercent")


RULES = [alarm_notifies, alb_alarms, database_alarms, backup_failure_alarm, health_check, outside_in_alarm]

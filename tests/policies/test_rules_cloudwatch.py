"""Tests of policies/rules/cloudwatch.py (Monitoring rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from typing import Any

import pytest

from policies.rules import cloudwatch
from tests.policies.rulekit import NA, C, N, check, linked, res, stack


def test_ops2_monitoring_rules() -> None:
    def alarm(metric: str) -> Any:
        return res(f"A{metric}", "AWS::CloudWatch::Alarm", {"MetricName": metric, "AlarmActions": [{"Ref": "Topic"}]})

    alb = res("Alb", "AWS::ElasticLoadBalancingV2::LoadBalancer", {})
    watched = stack(
        alb, alarm("HTTPCode_Target_5XX_Count"), alarm("UnHealthyHostCount"), res("H", "AWS::Route53::HealthCheck")
    )
    assert check(cloudwatch.alb_alarms, alb, watched) is C
    assert check(cloudwatch.alb_alarms, alb) is N
    assert check(cloudwatch.health_check, alb, watched) is C
    assert check(cloudwatch.health_check, alb) is N
    assert check(cloudwatch.alarm_notifies, alarm("CPUUtilization")) is C
    assert check(cloudwatch.alarm_notifies, res("A", "AWS::CloudWatch::Alarm", {})) is N
    db = res("Db", "AWS::RDS::DBInstance", {})
    assert check(cloudwatch.database_alarms, db, stack(db, alarm("CPUUtilization"), alarm("FreeStorageSpace"))) is C
    assert check(cloudwatch.database_alarms, db) is N
    plan = res("P", "AWS::Backup::BackupPlan", {})
    assert check(cloudwatch.backup_failure_alarm, plan, stack(plan, alarm("NumberOfBackupJobsFailed"))) is C
    assert check(cloudwatch.backup_failure_alarm, plan) is N


@pytest.mark.parametrize(
    "resources,expected",
    [
        pytest.param(
            [
                res("Canary", "AWS::Synthetics::Canary"),
                res(
                    "A",
                    "AWS::CloudWatch::Alarm",
                    {"Namespace": "CloudWatchSynthetics", "MetricName": "SuccessPercent", "AlarmActions": ["t"]},
                ),
            ],
            C,
            id="canary-with-paging-alarm",
        ),
        pytest.param([res("Canary", "AWS::Synthetics::Canary")], N, id="canary-without-alarm"),
        pytest.param(
            [
                res("Canary", "AWS::Synthetics::Canary"),
                res(
                    "A", "AWS::CloudWatch::Alarm", {"Namespace": "CloudWatchSynthetics", "MetricName": "SuccessPercent"}
                ),
            ],
            N,
            id="alarm-without-action",
        ),
        pytest.param(
            [res("A", "AWS::CloudWatch::Alarm", {"Namespace": "CloudWatchSynthetics", "MetricName": "SuccessPercent"})],
            N,
            id="no-canary",
        ),
    ],
)
def test_ops2_outside_in_alarm(resources: list[Any], expected: object) -> None:
    alb = res("Alb", "AWS::ElasticLoadBalancingV2::LoadBalancer", {"Scheme": "internet-facing"})
    view = stack(alb, *resources)
    assert check(cloudwatch.outside_in_alarm, alb, view) is expected
    internal = res("Int", "AWS::ElasticLoadBalancingV2::LoadBalancer", {"Scheme": "internal"})
    assert check(cloudwatch.outside_in_alarm, internal, view) is NA


def _alarm(metric: str, namespace: str = "AWS/Backup") -> Any:
    return res(
        f"A{metric}",
        "AWS::CloudWatch::Alarm",
        {"Namespace": namespace, "MetricName": metric, "AlarmActions": [{"Ref": "Topic"}]},
    )


def _event_rule(source: str, targets: list[Any]) -> Any:
    return res("E", "AWS::Events::Rule", {"EventPattern": {"source": [source]}, "Targets": targets})


@pytest.mark.parametrize(
    ("watchers", "expected"),
    [
        pytest.param([_alarm("NumberOfBackupJobsFailed")], C, id="OPS2-BackupFailureAlarm-backup-jobs-alarm"),
        pytest.param([_alarm("NumberOfCopyJobsFailed")], C, id="OPS2-BackupFailureAlarm-copy-jobs-alarm"),
        pytest.param([_alarm("NumberOfBackupJobsCompleted")], N, id="OPS2-BackupFailureAlarm-other-metric"),
        pytest.param([_event_rule("aws.backup", [{"Arn": "t"}])], C, id="OPS2-BackupFailureAlarm-event-rule"),
        pytest.param([_event_rule("aws.backup", [])], N, id="OPS2-BackupFailureAlarm-event-rule-without-target"),
        pytest.param([_event_rule("aws.ec2", [{"Arn": "t"}])], N, id="OPS2-BackupFailureAlarm-event-rule-other-source"),
    ],
)
def test_ops2_backup_failure_alarm(watchers: list[Any], expected: object) -> None:
    plan = res("P", "AWS::Backup::BackupPlan", {})
    assert check(cloudwatch.backup_failure_alarm, plan, stack(plan, *watchers)) is expected


@pytest.mark.parametrize(
    ("name", "scheme", "expected"),
    [
        pytest.param("au-production", "internet-facing", C, id="OPS2-HealthCheck-in-a-sibling-stack"),
        pytest.param("au-production", "internal", NA, id="OPS2-HealthCheck-internal-load-balancer"),
        pytest.param("au-development", "internet-facing", NA, id="OPS2-HealthCheck-non-production"),
    ],
)
def test_ops2_health_check(name: str, scheme: str, expected: object) -> None:
    alb = res("Alb", "AWS::ElasticLoadBalancingV2::LoadBalancer", {"Scheme": scheme})
    view = linked(stack(alb, name=name), stack(res("H", "AWS::Route53::HealthCheck"), name=name))
    assert check(cloudwatch.health_check, alb, view) is expected


@pytest.mark.parametrize(
    ("namespace", "metric", "expected"),
    [
        pytest.param("CloudWatchSynthetics", "SuccessPercent", C, id="OPS2-OutsideInAlarm-success-percent"),
        pytest.param("CloudWatchSynthetics", "Duration", N, id="OPS2-OutsideInAlarm-other-canary-metric"),
        pytest.param("AWS/ApplicationELB", "SuccessPercent", N, id="OPS2-OutsideInAlarm-other-namespace"),
    ],
)
def test_ops2_outside_in_alarm_watches_the_canary_success(namespace: str, metric: str, expected: object) -> None:
    alb = res("Alb", "AWS::ElasticLoadBalancingV2::LoadBalancer", {"Scheme": "internet-facing"})
    view = stack(alb, res("Canary", "AWS::Synthetics::Canary"), _alarm(metric, namespace))
    assert check(cloudwatch.outside_in_alarm, alb, view) is expected


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param({"AlarmActions": [{"Ref": "Topic"}]}, C, id="OPS2-AlarmNotifies-with-action"),
        pytest.param({"AlarmActions": []}, N, id="OPS2-AlarmNotifies-no-action"),
    ],
)
def test_ops2_alarm_notifies(props: dict[str, Any], expected: object) -> None:
    assert check(cloudwatch.alarm_notifies, res("A", "AWS::CloudWatch::Alarm", props)) is expected


@pytest.mark.parametrize(
    ("metrics", "expected"),
    [
        pytest.param(["HTTPCode_Target_5XX_Count", "UnHealthyHostCount"], C, id="OPS2-AlbAlarms-target-5xx-unhealthy"),
        pytest.param(["HTTPCode_ELB_5XX_Count", "HealthyHostCount"], C, id="OPS2-AlbAlarms-elb-5xx-healthy"),
        pytest.param(["UnHealthyHostCount"], N, id="OPS2-AlbAlarms-no-5xx-alarm"),
        pytest.param(["HTTPCode_Target_5XX_Count"], N, id="OPS2-AlbAlarms-no-host-health-alarm"),
    ],
)
def test_ops2_alb_alarms(metrics: list[str], expected: object) -> None:
    alb = res("Alb", "AWS::ElasticLoadBalancingV2::LoadBalancer", {})
    assert check(cloudwatch.alb_alarms, alb, stack(alb, *(_alarm(m) for m in metrics))) is expected


@pytest.mark.parametrize(
    ("replica", "metrics", "expected"),
    [
        pytest.param(False, ["CPUUtilization", "FreeStorageSpace"], C, id="OPS2-DatabaseAlarms-cpu-and-storage"),
        pytest.param(False, ["CPUUtilization"], N, id="OPS2-DatabaseAlarms-no-storage-alarm"),
        pytest.param(False, ["FreeStorageSpace"], N, id="OPS2-DatabaseAlarms-no-cpu-alarm"),
        pytest.param(True, ["CPUUtilization", "FreeStorageSpace"], N, id="OPS2-DatabaseAlarms-replica-without-lag"),
        pytest.param(
            True, ["CPUUtilization", "FreeStorageSpace", "ReplicaLag"], C, id="OPS2-DatabaseAlarms-replica-with-lag"
        ),
    ],
)
def test_ops2_database_alarms(replica: bool, metrics: list[str], expected: object) -> None:
    db = res("Db", "AWS::RDS::DBInstance", {"SourceDBInstanceIdentifier": "arn"} if replica else {})
    assert check(cloudwatch.database_alarms, db, stack(db, *(_alarm(m) for m in metrics))) is expected

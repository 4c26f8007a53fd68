"""Tests of policies/rules/cloudwatch.py (Monitoring rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from typing import Any

import pytest

from policies.rules import cloudwatch
from tests.policies.rulekit import NA, C, N, check, res, stack


def test_monitoring_rules() -> None:
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

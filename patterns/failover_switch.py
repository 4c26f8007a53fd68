"""The failover switch (DR-1): a metric and an alarm in the DR region that a Route 53
health check watches, after AWS's "standby takes over primary" pattern.

Failing over must work while the primary region and Route 53's control plane are
down. Publishing a metric value (`PutMetricData`, CloudWatch's data plane in the DR
region) is the one action the failover automation takes to move traffic: the alarm
fires, Route 53's health checkers see it, the PRIMARY failover record turns unhealthy
and Route 53 answers with the SECONDARY record. Missing data keeps the last state
(`TreatMissingData: ignore`), so the switch holds until the next value is published.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from config.topology import SWITCH_METRIC, SWITCH_NAMESPACE

SWITCH_PERIOD_SECONDS = 60


@dataclass(frozen=True)
class FailoverSwitchProps:
    alarm_name: str
    dimensions: Mapping[str, str]
    notify: sns.ITopic | None = None  # told when traffic moves, both ways


class FailoverSwitch(Construct):
    def __init__(self, scope: Construct, id: str, *, props: FailoverSwitchProps) -> None:
        super().__init__(scope, id)
        self.metric = cloudwatch.Metric(
            namespace=SWITCH_NAMESPACE,
            metric_name=SWITCH_METRIC,
            dimensions_map=dict(props.dimensions),
            statistic="Maximum",
            period=cdk.Duration.seconds(SWITCH_PERIOD_SECONDS),
        )
        self.alarm = cloudwatch.Alarm(
            self,
            "Alarm",
            alarm_name=props.alarm_name,
            alarm_description=(
                "Sev1: the failover switch (DR-1). ALARM = traffic served by the DR region. Set only by "
                "runbooks/failover.py and runbooks/failback.py (PutMetricData in this region)."
            ),
            metric=self.metric,
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.IGNORE,
        )
        if props.notify is not None:
            action = cloudwatch_actions.SnsAction(props.notify)
            self.alarm.add_alarm_action(action)
            self.alarm.add_ok_action(action)

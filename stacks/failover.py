"""FailoverSwitchStack: the switch that moves the public name to the DR region (DR-1).

Part of the DR foundation: the primary's PRIMARY failover record is guarded by a
health check on this alarm, so the alarm exists before the primary deploys.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_sns as sns
from constructs import Construct

from config import Deployment
from config.topology import DR, FailoverTopology
from patterns.failover_switch import FailoverSwitch, FailoverSwitchProps
from stacks.base import PlatformStack


class FailoverSwitchStack(PlatformStack):
    def __init__(self, scope: Construct, id: str, *, deployment: Deployment, topics: Mapping[int, sns.ITopic]) -> None:
        super().__init__(
            scope,
            id,
            deployment=deployment,
            role=DR,
            summary="the failover switch: metric and alarm watched by the PRIMARY record's health check (DR-1)",
        )
        topology = FailoverTopology.of(deployment)
        self.switch = FailoverSwitch(
            self,
            "FailoverSwitch",
            props=FailoverSwitchProps(
                alarm_name=topology.switch_alarm_name,
                dimensions=topology.switch_dimensions,
                notify=topics[1],
            ),
        )
        cdk.CfnOutput(self, "SwitchAlarmName", value=self.switch.alarm.alarm_name)

"""MonitoringStack: one CloudWatch dashboard of the deployment's primary region (OPS-2).

Built last in the primary stage. Shows the data tier (PostgreSQL, Redis) and, when
a web tier exists, its load balancer. The alarms themselves live beside the
resources they watch (DataStack, the web stack); the dashboard shows them too.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from config import Deployment
from stacks.base import PlatformStack
from stacks.data import DataStack

FIVE_MINUTES = cdk.Duration.minutes(5)
WIDTH = 8


class MonitoringStack(PlatformStack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        deployment: Deployment,
        role: str,
        data: DataStack,
        load_balancer: elbv2.IApplicationLoadBalancer | None = None,
        extra_alarms: Sequence[cloudwatch.IAlarm] = (),
    ) -> None:
        super().__init__(
            scope,
            id,
            deployment=deployment,
            role=role,
            summary="operations dashboard: data tier and web tier metrics (OPS-2)",
        )
        self.dashboard = self._dashboard()
        self._alarm_row([*data.alarms.values(), *extra_alarms])
        if load_balancer is not None:
            self._web_row(load_balancer)
        self._postgres_row(data)
        self._redis_row(data)

    def _dashboard(self) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{self.name_prefix}-operations",
            default_interval=cdk.Duration.hours(3),
        )
        # cfn-lint 1.51's resource spec has no Tags on AWS::CloudWatch::Dashboard (E3002); a
        # dashboard holds no data, so it goes untagged rather than risk a rejected template.
        cfn_dashboard = dashboard.node.default_child
        assert isinstance(cfn_dashboard, cdk.CfnResource)
        cfn_dashboard.add_property_deletion_override("Tags")
        return dashboard

    def _alarm_row(self, alarms: list[cloudwatch.IAlarm]) -> None:
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms (description starts with severity)", alarms=alarms, width=24)
        )

    def _postgres_row(self, data: DataStack) -> None:
        db = data.database
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(markdown=f"## PostgreSQL `{data.postgres.instance_identifier}`", width=24, height=1),
            cloudwatch.GraphWidget(
                title="DB CPU %", left=[db.metric_cpu_utilization(period=FIVE_MINUTES)], width=WIDTH
            ),
            cloudwatch.GraphWidget(
                title="DB free storage (bytes)",
                left=[db.metric_free_storage_space(period=FIVE_MINUTES, statistic="Minimum")],
                width=WIDTH,
            ),
            cloudwatch.GraphWidget(
                title="DB connections",
                left=[db.metric_database_connections(period=FIVE_MINUTES, statistic="Maximum")],
                width=WIDTH,
            ),
            cloudwatch.GraphWidget(
                title="DB latency (s)",
                left=[db.metric("ReadLatency", period=FIVE_MINUTES), db.metric("WriteLatency", period=FIVE_MINUTES)],
                width=WIDTH,
            ),
            cloudwatch.GraphWidget(
                title="DB freeable memory (bytes)",
                left=[db.metric_freeable_memory(period=FIVE_MINUTES, statistic="Minimum")],
                width=WIDTH,
            ),
            cloudwatch.GraphWidget(
                title="DB IOPS",
                left=[db.metric_read_iops(period=FIVE_MINUTES), db.metric_write_iops(period=FIVE_MINUTES)],
                width=WIDTH,
            ),
        )

    def _redis_row(self, data: DataStack) -> None:
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(markdown=f"## Redis `{data.cache.replication_group_id}`", width=24, height=1),
            cloudwatch.GraphWidget(
                title="Redis engine CPU % (worst node)",
                left=[data.cache_metric("EngineCPUUtilization", "Maximum")],
                width=WIDTH,
            ),
            cloudwatch.GraphWidget(
                title="Redis evictions (worst node)", left=[data.cache_metric("Evictions", "Sum")], width=WIDTH
            ),
            cloudwatch.GraphWidget(
                title="Redis memory used % (worst node)",
                left=[data.cache_metric("DatabaseMemoryUsagePercentage", "Maximum")],
                width=WIDTH,
            ),
        )

    def _web_row(self, load_balancer: elbv2.IApplicationLoadBalancer) -> None:
        metrics = load_balancer.metrics
        self.dashboard.add_widgets(
            cloudwatch.TextWidget(markdown="## Web tier (Application Load Balancer)", width=24, height=1),
            cloudwatch.GraphWidget(title="Requests", left=[metrics.request_count(period=FIVE_MINUTES)], width=WIDTH),
            cloudwatch.GraphWidget(
                title="5xx (load balancer and targets)",
                left=[
                    metrics.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=FIVE_MINUTES),
                    metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=FIVE_MINUTES),
                ],
                width=WIDTH,
            ),
            cloudwatch.GraphWidget(
                title="Target response time (p95, s)",
                left=[metrics.target_response_time(period=FIVE_MINUTES, statistic="p95")],
                width=WIDTH,
            ),
        )

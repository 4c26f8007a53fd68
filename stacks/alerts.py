"""AlertsStack: the severity topics every alarm of the deployment publishes to (OPS-2, OPS-4)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from config import Deployment
from patterns.alerting import SeverityTopics, SeverityTopicsProps, severity_label
from patterns.security_alerts import RegionalSecurityRules, RegionalSecurityRulesProps
from stacks.base import PlatformStack


class AlertsStack(PlatformStack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        deployment: Deployment,
        role: str,
        system_key: kms.IKey,
    ) -> None:
        super().__init__(
            scope,
            id,
            deployment=deployment,
            role=role,
            summary="encrypted SNS topic per severity 1-4; the security events that page (OPS-2, OPS-4, ACC-1)",
        )
        self.severity_topics = SeverityTopics(
            self,
            "SeverityTopics",
            props=SeverityTopicsProps(
                name_prefix=self.name_prefix,
                key=system_key,
                alarm_email=deployment.alarm_email,
            ),
        )
        self.topics: dict[int, sns.ITopic] = dict(self.severity_topics.topics)
        for severity, topic in self.topics.items():
            cdk.CfnOutput(self, f"{severity_label(severity)}TopicArn", value=topic.topic_arn)
        # Every region, so a DR-region event pages while the primary is down (ACC-1, ACC-3, ACC-4).
        self.security_rules = RegionalSecurityRules(
            self,
            "SecurityEvents",
            props=RegionalSecurityRulesProps(
                name_prefix=self.name_prefix,
                break_glass_role_name=deployment.break_glass_role_name,
                topics=self.topics,
            ),
        )

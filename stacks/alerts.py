"""AlertsStack: the severity topics every alarm of the deployment publishes to (OPS-2, OPS-4)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from config import Deployment
from patterns.alerting import SeverityTopics, SeverityTopicsProps, severity_label
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
            summary="encrypted SNS topic per incident severity 1-4 (OPS-2, OPS-4)",
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

"""Severity-routed notifications: one encrypted SNS topic per incident severity (OPS-2, OPS-4).

Every alarm on the platform names its severity and publishes to that severity's
topic, so the on-call rota can route Sev1 to a pager and Sev4 to a daily review.
The response times come from the incident matrix of clause OPS-4.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from patterns.keys import allow_auto_scaling_service_role

SEVERITIES: Final[tuple[int, ...]] = (1, 2, 3, 4)

# OPS-4 incident matrix: (start work within, workaround within, fix within).
RESPONSE_TIMES: Final[dict[int, tuple[str, str, str]]] = {
    1: ("1 hour", "4 hours", "7 hours"),
    2: ("2 hours", "48 hours", "14 days"),
    3: ("72 hours", "7 days", "30 days"),
    4: ("next planned release", "next planned release", "next planned release"),
}

# Severities whose topic pages the on-call address by e-mail (Sev3/Sev4 are reviewed daily).
PAGED_SEVERITIES: Final[tuple[int, ...]] = (1, 2)

# The AWS services that publish alarms and events into the topics.
PUBLISHERS: Final[tuple[str, ...]] = ("cloudwatch.amazonaws.com", "events.amazonaws.com")


def severity_label(severity: int) -> str:
    """`Sev1`: the prefix every alarm description starts with (OPS-4)."""
    if severity not in SEVERITIES:
        raise ValueError(f"severity {severity} unknown; allowed: {', '.join(map(str, SEVERITIES))}")
    return f"Sev{severity}"


def severity_summary(severity: int) -> str:
    start, workaround, fix = RESPONSE_TIMES[severity]
    return f"{severity_label(severity)}: work starts within {start}, workaround within {workaround}, fix within {fix}"


@dataclass(frozen=True)
class SeverityTopicsProps:
    name_prefix: str  # e.g. "au-production-primary"
    key: kms.IKey  # the `system` data-class key
    alarm_email: str


class SeverityTopics(Construct):
    """SNS topics `<prefix>-sev1` .. `<prefix>-sev4`.

    - encrypted with the given customer-managed key (ENC-1); the key policy admits
      CloudWatch alarms and EventBridge of this account only, so that they can
      publish to an encrypted topic;
    - topic policies deny any request not sent over TLS (ENC-3) and let only
      CloudWatch and EventBridge of this account publish;
    - Sev1 and Sev2 are e-mailed to the deployment's alarm address (OPS-2).
    """

    def __init__(self, scope: Construct, id: str, *, props: SeverityTopicsProps) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.topics: dict[int, sns.Topic] = {}
        for severity in SEVERITIES:
            label = severity_label(severity)
            topic = sns.Topic(
                self,
                f"{label}Topic",
                topic_name=f"{props.name_prefix}-{label.lower()}",
                display_name=f"{props.name_prefix} {label}"[:100],
                master_key=props.key,
                enforce_ssl=True,
            )
            for publisher in PUBLISHERS:
                topic.add_to_resource_policy(
                    iam.PolicyStatement(
                        sid=f"Allow{publisher.split('.')[0].capitalize()}Publish",
                        principals=[iam.ServicePrincipal(publisher)],
                        actions=["sns:Publish"],
                        resources=[topic.topic_arn],
                        conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
                    )
                )
            if severity in PAGED_SEVERITIES:
                topic.add_subscription(subscriptions.EmailSubscription(props.alarm_email))
            self.topics[severity] = topic

        # The key lives in the Keys stack; this statement lands in its key policy.
        props.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAlarmAndEventPublishersToEncryptedTopics",
                principals=[iam.ServicePrincipal(p) for p in PUBLISHERS],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )


def severity_alarm(
    scope: Construct,
    id: str,
    *,
    topics: Mapping[int, sns.ITopic],
    severity: int,
    summary: str,
    metric: cloudwatch.IMetric,
    threshold: float,
    comparison: cloudwatch.ComparisonOperator,
    evaluation_periods: int = 3,
    datapoints_to_alarm: int | None = None,
    treat_missing_data: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.MISSING,
    alarm_name: str | None = None,
    with_response_times: bool = True,
    notify_ok: bool = True,
) -> cloudwatch.Alarm:
    """The platform's one way to build an alarm: its description starts with its severity
    (`Sev2: <summary>`, then the OPS-4 response times unless `with_response_times` is off), and it
    publishes ALARM (and OK, unless `notify_ok` is off) to that severity's topic (OPS-2)."""
    if severity not in topics:
        raise ValueError(f"[OPS-2] no {severity_label(severity)} topic for alarm {id}")
    description = f"{severity_label(severity)}: {summary}"
    if with_response_times:
        description = f"{description}. {severity_summary(severity)}."
    alarm = cloudwatch.Alarm(
        scope,
        id,
        alarm_name=alarm_name,
        metric=metric,
        threshold=threshold,
        comparison_operator=comparison,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=datapoints_to_alarm,
        treat_missing_data=treat_missing_data,
        alarm_description=description,
    )
    action = cloudwatch_actions.SnsAction(topics[severity])
    alarm.add_alarm_action(action)
    if notify_ok:
        alarm.add_ok_action(action)
    return alarm


def allow_auto_scaling_notifications(key: kms.Key, stack: cdk.Stack) -> None:
    """The key of the encrypted severity topics must admit the Auto Scaling service role, which
    publishes the web tier's launch and terminate notifications."""
    allow_auto_scaling_service_role(key, stack, "AllowAutoScalingNotificationsToEncryptedTopics", grants=False)


# Secrets Manager logs a failed replication as a service event, `ReplicationFailed`
# (https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html, "Log entries for
# replication"; EventBridge receives it as https://docs.aws.amazon.com/secretsmanager/latest/userguide/
# monitoring-eventbridge.html describes). The page does not say which region logs it, so both regions of a
# replicated secret carry this rule.
SECRET_REPLICATION_FAILED_PATTERN: Final[dict[str, object]] = {
    "source": ["aws.secretsmanager"],
    "detail-type": ["AWS Service Event via CloudTrail"],
    "detail": {"eventSource": ["secretsmanager.amazonaws.com"], "eventName": ["ReplicationFailed"]},
}


def secret_replication_failed_rule(
    scope: Construct, id: str, *, topics: Mapping[int, sns.ITopic], rule_name: str
) -> events.CfnRule:
    """Sev2 when Secrets Manager fails to replicate a secret of this account (DR-1: a stale DR copy of the
    master secret is a password the promoted database refuses). The topics admit EventBridge already."""
    topic = topics[2]
    return events.CfnRule(
        scope,
        id,
        name=rule_name,
        description=f"Sev2: a Secrets Manager replica failed to replicate (DR-1). {severity_summary(2)}.",
        state="ENABLED",
        event_pattern=SECRET_REPLICATION_FAILED_PATTERN,
        targets=[events.CfnRule.TargetProperty(id="Sev2Topic", arn=topic.topic_arn)],
    )

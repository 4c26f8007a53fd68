"""Security alerting (ACC-1, ACC-3, ACC-4, ENC-1, OPS-2): the CloudTrail events that page.

Two mechanisms, because CloudTrail delivers an event to EventBridge only in the region where the
call was made, and the calls of global services (IAM, the global STS endpoint, console sign-in)
land in us-east-1, where no deployment runs (HOST-2)
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event.html#eb-service-event-cloudtrail):

- `RegionalSecurityRules`: one EventBridge rule per regional event, in every region of a deployment
  (Alerts stack), so a DR-region event pages in the DR region even while the primary is down;
- `GlobalSecurityFilters`: CloudWatch Logs metric filters on the multi-region trail's log group
  (Audit stack, primary region), which receives the global services' events too
  (`include_global_service_events`), with one alarm each.

Each alert names the severity topic of its region: Sev1 for what can destroy data or blind the
audit, Sev2 for what must be reviewed the same day (OPS-4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk.interfaces import aws_events as events_refs
from constructs import Construct

from patterns.alerting import severity_alarm, severity_label

CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"
METRIC_NAMESPACE = "Platform/Security"
_FIVE_MINUTES = cdk.Duration.minutes(5)


@dataclass(frozen=True)
class RegionalSecurityEvent:
    """An API call recorded in the region where it was made (EventBridge rule)."""

    id: str
    severity: int
    clause: str
    summary: str
    event_source: str  # e.g. "kms.amazonaws.com"
    event_names: tuple[str, ...]
    request_parameters: Mapping[str, Any] | None = None

    def pattern(self) -> dict[str, Any]:
        detail: dict[str, Any] = {"eventSource": [self.event_source], "eventName": list(self.event_names)}
        if self.request_parameters:
            detail["requestParameters"] = dict(self.request_parameters)
        return {
            "source": [f"aws.{self.event_source.split('.')[0]}"],
            "detail-type": [CLOUDTRAIL_DETAIL_TYPE],
            "detail": detail,
        }


@dataclass(frozen=True)
class GlobalSecurityEvent:
    """A call of a global service, matched in the trail's log group (metric filter syntax:
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html)."""

    id: str
    severity: int
    clause: str
    summary: str
    filter_pattern: str


def regional_security_events(break_glass_role_name: str) -> tuple[RegionalSecurityEvent, ...]:
    return (
        RegionalSecurityEvent(
            "BreakGlassAssumed",
            1,
            "ACC-1",
            "the break-glass role was assumed through a regional STS endpoint",
            "sts.amazonaws.com",
            ("AssumeRole",),
            {"roleArn": [{"suffix": f":role/{break_glass_role_name}"}]},
        ),
        RegionalSecurityEvent(
            "KeyDeletionOrDisable",
            1,
            "ENC-1",
            "a KMS key was scheduled for deletion, disabled or lost its key material",
            "kms.amazonaws.com",
            ("ScheduleKeyDeletion", "DisableKey", "DeleteImportedKeyMaterial"),
        ),
        RegionalSecurityEvent(
            "KeyPolicyChanged",
            2,
            "ENC-2",
            "a KMS key policy was replaced",
            "kms.amazonaws.com",
            ("PutKeyPolicy",),
        ),
        RegionalSecurityEvent(
            "AuditTrailChanged",
            1,
            "ACC-3",
            "CloudTrail logging was stopped, a trail deleted or its settings or selectors changed",
            "cloudtrail.amazonaws.com",
            ("StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors"),
        ),
        RegionalSecurityEvent(
            "BackupVaultChanged",
            1,
            "ACC-4",
            "a backup vault's access policy, lock or notifications changed, or a vault was deleted",
            "backup.amazonaws.com",
            (
                "PutBackupVaultAccessPolicy",
                "DeleteBackupVaultAccessPolicy",
                "PutBackupVaultLockConfiguration",
                "DeleteBackupVaultLockConfiguration",
                "DeleteBackupVault",
                "DeleteBackupVaultNotifications",
            ),
        ),
    )


def global_security_events(
    break_glass_role_name: str, boundary_policy_names: Sequence[str], platform_regions: Sequence[str]
) -> tuple[GlobalSecurityEvent, ...]:
    boundaries = " || ".join(f'($.requestParameters.policyArn = "*:policy/{name}")' for name in boundary_policy_names)
    outside_platform_regions = " && ".join(f'($.awsRegion != "{region}")' for region in platform_regions)
    return (
        GlobalSecurityEvent(
            "RootActivity",
            1,
            "ACC-1",
            "the account's root user signed in or made a call",
            '{ ($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS) '
            '&& ($.eventType != "AwsServiceEvent") }',
        ),
        GlobalSecurityEvent(
            "ConsoleSignInWithoutMfa",
            2,
            "ACC-1",
            "a console sign-in succeeded without MFA",
            '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") '
            '&& ($.responseElements.ConsoleLogin = "Success") }',
        ),
        GlobalSecurityEvent(
            "BreakGlassAssumedGlobally",
            1,
            "ACC-1",
            "the break-glass role was assumed through the global STS endpoint",
            # The platform regions' endpoints are matched by their own EventBridge rules; the global
            # endpoint's events, and any other region's, are left to this filter.
            '{ ($.eventSource = "sts.amazonaws.com") && ($.eventName = "AssumeRole") '
            f"&& {outside_platform_regions} "
            f'&& ($.requestParameters.roleArn = "*:role/{break_glass_role_name}") }}',
        ),
        GlobalSecurityEvent(
            "BoundaryChanged",
            1,
            "ACC-1",
            "a permissions boundary (team, workload or CDK execution) was edited or a role's boundary removed or "
            "replaced",
            '{ ($.eventSource = "iam.amazonaws.com") && ((($.eventName = "CreatePolicyVersion") '
            '|| ($.eventName = "SetDefaultPolicyVersion") || ($.eventName = "DeletePolicy")) '
            f"&& ({boundaries})) "
            '|| ($.eventName = "DeleteRolePermissionsBoundary") || ($.eventName = "PutRolePermissionsBoundary") }',
        ),
    )


@dataclass(frozen=True)
class RegionalSecurityRulesProps:
    name_prefix: str
    break_glass_role_name: str
    topics: Mapping[int, sns.ITopic]


class RegionalSecurityRules(Construct):
    """One EventBridge rule per regional security event, publishing to its severity topic."""

    def __init__(self, scope: Construct, id: str, *, props: RegionalSecurityRulesProps) -> None:
        super().__init__(scope, id)
        self.rules: dict[str, events.Rule] = {}
        for event in regional_security_events(props.break_glass_role_name):
            if event.severity not in props.topics:
                raise ValueError(f"[OPS-2] no {severity_label(event.severity)} topic for {event.id}")
            rule = events.Rule(
                self,
                event.id,
                rule_name=f"{props.name_prefix}-security-{event.id}",
                description=f"{severity_label(event.severity)} ({event.clause}): {event.summary}",
                event_pattern=_event_pattern(event.pattern()),
            )
            rule.add_target(TopicTarget(props.topics[event.severity]))
            self.rules[event.id] = rule


@jsii.implements(events.IRuleTarget)
class TopicTarget:
    """Publish to the topic without adding to its policy: SeverityTopics' policy already admits this
    account's EventBridge (aws:SourceAccount), and CDK's `SnsTopic` target would add a second,
    unconditioned statement. (Importing the topic by its ARN token, as before, also avoided it but
    left the rule's target in an unresolved environment, which CDK warned about on every synth.)"""

    def __init__(self, topic: sns.ITopic) -> None:
        self.topic = topic

    def bind(self, rule: events_refs.IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self.topic.topic_arn)


def _event_pattern(pattern: dict[str, Any]) -> events.EventPattern:
    return events.EventPattern(source=pattern["source"], detail_type=pattern["detail-type"], detail=pattern["detail"])


@dataclass(frozen=True)
class GlobalSecurityFiltersProps:
    name_prefix: str
    log_group: logs.ILogGroup
    break_glass_role_name: str
    boundary_policy_names: tuple[str, ...]  # every boundary policy of the deployment (names, not ARNs)
    platform_regions: tuple[str, ...]
    topics: Mapping[int, sns.ITopic]


class GlobalSecurityFilters(Construct):
    """A metric filter and an alarm per global security event, on the trail's log group."""

    def __init__(self, scope: Construct, id: str, *, props: GlobalSecurityFiltersProps) -> None:
        super().__init__(scope, id)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for event in global_security_events(
            props.break_glass_role_name, props.boundary_policy_names, props.platform_regions
        ):
            metric_name = f"{props.name_prefix}-{event.id}"
            logs.MetricFilter(
                self,
                f"{event.id}Filter",
                log_group=props.log_group,
                filter_pattern=logs.FilterPattern.literal(event.filter_pattern),
                metric_namespace=METRIC_NAMESPACE,
                metric_name=metric_name,
                metric_value="1",
            )
            self.alarms[event.id] = severity_alarm(
                self,
                f"{event.id}Alarm",
                topics=props.topics,
                severity=event.severity,
                summary=f"({event.clause}) {event.summary}",
                metric=cloudwatch.Metric(
                    namespace=METRIC_NAMESPACE,
                    metric_name=metric_name,
                    statistic="Sum",
                    period=_FIVE_MINUTES,
                ),
                threshold=1,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                # No matching event writes no datapoint: that is the normal, quiet state.
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_name=f"{props.name_prefix}-security-{event.id}",
                notify_ok=False,
            )

"""A regional AWS WAFv2 web ACL for the internet-facing load balancer, with encrypted logs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

# AWS managed rule groups, in evaluation order (priority = position).
MANAGED_RULE_GROUPS: Final[tuple[str, ...]] = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)
# Header values WAF must never write to its logs.
REDACTED_HEADERS: Final[tuple[str, ...]] = ("authorization", "cookie")


@dataclass(frozen=True)
class WebAclProps:
    name_prefix: str  # e.g. "au-production-primary"
    logs_key: kms.IKey
    log_retention: logs.RetentionDays
    rate_limit_per_5_minutes: int = 2000  # requests per client IP in any 5-minute window


class RegionalWebAcl(Construct):
    """Managed rule groups plus a per-IP rate limit; default action allow.

    Requests are logged to a CloudWatch log group whose name starts with
    `aws-waf-logs-` (a WAF requirement), encrypted with the `logs` key and kept for
    the configured retention (ACC-3, BAK-7). Authorization and cookie headers are
    redacted from the logs.
    """

    def __init__(self, scope: Construct, id: str, *, props: WebAclProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self._metric_prefix = props.name_prefix.replace("-", "")
        self.web_acl = self._web_acl()
        self.log_group = self._log_group()
        self.logging = self._logging()

    def _rules(self) -> list[wafv2.CfnWebACL.RuleProperty]:
        """The managed rule groups in `MANAGED_RULE_GROUPS` order, then the per-IP rate limit."""
        props = self.props
        metric_prefix = self._metric_prefix
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name=group,
                priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=group
                    )
                ),
                visibility_config=_visibility(f"{metric_prefix}{group}"),
            )
            for priority, group in enumerate(MANAGED_RULE_GROUPS)
        ]
        rules.append(
            wafv2.CfnWebACL.RuleProperty(
                name="RateLimitPerClientIp",
                priority=len(MANAGED_RULE_GROUPS),
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        aggregate_key_type="IP",
                        limit=props.rate_limit_per_5_minutes,
                    )
                ),
                visibility_config=_visibility(f"{metric_prefix}RateLimit"),
            )
        )
        return rules

    def _web_acl(self) -> wafv2.CfnWebACL:
        props = self.props
        return wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=f"{props.name_prefix}-web",
            description=f"{props.name_prefix}: managed rule groups and a per-IP rate limit",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(f"{self._metric_prefix}WebAcl"),
            rules=self._rules(),
        )

    def _log_group(self) -> logs.LogGroup:
        props = self.props
        return logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"aws-waf-logs-{props.name_prefix}",
            encryption_key=props.logs_key,
            retention=props.log_retention,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _logging(self) -> wafv2.CfnLoggingConfiguration:
        """Requests to the log group, Authorization and cookie headers redacted."""
        # WAF wants the log group ARN without the trailing ":*" that LogGroup.log_group_arn carries.
        log_group_arn = cdk.Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=self.log_group.log_group_name,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        return wafv2.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.web_acl.attr_arn,
            log_destination_configs=[log_group_arn],
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": header})
                for header in REDACTED_HEADERS
            ],
        )

    def associate(self, id: str, resource_arn: str) -> wafv2.CfnWebACLAssociation:
        """Protect a load balancer (or another regional resource) with this ACL."""
        return wafv2.CfnWebACLAssociation(self, id, resource_arn=resource_arn, web_acl_arn=self.web_acl.attr_arn)


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True,
        metric_name=metric_name,
        sampled_requests_enabled=True,
    )

"""CloudWatch Logs rules: explicit retention, KMS encryption, no implicit Lambda log groups (BAK-7, ENC-1)."""

from __future__ import annotations

from policies.rules.cfn import flatten
from policies.rules.model import Resource, Result, StackView, fail, ok, rule

LOG_GROUP = ("AWS::Logs::LogGroup",)


@rule(
    "BAK7-LogRetention",
    "BAK-7",
    LOG_GROUP,
    "BAK-7: CloudWatch log groups have an explicit retention of at least the configured log retention; this log "
    "group keeps logs forever or too briefly.",
    "Seed 004: logs kept 30 days, then lifecycle rules.",
)
def log_retention(resource: Resource, stack: StackView) -> Result:
    days = resource.prop("RetentionInDays")
    if days is None:
        return fail("no RetentionInDays (never expires)")
    minimum = stack.retention_days("log_retention_days")
    return ok(f"{days} days") if int(days) >= minimum else fail(f"RetentionInDays={days} < {minimum}")


@rule(
    "ENC1-LogGroupKms",
    "ENC-1",
    LOG_GROUP,
    "ENC-1: logs are encrypted with a customer-managed KMS key; this log group has no KmsKeyId.",
    "Seeds 001/004: data at rest encrypted with KMS, logs included.",
)
def log_group_kms(resource: Resource, stack: StackView) -> Result:
    return ok("KMS-encrypted") if resource.prop("KmsKeyId") else fail("no KmsKeyId")


@rule(
    "BAK7-LambdaLogGroup",
    "BAK-7",
    ("AWS::Lambda::Function",),
    "BAK-7: every log group has explicit retention; this Lambda function writes to an implicit /aws/lambda log "
    "group that CloudFormation does not manage (no retention, no KMS key).",
    "Seed 004: logs kept 30 days, then lifecycle rules.",
)
def lambda_log_group(resource: Resource, stack: StackView) -> Result:
    if resource.prop("LoggingConfig", "LogGroup"):
        return ok("LoggingConfig.LogGroup set")
    name = flatten(resource.prop("FunctionName", default=""))
    for group in stack.of_type("AWS::Logs::LogGroup"):
        group_name = flatten(group.prop("LogGroupName", default=""))
        if (name and group_name == f"/aws/lambda/{name}") or resource.logical_id in group_name:
            return ok(f"managed log group {group.logical_id}")
    return fail("no LoggingConfig.LogGroup and no managed /aws/lambda/<name> log group")


RULES = [log_retention, log_group_kms, lambda_log_group]

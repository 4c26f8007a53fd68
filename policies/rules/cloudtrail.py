"""CloudTrail rules: a multi-region, validated, encrypted trail per deployment (ACC-3, ENC-1)."""

from __future__ import annotations

from policies.rules.base import Resource, Result, StackView, fail, is_true, na, ok, rule

TRAIL = ("AWS::CloudTrail::Trail",)


@rule(
    "ACC3-TrailConfiguration",
    "ACC-3",
    TRAIL,
    "ACC-3: every change is audited by a multi-region CloudTrail with log file validation; this trail is "
    "single-region, not logging or unvalidated.",
    "Seeds 001/003: every access and change audited; audit records kept.",
)
def trail_configuration(resource: Resource, stack: StackView) -> Result:
    missing = [
        p for p in ("IsMultiRegionTrail", "EnableLogFileValidation", "IsLogging") if not is_true(resource.prop(p))
    ]
    return fail(f"{', '.join(missing)} not true") if missing else ok("multi-region, validated, logging")


@rule(
    "ENC1-TrailKms",
    "ENC-1",
    TRAIL,
    "ENC-1: audit logs are encrypted with a customer-managed KMS key; this trail has no KMSKeyId.",
    "Seeds 001/004: logs encrypted at rest.",
)
def trail_kms(resource: Resource, stack: StackView) -> Result:
    return ok("KMS-encrypted") if resource.prop("KMSKeyId") else fail("no KMSKeyId")


@rule(
    "ACC3-TrailPresent",
    "ACC-3",
    ("AWS::EC2::VPC",),
    "ACC-3: every deployment records every change with CloudTrail; this deployment (anchored on its primary VPC) "
    "has no multi-region trail.",
    "Seeds 001/003: every change audited.",
)
def trail_present(resource: Resource, stack: StackView) -> Result:
    if stack.role != "primary":
        return na("the multi-region trail lives in the primary region")
    trails = [
        t
        for s in stack.deployment_stacks or [stack]
        for t in s.of_type("AWS::CloudTrail::Trail")
        if is_true(t.prop("IsMultiRegionTrail"))
    ]
    return (
        ok(f"{len(trails)} multi-region trail(s)")
        if trails
        else fail("no multi-region AWS::CloudTrail::Trail in the deployment")
    )


RULES = [trail_configuration, trail_kms, trail_present]

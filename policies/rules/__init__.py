"""The DataSecurity rules, one module per AWS service; every rule carries its POLICY.md clause id."""

from __future__ import annotations

from policies.rules import (
    autoscaling,
    backup,
    cloudtrail,
    cloudwatch,
    cognito,
    dr,
    ec2,
    elasticache,
    elbv2,
    generic,
    iam,
    kms,
    logs,
    pipeline,
    rds,
    release,
    s3,
    secretsmanager,
    sns,
    ssm,
)
from policies.rules.model import Compliance, Resource, Result, Rule, StackView

ALL_RULES: tuple[Rule, ...] = tuple(
    r
    for module in (
        generic,
        ec2,
        autoscaling,
        elbv2,
        rds,
        elasticache,
        s3,
        kms,
        iam,
        backup,
        cloudtrail,
        logs,
        cloudwatch,
        sns,
        secretsmanager,
        ssm,
        cognito,
        dr,
        release,
        pipeline,
    )
    for r in module.RULES
)

_ids = [r.id for r in ALL_RULES]
if len(_ids) != len(set(_ids)):
    raise RuntimeError(f"duplicate DataSecurity rule ids: {sorted({i for i in _ids if _ids.count(i) > 1})}")

__all__ = ["ALL_RULES", "Compliance", "Resource", "Result", "Rule", "StackView"]

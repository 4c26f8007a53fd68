"""Register every policy pack on the app; any finding fails synth."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NIST80053R5Checks,
    PCIDSS321Checks,
)

# Context that makes a finding fail synth in the app itself. The CDK CLI sets
# failSynthOnValidationErrors=false and filters the report by the stacks it was
# asked for (none for a plain `cdk synth` of staged stacks), and in "process"
# mode aws-cdk-lib only sets the exit code of the jsii Node process, which a
# Python app never returns: without this, `cdk synth` succeeds with findings.
FAIL_ON_FINDINGS = {
    "@aws-cdk/core:failSynthOnValidationErrors": True,
    "@aws-cdk/core:appMode": "inmemory",
}

PUBLIC_PACKS = (
    AwsSolutionsChecks,
    NIST80053R5Checks,
    HIPAASecurityChecks,
    PCIDSS321Checks,
)


def register_policy_packs(app: cdk.App) -> None:
    cdk.Validations.of(app).add_plugins(*(pack(app) for pack in PUBLIC_PACKS))

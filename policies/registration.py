"""Register every policy pack on the app; any finding fails synth."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aws_cdk as cdk

from config import PlatformConfig

if TYPE_CHECKING:
    from cdk_nag import NagPack

    from policies.data_security import DataSecurityChecks

# Context that makes a finding fail synth in the app itself. The CDK CLI sets
# failSynthOnValidationErrors=false and filters the report by the stacks it was
# asked for (none for a plain `cdk synth` of staged stacks), and in "process"
# mode aws-cdk-lib only sets the exit code of the jsii Node process, which a
# Python app never returns: without this, `cdk synth` succeeds with findings.
FAIL_ON_FINDINGS = {
    "@aws-cdk/core:failSynthOnValidationErrors": True,
    "@aws-cdk/core:appMode": "inmemory",
}


def public_packs() -> tuple[type[NagPack], ...]:
    """The four public cdk-nag packs. cdk-nag is imported here, not at module level: loading
    its jsii assembly costs about 0.6 s, which app.py spends only once the configuration is good."""
    from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks

    return (AwsSolutionsChecks, NIST80053R5Checks, HIPAASecurityChecks, PCIDSS321Checks)


# `-c dataSecurityPack=off` leaves the project's own pack out (benchmarks/run.py
# measures its cost this way); the default, and what CI gates on, is on.
DATA_SECURITY_PACK_CONTEXT = "dataSecurityPack"


# `-c policyPacks=off` registers no pack at all: only for measuring what the five packs
# cost (`python -m benchmarks.run --only packs`); never used by CI or the tests.
POLICY_PACKS_CONTEXT = "policyPacks"
_OFF = ("off", "false", "0", "no")


def data_security_pack_enabled(app: cdk.App) -> bool:
    value = app.node.try_get_context(DATA_SECURITY_PACK_CONTEXT)
    return str(value).lower() not in _OFF


def policy_packs_enabled(app: cdk.App) -> bool:
    return str(app.node.try_get_context(POLICY_PACKS_CONTEXT)).lower() not in _OFF


def register_policy_packs(app: cdk.App, config: PlatformConfig | None = None) -> DataSecurityChecks | None:
    """Register the four public packs and, unless switched off, the DataSecurity pack."""
    if not policy_packs_enabled(app):
        return None
    from policies.data_security import DataSecurityChecks

    cdk.Validations.of(app).add_plugins(*(pack(app) for pack in public_packs()))
    if not data_security_pack_enabled(app):
        return None
    pack = DataSecurityChecks(app, config=config)
    cdk.Validations.of(app).add_plugins(pack)
    return pack

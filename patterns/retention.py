"""Retain stateful resources on update and delete, but let a failed first create clean up.

CloudFormation's `Retain` keeps a resource even when the stack that created it rolls
back its very first create. For a resource with a fixed physical name (a bucket, a log
group, a secret, a hosted zone) the retry then fails with "already exists": a first
deploy into a new account that fails for any reason cannot simply be run again.
`RetainExceptOnCreate` (CDK `RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE`) retains on every
update and on stack deletion, exactly like `Retain` (BAK-8), and deletes only what a
failed first create made, which holds no data yet.

Backup vaults keep `Retain`: their access policy denies `DeleteBackupVault` to the
deployment roles (ACC-4), so a rollback could not delete them anyway; the preflight
(`tooling/preflight.py`) lists a vault left by a failed create with the command to
import or remove it.
"""

from __future__ import annotations

from typing import Final

import aws_cdk as cdk
from constructs import IConstruct

# The stateful types this platform keeps (BAK-8): every resource of these types in a
# platform stack gets `RetainExceptOnCreate` and `UpdateReplacePolicy: Retain`, whatever
# its construct chose. The RDS read replica sets the same policy itself (an RDS primary keeps
# `Snapshot`). `tests/unit/test_retention.py` fails if any other resource is left on plain
# `Retain`, so a new stateful type is added here, not forgotten.
RETAINED_TYPES: Final = (
    "AWS::S3::Bucket",
    "AWS::KMS::Key",
    "AWS::Logs::LogGroup",
    "AWS::SecretsManager::Secret",
    "AWS::Route53::HostedZone",
    "AWS::Cognito::UserPool",
)


def retain_except_on_create(scope: IConstruct) -> None:
    """Apply `RetainExceptOnCreate` to every resource of `RETAINED_TYPES` under `scope`.

    CDK's own `RemovalPolicies` aspect runs inside the jsii runtime: a Python aspect would be
    called back once per construct of the stack (thousands per deployment) on every synth.
    """
    cdk.RemovalPolicies.of(scope).retain_on_update_or_delete(apply_to_resource_types=list(RETAINED_TYPES))

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
import jsii
from constructs import IConstruct

KEEP_PLAIN_RETAIN: Final = frozenset({"AWS::Backup::BackupVault"})


@jsii.implements(cdk.IAspect)
class RetainExceptOnCreate:
    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, cdk.CfnResource) or node.cfn_resource_type in KEEP_PLAIN_RETAIN:
            return
        if node.cfn_options.deletion_policy == cdk.CfnDeletionPolicy.RETAIN:
            node.cfn_options.deletion_policy = cdk.CfnDeletionPolicy.RETAIN_EXCEPT_ON_CREATE

"""A locked, KMS-encrypted AWS Backup vault that only break-glass can tamper with (ACC-4, ENC-1, BAK-8).

Vault lock (CloudFormation `AWS::Backup::BackupVault.LockConfiguration`):

- `MinRetentionDays` / `MaxRetentionDays` bound the retention of every recovery
  point in the vault; a backup or copy job with a retention outside the range fails.
- With `ChangeableForDays` the lock is in **compliance mode**: after that many days
  (AWS minimum 3) nobody, not even the root user or AWS, can remove the lock or
  shorten a recovery point's retention. Production uses compliance mode with the
  AWS minimum cooling-off period of 3 days, the window in which a mistaken lock can
  still be deleted (`DeleteBackupVaultLockConfiguration`).
- Without `ChangeableForDays` the lock is in **governance mode**: it enforces the
  same retention range, but a principal with `backup:DeleteBackupVaultLockConfiguration`
  can remove it. Staging and development use governance mode: the same protection
  against accidents and automation, without an irreversible commitment for data that
  is anonymised (DATA-3) and short-lived.

The access policy denies `DeleteRecoveryPoint`, `UpdateRecoveryPointLifecycle`,
`DisassociateRecoveryPoint`, `DisassociateRecoveryPointFromParent`,
`PutBackupVaultAccessPolicy`, `DeleteBackupVaultAccessPolicy` and `DeleteBackupVault`
to every principal (`"Principal": {"AWS": "*"}`, `"Resource": "*"`: the shape the AWS
Backup Audit Manager control BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED expects)
except the break-glass role. IAM is global, so that role's ARN is built from its
deterministic name and the account, without a cross-region reference. Lifecycle
expiry by AWS Backup itself is not a user call and is not affected.

Consequence, by design: a later change to this access policy cannot be deployed by
the ordinary CloudFormation execution role (it is denied `PutBackupVaultAccessPolicy`).
It is deployed by the break-glass role itself, **without** a CloudFormation service
role, so that CloudFormation makes the calls with the caller's (break-glass) session
and `aws:PrincipalArn` is the break-glass role (runbook
`runbooks/vault_policy_change.md`, commands from `break_glass_vault_policy_commands`).
`cdk deploy --role-arn <break-glass role>` cannot work: the break-glass role trusts
only MFA-signed-in people of this account, not `cloudformation.amazonaws.com` (and
must not: anyone allowed to pass it to CloudFormation would hold administrator
rights), and with the modern bootstrap the CLI calls CloudFormation through the
bootstrap deploy role, which may pass only the bootstrap execution role
(`iam:PassRole` is denied on any other, aws/aws-cdk#20408). The vault is retained
when its stack is deleted (BAK-8).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_backup as backup
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from patterns.iam import deny_anyone
from patterns.tagging import tag_data_classification

# Actions only the break-glass role may call on the vault and its recovery points (ACC-4).
PROTECTED_ACTIONS: Final[tuple[str, ...]] = (
    "backup:DeleteRecoveryPoint",
    "backup:UpdateRecoveryPointLifecycle",
    # Removes a continuous (PITR) recovery point from AWS Backup's management, and a
    # composite's child from its parent: both end the retention that the vault enforces.
    "backup:DisassociateRecoveryPoint",
    "backup:DisassociateRecoveryPointFromParent",
    "backup:PutBackupVaultAccessPolicy",
    "backup:DeleteBackupVaultAccessPolicy",
    "backup:DeleteBackupVault",
)

# AWS minimum for ChangeableForDays: the grace period before compliance mode is permanent.
COMPLIANCE_COOLING_OFF_DAYS: Final = 3

# What AWS Backup does with the vault key when it copies and re-encrypts recovery points.
BACKUP_KEY_ACTIONS: Final[tuple[str, ...]] = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
)


@dataclass(frozen=True)
class BackupVaultProps:
    vault_name: str
    key: kms.IKey  # the `backup` data-class key of this region
    break_glass_role_arn: str
    lock_min_days: int
    lock_max_days: int
    compliance_mode: bool  # production: compliance mode; elsewhere: governance mode
    # Roles (by ARN, possibly not yet created: the DR region deploys first) that AWS
    # Backup assumes to write into this vault, copy into it or restore from it.
    service_role_arns: Sequence[str] = ()


class SecureBackupVault(Construct):
    """`vault` (the L2 vault) and `vault_arn`; the key policy lets AWS Backup use the key."""

    def __init__(self, scope: Construct, id: str, *, props: BackupVaultProps) -> None:
        super().__init__(scope, id)
        if not 1 <= props.lock_min_days <= props.lock_max_days:
            raise ValueError(
                f"[ACC-4] vault lock of {props.vault_name}: min {props.lock_min_days} days must be "
                f"between 1 and max {props.lock_max_days} days"
            )
        self.props = props
        self.access_policy = self._access_policy()
        self.lock_configuration = self._lock_configuration()
        self.vault = self._vault()
        self.vault_arn = self.vault.backup_vault_arn
        tag_data_classification(self.vault, "backup")
        if props.service_role_arns:
            self._let_service_roles_use_key()

    def _access_policy(self) -> iam.PolicyDocument:
        """Only the break-glass role may delete or change recovery points (ACC-4)."""
        props = self.props
        return iam.PolicyDocument(
            statements=[
                deny_anyone(
                    "DenyRecoveryPointTamperingExceptBreakGlass",
                    PROTECTED_ACTIONS,
                    ["*"],
                    conditions={"ArnNotEquals": {"aws:PrincipalArn": props.break_glass_role_arn}},
                )
            ]
        )

    def _lock_configuration(self) -> backup.LockConfiguration:
        props = self.props
        return backup.LockConfiguration(
            min_retention=cdk.Duration.days(props.lock_min_days),
            max_retention=cdk.Duration.days(props.lock_max_days),
            changeable_for=cdk.Duration.days(COMPLIANCE_COOLING_OFF_DAYS) if props.compliance_mode else None,
        )

    def _vault(self) -> backup.BackupVault:
        props = self.props
        return backup.BackupVault(
            self,
            "Vault",
            backup_vault_name=props.vault_name,
            encryption_key=props.key,
            access_policy=self.access_policy,
            lock_configuration=self.lock_configuration,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _let_service_roles_use_key(self) -> None:
        props = self.props
        stack = cdk.Stack.of(self)
        # The key lives in the Keys stack; these statements land in its key policy.
        # Account principal + aws:PrincipalArn, not the role ARN as principal: KMS
        # rejects a policy naming a role that does not exist yet.
        props.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAwsBackupRolesToUseTheKey",
                principals=[iam.AccountPrincipal(stack.account)],
                actions=list(BACKUP_KEY_ACTIONS),
                resources=["*"],
                conditions={"ArnEquals": {"aws:PrincipalArn": list(props.service_role_arns)}},
            )
        )
        props.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAwsBackupRolesToGrantToAwsResources",
                principals=[iam.AccountPrincipal(stack.account)],
                actions=["kms:CreateGrant"],
                resources=["*"],
                conditions={
                    "ArnEquals": {"aws:PrincipalArn": list(props.service_role_arns)},
                    "Bool": {"kms:GrantIsForAWSResource": "true"},
                },
            )
        )


def break_glass_vault_policy_commands(
    *, stack_name: str, region: str, account: str, template_path: str, profile: str
) -> list[str]:
    """The vault-policy change procedure (ACC-4): synthesize, then deploy the Backup stack's template with
    the break-glass session and no CloudFormation service role. `profile` is a CLI profile that assumes the
    break-glass role with MFA. The staging bucket is the CDK bootstrap bucket (templates > 51,200 bytes)."""
    return [
        f"npx cdk synth -q -c deployment={stack_name.split('-primary-')[0].split('-dr-')[0]}",
        (
            f"aws cloudformation deploy --profile {profile} --region {region} --stack-name {stack_name} "
            f"--template-file {template_path} --capabilities CAPABILITY_NAMED_IAM "
            f"--s3-bucket cdk-hnb659fds-assets-{account}-{region} --no-fail-on-empty-changeset"
        ),
    ]

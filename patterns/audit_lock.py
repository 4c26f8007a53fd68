"""Immutable audit buckets (ACC-3): S3 Object Lock plus a bucket policy that no principal can loosen by hand.

Used by the trail's bucket, its copy in the DR region and the compliance-evidence bucket (OPS-6).

- **Object Lock** with a default retention (`ObjectLock`): COMPLIANCE in production (config/load.py
  refuses anything else), so no principal, the account's root user included, can delete or overwrite
  a record version, shorten its lock or remove the lock before `Retention.audit_lock_days` (the log
  archive's expiry, BAK-7). Object Lock needs versioning (every `SecureBucket` is versioned) and,
  once on, can never be switched off nor versioning suspended
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html). CloudFormation
  turns it on for an existing versioned bucket in place (`ObjectLockEnabled` and
  `ObjectLockConfiguration` update with "No interruption",
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-s3-bucket-objectlockconfiguration.html).
  An Object Lock bucket cannot receive S3 server access logs (same page), so these buckets only send them.
- **Bucket policy denies** (`deny_tampering`):
  * record deletion, retention changes and the governance bypass (`AUDIT_RECORD_DELETION_ACTIONS`,
    patterns/team_actions.py) for every principal, without exception (no break-glass exemption: nothing
    legitimate deletes an audit record; the BAK-7 lifecycle expires them once their lock has run out);
  * the bucket's policy, lifecycle, versioning, lock, replication and encryption settings
    (`AUDIT_BUCKET_SETTINGS_ACTIONS`) for every principal except the CDK CloudFormation execution role of the
    bucket's region. CloudFormation applies the bucket's declared settings as that role on every update
    of the bucket and its policy, so a deny on it would fail, and then fail to roll back, every later
    deploy that touches them. Only CloudFormation can assume that role (the bootstrap's trust policy),
    so the exemption means: settings change only through a reviewed deploy, whose execution policy in
    turn denies deleting audit records (tooling/bootstrap_policy.py).
  The root user of the account can still replace a bucket policy that denies it
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketPolicy.html): that is why production
  uses COMPLIANCE mode, which no policy change can lift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

from config import Retention
from patterns.iam import deny_anyone
from patterns.team_actions import AUDIT_BUCKET_SETTINGS_ACTIONS, AUDIT_RECORD_DELETION_ACTIONS

# The default CDK bootstrap qualifier (as in patterns/team_roles.py, which trusts its deploy roles).
CDK_QUALIFIER: Final = "hnb659fds"


@dataclass(frozen=True)
class ObjectLock:
    """The default retention of an audit bucket's new object versions (ACC-3)."""

    mode: str  # COMPLIANCE | GOVERNANCE (config/policy.py: AUDIT_LOCK_MODES)
    days: int

    @classmethod
    def from_retention(cls, retention: Retention) -> ObjectLock:
        return cls(retention.audit_lock_mode, retention.audit_lock_days)

    def default_retention(self) -> s3.ObjectLockRetention:
        duration = cdk.Duration.days(self.days)
        if self.mode == "COMPLIANCE":
            return s3.ObjectLockRetention.compliance(duration)
        return s3.ObjectLockRetention.governance(duration)


def cloudformation_execution_role_arn(stack: cdk.Stack) -> str:
    """The CDK bootstrap's CloudFormation execution role of `stack`'s region (the only role deploys run as)."""
    return stack.format_arn(
        service="iam",
        region="",
        resource="role",
        resource_name=f"cdk-{CDK_QUALIFIER}-cfn-exec-role-{stack.account}-{stack.region}",
    )


def deny_tampering(bucket: s3.Bucket) -> None:
    """The two denies of the module docstring, on `bucket`'s policy."""
    stack = cdk.Stack.of(bucket)
    bucket.add_to_resource_policy(
        deny_anyone(
            "DenyAuditRecordDeletion", AUDIT_RECORD_DELETION_ACTIONS, [bucket.bucket_arn, bucket.arn_for_objects("*")]
        )
    )
    bucket.add_to_resource_policy(
        deny_anyone(
            "DenyAuditBucketSettingsButDeploys",
            AUDIT_BUCKET_SETTINGS_ACTIONS,
            [bucket.bucket_arn],
            conditions={"ArnNotEquals": {"aws:PrincipalArn": cloudformation_execution_role_arn(stack)}},
        )
    )

"""The IAM action lists of the team roles and their permissions boundary (ACC-1, ACC-4).

`patterns/team_roles.py` builds the roles from them; `tooling/bootstrap_policy.py`
denies the same escalation and key-destruction actions to CloudFormation's
execution role, so a deploy cannot do what the boundary denies.
"""

from __future__ import annotations

from typing import Final

IAM_ESCALATION_ACTIONS: Final[tuple[str, ...]] = (
    "iam:AddUserToGroup",
    "iam:AttachGroupPolicy",
    "iam:AttachUserPolicy",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:CreatePolicyVersion",
    "iam:CreateUser",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteUserPermissionsBoundary",
    "iam:PutGroupPolicy",
    "iam:PutUserPolicy",
    "iam:SetDefaultPolicyVersion",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateLoginProfile",
)
# Allowed only when the role being created or changed carries this same boundary.
IAM_BOUNDARY_BOUND_ACTIONS: Final[tuple[str, ...]] = (
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
)
# ACC-1 (issue 18 item 1): AWS managed policies that make a principal an administrator (or let it make itself one);
# only the break-glass role holds one (AdministratorAccess, patterns/team_roles.py).
ADMINISTRATOR_POLICY_ARNS: Final[tuple[str, ...]] = (
    "arn:aws:iam::aws:policy/AdministratorAccess*",  # AdministratorAccess and its -Amplify/-Beanstalk kin
    "arn:aws:iam::aws:policy/PowerUserAccess",
    "arn:aws:iam::aws:policy/IAMFullAccess",
    "arn:aws:iam::aws:policy/AWSOrganizationsFullAccess",
    "arn:aws:iam::aws:policy/job-function/SystemAdministrator",
    "arn:aws:iam::aws:policy/job-function/NetworkAdministrator",
)
# Denied by the team boundary and the bootstrap policies (tooling/bootstrap_policy.py).
ADMINISTRATOR_ATTACH_ACTIONS: Final[tuple[str, ...]] = (
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:AttachUserPolicy",
)
KMS_DESTRUCTIVE_ACTIONS: Final[tuple[str, ...]] = (
    "kms:DeleteImportedKeyMaterial",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:ScheduleKeyDeletion",
)
CLOUDTRAIL_DISABLING_ACTIONS: Final[tuple[str, ...]] = (
    "cloudtrail:DeleteTrail",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:StopLogging",
    "cloudtrail:UpdateTrail",
)
BACKUP_DESTRUCTIVE_ACTIONS: Final[tuple[str, ...]] = (
    "backup:DeleteBackupPlan",
    "backup:DeleteBackupVault",
    "backup:DeleteBackupVaultAccessPolicy",
    "backup:DeleteBackupVaultLockConfiguration",
    "backup:DeleteRecoveryPoint",
    "backup:DisassociateRecoveryPoint",
    "backup:DisassociateRecoveryPointFromParent",
    "backup:PutBackupVaultAccessPolicy",
    "backup:UpdateRecoveryPointLifecycle",
)
# ACC-3: audit records (the trail's bucket, its DR copy, the compliance evidence; patterns/audit_lock.py).
# Denied to every principal by the buckets' policies, to every team role by the boundary.
AUDIT_RECORD_DELETION_ACTIONS: Final[tuple[str, ...]] = (
    "s3:BypassGovernanceRetention",
    "s3:DeleteBucket",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObjectRetention",
)
# Denied to every principal but the CloudFormation execution role, which applies the declared settings.
AUDIT_BUCKET_SETTINGS_ACTIONS: Final[tuple[str, ...]] = (
    "s3:DeleteBucketPolicy",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketPolicy",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutReplicationConfiguration",
)
# The trail's CloudWatch Logs copy: a log group resource policy cannot deny IAM principals
# (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutResourcePolicy.html),
# so the team boundary and the execution policy deny these.
AUDIT_LOG_PROTECTED_ACTIONS: Final[tuple[str, ...]] = (
    "logs:DeleteLogGroup",
    "logs:DeleteLogStream",
    "logs:DeleteRetentionPolicy",
    "logs:DisassociateKmsKey",
    "logs:PutRetentionPolicy",
)
# Console and CLI read that operators need to see the platform; no resource-level support.
OPERATOR_READ_ACTIONS: Final[tuple[str, ...]] = (
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeInstanceRefreshes",
    "autoscaling:DescribeScalingActivities",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:GetDashboard",
    "cloudwatch:GetMetricData",
    "cloudwatch:ListDashboards",
    "cloudwatch:ListMetrics",
    "ec2:DescribeInstances",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "ssm:DescribeInstanceInformation",
    "ssm:DescribeSessions",
    "ssm:GetConnectionStatus",
)
RELEASE_ACTIONS: Final[tuple[str, ...]] = (
    "autoscaling:CancelInstanceRefresh",
    "autoscaling:RollbackInstanceRefresh",
    "autoscaling:StartInstanceRefresh",
)
TENANT_READ_ACTIONS: Final[tuple[str, ...]] = ("s3:GetObject", "s3:GetObjectVersion")
TENANT_WRITE_ACTIONS: Final[tuple[str, ...]] = ("s3:PutObject", "s3:DeleteObject")

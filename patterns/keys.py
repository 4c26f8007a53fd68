"""One customer-managed KMS key per data class (ENC-1, ENC-2)."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from config.policy import DATA_CLASSES
from patterns.tagging import tag_data_classification

_DESCRIPTIONS = {
    "customer": "customer input data: database, file store, cache, web-tier volumes",
    "system": "system-generated data: secrets, notifications, application state",
    "logs": "logs and audit records: CloudWatch Logs, CloudTrail, flow logs",
    "backup": "backups and archives: AWS Backup vaults and copies",
    "codebase": "the codebase: release artifacts (application, configuration files, e-mail templates)",
}


@dataclass(frozen=True)
class KeyRingProps:
    alias_prefix: str  # e.g. "au-production"
    pending_window_days: int = 30
    data_classes: tuple[str, ...] = DATA_CLASSES  # a pipeline's ring holds only codebase and logs keys


class DataClassKeyRing(Construct):
    """Keys for customer, system, logs, backup and codebase data, rotation on, retained on delete.

    Key policies keep the account-root statement (without it a key becomes
    unmanageable) and add only the service principals that encrypt with that
    class: CloudWatch Logs for `logs`, AWS Backup for `backup`. Everything else is
    granted per resource through IAM by the construct that uses the key.
    """

    def __init__(self, scope: Construct, id: str, *, props: KeyRingProps) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.keys: dict[str, kms.Key] = {}
        for data_class in props.data_classes:
            key = kms.Key(
                self,
                f"{data_class.capitalize()}Key",
                description=f"{props.alias_prefix} {data_class} key: {_DESCRIPTIONS[data_class]}",
                alias=f"alias/{props.alias_prefix}/{data_class}",
                enable_key_rotation=True,
                pending_window=cdk.Duration.days(props.pending_window_days),
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            tag_data_classification(key, data_class)
            self.keys[data_class] = key

        if "logs" in self.keys:
            self._allow_cloudwatch_logs(stack)
        if "system" in self.keys:
            self._allow_s3_event_notifications(stack)

    def _allow_cloudwatch_logs(self, stack: cdk.Stack) -> None:
        self.logs.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsInThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"
                        )
                    }
                },
            )
        )

    def _allow_s3_event_notifications(self, stack: cdk.Stack) -> None:
        # S3 event notifications (replication events, patterns/bucket_replication.py) into queues encrypted
        # with the `system` key: S3 must generate and decrypt the data key, for buckets of this account only
        # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html).
        self.system.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowS3EventNotificationsToEncryptedQueues",
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )

    @property
    def customer(self) -> kms.Key:
        return self.keys["customer"]

    @property
    def system(self) -> kms.Key:
        return self.keys["system"]

    @property
    def logs(self) -> kms.Key:
        return self.keys["logs"]

    @property
    def backup(self) -> kms.Key:
        return self.keys["backup"]

    @property
    def codebase(self) -> kms.Key:
        return self.keys["codebase"]


def allow_auto_scaling_service_role(key: kms.Key, stack: cdk.Stack, sid: str, *, grants: bool = True) -> None:
    """Auto Scaling launches instances (and publishes notifications) as its service-linked
    role, which needs the key to create encrypted volumes. KMS rejects a key policy
    that names a role that does not exist yet, and the role only appears with the
    account's first Auto Scaling group, so the principal is matched by condition."""
    service_role_arn = (
        f"arn:{stack.partition}:iam::{stack.account}:role/aws-service-role/"
        "autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    )
    conditions = {"ArnEquals": {"aws:PrincipalArn": service_role_arn}}
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=sid,
            principals=[iam.AnyPrincipal()],
            actions=["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            resources=["*"],
            conditions=conditions,
        )
    )
    if not grants:
        return
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=f"{sid}Grants",
            principals=[iam.AnyPrincipal()],
            actions=["kms:CreateGrant"],
            resources=["*"],
            conditions={**conditions, "Bool": {"kms:GrantIsForAWSResource": "true"}},
        )
    )


def allow_secret_replicas(key: kms.Key, stack: cdk.Stack) -> None:
    """Secrets Manager writes a replica secret under the identity of whoever changed the primary (CloudFormation,
    the rotation function), so that identity needs this region's key: Encrypt and GenerateDataKey to write the
    replica, Decrypt to read it back. Only through Secrets Manager in this region, only for callers of this
    account (the shape of the `aws/secretsmanager` key's policy;
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html and
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/replicate-secrets_troubleshoot.html)."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowSecretsManagerReplicasInThisRegion",
            principals=[iam.AnyPrincipal()],
            actions=["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"],
            resources=["*"],
            conditions={
                "StringEquals": {
                    "kms:ViaService": f"secretsmanager.{stack.region}.amazonaws.com",
                    "kms:CallerAccount": stack.account,
                }
            },
        )
    )

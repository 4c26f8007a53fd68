"""SSM Session Manager preferences: the only way onto a server (ACC-2).

The regional `SSM-SessionManagerRunShell` Session document holds the account's
Session Manager preferences: every session is encrypted end to end with a
customer-managed key, and its full transcript goes to a KMS-encrypted CloudWatch
log group with explicit retention (ACC-3, BAK-7). Instances need no SSH key, no
port 22 and no public address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

# The name Session Manager reads its preferences from (one per account and region).
PREFERENCES_DOCUMENT: Final = "SSM-SessionManagerRunShell"


@dataclass(frozen=True)
class SessionManagerProps:
    name_prefix: str  # e.g. "au-production-primary"
    session_key: kms.IKey  # encrypts the session data stream (the `system` key)
    logs_key: kms.IKey  # encrypts the transcript log group
    log_retention: logs.RetentionDays
    idle_timeout_minutes: int = 20
    max_session_minutes: int = 60


class SessionManagerPreferences(Construct):
    def __init__(self, scope: Construct, id: str, *, props: SessionManagerProps) -> None:
        super().__init__(scope, id)
        self.session_key = props.session_key
        self.log_group = logs.LogGroup(
            self,
            "SessionLogs",
            log_group_name=f"/{props.name_prefix}/ssm/sessions",
            encryption_key=props.logs_key,
            retention=props.log_retention,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.document = ssm.CfnDocument(
            self,
            "Preferences",
            name=PREFERENCES_DOCUMENT,
            document_type="Session",
            document_format="JSON",
            update_method="NewVersion",
            content={
                "schemaVersion": "1.0",
                "description": f"{props.name_prefix}: encrypted, logged shell sessions (ACC-2)",
                "sessionType": "Standard_Stream",
                "inputs": {
                    "kmsKeyId": props.session_key.key_arn,
                    "cloudWatchLogGroupName": self.log_group.log_group_name,
                    "cloudWatchEncryptionEnabled": True,
                    "cloudWatchStreamingEnabled": True,
                    "s3BucketName": "",
                    "s3EncryptionEnabled": True,
                    "idleSessionTimeout": str(props.idle_timeout_minutes),
                    "maxSessionDuration": str(props.max_session_minutes),
                    "runAsEnabled": False,
                    "runAsDefaultUser": "",
                    "shellProfile": {"linux": "", "windows": ""},
                },
            },
        )
        self.document_name = PREFERENCES_DOCUMENT

    def grant_instance(self, role: iam.IRole) -> None:
        """What the SSM agent on an instance needs to run encrypted, logged sessions."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="SessionTranscripts",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                # The agent checks that the transcript group is encrypted; the action has no resource type.
                sid="SessionLogGroupEncryptionCheck",
                actions=["logs:DescribeLogGroups"],
                resources=["*"],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="SessionEncryption",
                actions=["kms:Decrypt"],
                resources=[self.session_key.key_arn],
            )
        )

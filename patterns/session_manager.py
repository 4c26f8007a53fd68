"""SSM Session Manager preferences: the only way onto a server (ACC-2).

A Session document of our own, `<name_prefix>-shell-session` (sessionType
`Standard_Stream`), holds the platform's session preferences: every session is
encrypted end to end with a customer-managed key, and its full transcript goes to a
KMS-encrypted CloudWatch log group with explicit retention (ACC-3, BAK-7).
Instances need no SSH key, no port 22 and no public address.

Why not `SSM-SessionManagerRunShell`: that is the account's *default* session
document, which the console creates the first time anyone saves Session Manager
preferences in a region; CloudFormation can neither create a document of that name
where it already exists nor import it. So the platform never depends on it:

- sessions name our document explicitly (AWS Systems Manager user guide, "Start a
  session with a document by specifying the session documents in IAM policies"):
  `aws ssm start-session --target i-... --document-name <name_prefix>-shell-session`
  (`start_session_command` below prints it);
- the team roles may call `ssm:StartSession` only on that document, and on the web
  instances only with `ssm:SessionDocumentAccessCheck` = true (user guide,
  "Quickstart end user policies for Session Manager"): Session Manager then checks
  the caller's permission on the document the session uses, so a session without
  `--document-name` (which would fall back to the default `SSM-SessionManagerRunShell`,
  whatever it contains) is denied.
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

# The account's default session document: created by the console, never by this platform.
DEFAULT_SESSION_DOCUMENT: Final = "SSM-SessionManagerRunShell"
# IAM condition key: check the caller's access to the session document actually used.
SESSION_DOCUMENT_ACCESS_CHECK: Final = "ssm:SessionDocumentAccessCheck"


def session_document_name(name_prefix: str) -> str:
    """Our Session document (names: letters, digits, `_`, `-`, `.`; not starting with aws/amazon)."""
    return f"{name_prefix}-shell-session"


def start_session_command(instance_id: str, name_prefix: str, region: str) -> str:
    """The one way operators open a shell: always with our logged, encrypted document."""
    return (
        f"aws ssm start-session --region {region} --target {instance_id} "
        f"--document-name {session_document_name(name_prefix)}"
    )


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
            name=session_document_name(props.name_prefix),
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
        self.document_name = session_document_name(props.name_prefix)

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

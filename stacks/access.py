"""AccessStack: team roles, permissions boundary and Session Manager preferences (ACC-1, ACC-2, HOST-5).

Primary region only: IAM is global, so the roles (including the break-glass role
that the backup vault policies of both regions name) exist once per deployment.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from constructs import Construct

from config import Deployment
from config.topology import DR, PRIMARY, FailoverTopology
from patterns.log_retention import retention_days
from patterns.session_manager import SessionManagerPreferences, SessionManagerProps, session_document_name
from patterns.team_roles import TeamRoles, TeamRolesProps
from stacks.base import PlatformStack
from stacks.patching import web_patch_group


def session_documents(deployment: Deployment) -> dict[str, str]:
    """Region -> the Session document of the web tier there: the primary's (this stack) and, with a
    warm standby, the DR region's (StandbyPatching stack), so after a failover the serving web tier
    has the same logged, encrypted channel (ACC-2)."""
    topology = FailoverTopology.of(deployment)
    roles = (PRIMARY, DR) if deployment.standby.enabled else (PRIMARY,)
    return {topology.region(role): session_document_name(topology.prefix(role)) for role in roles}


class AccessStack(PlatformStack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        deployment: Deployment,
        role: str,
        system_key: kms.IKey,
        logs_key: kms.IKey,
        content_bucket_name: str | None = None,
        content_key: kms.IKey | None = None,
    ) -> None:
        super().__init__(
            scope,
            id,
            deployment=deployment,
            role=role,
            summary="team roles with MFA and a permissions boundary; Session Manager preferences (ACC-1, ACC-2)",
        )
        self.sessions = SessionManagerPreferences(
            self,
            "SessionManager",
            props=SessionManagerProps(
                name_prefix=self.name_prefix,
                session_key=system_key,
                logs_key=logs_key,
                log_retention=retention_days(deployment.retention.log_retention_days),
            ),
        )
        self.team = TeamRoles(
            self,
            "TeamRoles",
            props=TeamRolesProps(
                name_prefix=deployment.name,
                break_glass_role_name=deployment.break_glass_role_name,
                service_tag_value=deployment.service,
                web_patch_group=web_patch_group(deployment),
                session_documents=session_documents(deployment),
                session_key=system_key,
                session_key_alias=self.names.key_alias("system"),  # patterns/keys.py
                regions=deployment.regions,
                content_bucket_name=content_bucket_name,
                content_key=content_key,
                audit_bucket_arns=FailoverTopology.of(deployment).audit_bucket_arns(),
                audit_log_group_arn=FailoverTopology.of(deployment).audit_log_group_arn(),
                unbounded_role_names=deployment.unbounded_role_names,
            ),
        )
        for key, team_role in self.team.roles.items():
            cdk.CfnOutput(self, "".join(p.capitalize() for p in key.split("-")) + "RoleArn", value=team_role.role_arn)
        cdk.CfnOutput(self, "SessionLogGroup", value=self.sessions.log_group.log_group_name)

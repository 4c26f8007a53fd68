"""PatchingStack: Patch Manager baseline, maintenance window and install task for the web tier (OPS-1, OPS-5)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from constructs import Construct

from config import Deployment
from patterns.log_retention import retention_days
from patterns.patching import PatchingProps, PatchManagement
from patterns.session_manager import SessionManagerPreferences, SessionManagerProps
from stacks.base import PlatformStack


def web_patch_group(deployment: Deployment) -> str:
    """The patch group of the deployment's web instances, the same in both regions."""
    return f"{deployment.name}-web"


class PatchingStack(PlatformStack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        deployment: Deployment,
        role: str,
        logs_key: kms.IKey,
        session_key: kms.IKey | None = None,
    ) -> None:
        """With `session_key` (the DR standby, whose region has no Access stack) the stack also holds
        the region's Session Manager document and transcript log group (ACC-2)."""
        window = deployment.maintenance
        super().__init__(
            scope,
            id,
            deployment=deployment,
            role=role,
            summary=f"SSM Patch Manager for the web tier, window {window.day} {window.start_utc} UTC (OPS-1, OPS-5)"
            + ("; the region's Session Manager document (ACC-2)" if session_key is not None else ""),
        )
        self.patching = PatchManagement(
            self,
            "Patching",
            props=PatchingProps(
                name_prefix=self.name_prefix,
                patch_group=web_patch_group(deployment),
                schedule=window.ssm_schedule,
                duration_hours=window.duration_hours,
                logs_key=logs_key,
                log_retention=retention_days(deployment.retention.log_retention_days),
            ),
        )
        cdk.CfnOutput(self, "PatchBaselineId", value=self.patching.baseline.ref)
        cdk.CfnOutput(self, "MaintenanceWindowId", value=self.patching.window.ref)
        cdk.CfnOutput(self, "PatchLogGroup", value=self.patching.log_group.log_group_name)
        self.sessions: SessionManagerPreferences | None = None
        if session_key is not None:
            self.sessions = SessionManagerPreferences(
                self,
                "SessionManager",
                props=SessionManagerProps(
                    name_prefix=self.name_prefix,
                    session_key=session_key,
                    logs_key=logs_key,
                    log_retention=retention_days(deployment.retention.log_retention_days),
                ),
            )
            cdk.CfnOutput(self, "SessionLogGroup", value=self.sessions.log_group.log_group_name)

"""SSM Patch Manager for the web tier: a baseline, a weekly window, a logged install task (OPS-1, OPS-5).

Instances join by the `PatchGroup` tag (patterns.tagging.PATCH_GROUP) that the web
tier's launch template puts on them, so patching needs no reference to the
instances. The maintenance window is the announced window of the configuration
(OPS-5); the task runs `AWS-RunPatchBaseline` with `Operation=Install` one
instance at a time, so the load balancer keeps serving, and writes its output to
an encrypted CloudWatch log group with explicit retention (ACC-3, BAK-7). Patch
compliance is reported to Systems Manager by the same document (OPS-6 evidence).
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

from patterns.iam import ManagedPolicyRole
from patterns.nag_findings import iam5_resource_finding
from patterns.tagging import PATCH_GROUP
from policies.acknowledgments import acknowledge

PATCH_DOCUMENT: Final = "AWS-RunPatchBaseline"
CLASSIFICATIONS: Final[tuple[str, ...]] = ("Security", "Bugfix")
SEVERITIES: Final[tuple[str, ...]] = ("Critical", "Important", "Medium", "Low")


@dataclass(frozen=True)
class PatchingProps:
    name_prefix: str  # e.g. "au-production-primary"
    patch_group: str
    schedule: str  # SSM cron, e.g. "cron(0 16 ? * SUN *)" (UTC)
    duration_hours: int
    logs_key: kms.IKey
    log_retention: logs.RetentionDays
    approve_after_days: int = 7
    critical_approve_after_days: int = 0  # critical security fixes: "as soon as practical" (OPS-1)
    max_concurrency: str = "1"  # one instance at a time: the rest keep serving
    max_errors: str = "1"
    cutoff_hours: int = 1


class PatchManagement(Construct):
    def __init__(self, scope: Construct, id: str, *, props: PatchingProps) -> None:
        super().__init__(scope, id)
        if props.duration_hours <= props.cutoff_hours:
            raise ValueError(
                f"maintenance window of {props.duration_hours} h leaves no time before "
                f"the {props.cutoff_hours} h cutoff"
            )
        self.props = props
        self.baseline = self._baseline(props)
        self.log_group = logs.LogGroup(
            self,
            "PatchLogs",
            log_group_name=f"/{props.name_prefix}/ssm/patching",
            encryption_key=props.logs_key,
            retention=props.log_retention,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.window, self.target = self._window(props)
        self.service_role = self._service_role(props)
        self.task = self._install_task(props)

    def _baseline(self, props: PatchingProps) -> ssm.CfnPatchBaseline:
        """Critical fixes approved at once, the rest after `approve_after_days` (OPS-1)."""

        def rule(severities: list[str], days: int) -> ssm.CfnPatchBaseline.RuleProperty:
            return ssm.CfnPatchBaseline.RuleProperty(
                approve_after_days=days,
                compliance_level="CRITICAL" if "Critical" in severities else "HIGH",
                enable_non_security=True,
                patch_filter_group=ssm.CfnPatchBaseline.PatchFilterGroupProperty(
                    patch_filters=[
                        ssm.CfnPatchBaseline.PatchFilterProperty(key="CLASSIFICATION", values=list(CLASSIFICATIONS)),
                        ssm.CfnPatchBaseline.PatchFilterProperty(key="SEVERITY", values=severities),
                    ]
                ),
            )

        return ssm.CfnPatchBaseline(
            self,
            "Baseline",
            name=f"{props.name_prefix}-al2023",
            description="Amazon Linux 2023 security and bug-fix updates (OPS-1)",
            operating_system="AMAZON_LINUX_2023",
            approval_rules=ssm.CfnPatchBaseline.RuleGroupProperty(
                patch_rules=[
                    rule(["Critical"], props.critical_approve_after_days),
                    rule([s for s in SEVERITIES if s != "Critical"], props.approve_after_days),
                ]
            ),
            approved_patches_compliance_level="HIGH",
            patch_groups=[props.patch_group],
        )

    def _window(self, props: PatchingProps) -> tuple[ssm.CfnMaintenanceWindow, ssm.CfnMaintenanceWindowTarget]:
        """The announced window of OPS-5 and the instances of the patch group it targets."""
        window = ssm.CfnMaintenanceWindow(
            self,
            "Window",
            name=f"{props.name_prefix}-patching",
            description=f"Announced maintenance window (OPS-5): {props.schedule} UTC for {props.duration_hours} h",
            schedule=props.schedule,
            schedule_timezone="Etc/UTC",
            duration=props.duration_hours,
            cutoff=props.cutoff_hours,
            allow_unassociated_targets=False,
        )
        target = ssm.CfnMaintenanceWindowTarget(
            self,
            "Target",
            window_id=window.ref,
            name=f"{props.name_prefix}-patch-group",
            description=f"Instances tagged {PATCH_GROUP}={props.patch_group}",
            resource_type="INSTANCE",
            targets=[
                ssm.CfnMaintenanceWindowTarget.TargetsProperty(key=f"tag:{PATCH_GROUP}", values=[props.patch_group])
            ],
        )
        return window, target

    def _service_role(self, props: PatchingProps) -> ManagedPolicyRole:
        """SSM may run AWS-RunPatchBaseline on the patch group's instances, nothing else."""
        role = ManagedPolicyRole(
            self,
            "ServiceRole",
            assumed_by=iam.ServicePrincipal("ssm.amazonaws.com"),
            description=f"{props.name_prefix} maintenance window: runs {PATCH_DOCUMENT} on the patch group",
        )
        stack = cdk.Stack.of(self)
        instances = stack.format_arn(service="ec2", resource="instance", resource_name="*")
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="RunPatchBaselineOnPatchGroupOnly",
                actions=["ssm:SendCommand"],
                resources=[instances],
                conditions={"StringEquals": {f"ssm:resourceTag/{PATCH_GROUP}": props.patch_group}},
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="RunPatchBaselineDocumentOnly",
                actions=["ssm:SendCommand"],
                resources=[
                    stack.format_arn(service="ssm", account="", resource="document", resource_name=PATCH_DOCUMENT)
                ],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="FollowCommands",
                actions=[
                    "ssm:CancelCommand",
                    "ssm:GetCommandInvocation",
                    "ssm:ListCommandInvocations",
                    "ssm:ListCommands",
                ],
                resources=["*"],
            )
        )
        acknowledge(
            role.grants_policy,
            [
                "AwsSolutions-IAM5[Resource::*]",
                iam5_resource_finding(stack, instances),
            ],
            "Command and instance ids exist only at run time and the command-tracking actions have no resource "
            "type; compensating controls: SendCommand only of AWS-RunPatchBaseline and only on instances tagged "
            "with this patch group, assumable by SSM only.",
        )
        return role

    def _install_task(self, props: PatchingProps) -> ssm.CfnMaintenanceWindowTask:
        """`Install` one instance at a time, output to the encrypted patch log group."""
        task = ssm.CfnMaintenanceWindowTask(
            self,
            "InstallPatches",
            window_id=self.window.ref,
            name=f"{props.name_prefix}-install-patches",
            description=f"{PATCH_DOCUMENT} Install on {PATCH_GROUP}={props.patch_group}, one instance at a time",
            task_type="RUN_COMMAND",
            task_arn=PATCH_DOCUMENT,
            priority=1,
            max_concurrency=props.max_concurrency,
            max_errors=props.max_errors,
            service_role_arn=self.service_role.role_arn,
            targets=[ssm.CfnMaintenanceWindowTask.TargetProperty(key="WindowTargetIds", values=[self.target.ref])],
            task_invocation_parameters=ssm.CfnMaintenanceWindowTask.TaskInvocationParametersProperty(
                maintenance_window_run_command_parameters=ssm.CfnMaintenanceWindowTask.MaintenanceWindowRunCommandParametersProperty(
                    comment="OPS-1 security patching",
                    document_version="$DEFAULT",
                    parameters={"Operation": ["Install"], "RebootOption": ["RebootIfNeeded"]},
                    timeout_seconds=3600,
                    cloud_watch_output_config=ssm.CfnMaintenanceWindowTask.CloudWatchOutputConfigProperty(
                        cloud_watch_log_group_name=self.log_group.log_group_name,
                        cloud_watch_output_enabled=True,
                    ),
                )
            ),
        )
        task.node.add_dependency(self.service_role.grants_policy)
        return task

    def grant_instance_output(self, role: iam.IRole) -> None:
        """The SSM agent on each instance writes the command output with the instance's role."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PatchCommandOutput",
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[self.log_group.log_group_arn],
            )
        )

"""A monthly AWS Backup restore-testing plan with random recovery-point selection (BAK-9).

Once a month (`cron(0 4 1 * ? *)` in the deployment's time zone, an hour after the
monthly archive backup), AWS Backup picks a **random** recovery point from the last
`selection_window_days` in the primary vault for each protected resource type that
matches the tier tag, restores it, keeps it for `validation_window_hours` so that
validation can run, and deletes it. That is the "restore exercise monthly / random
testing of backups" of BAK-9; the quarterly full recovery from scratch is the
restore-drill runbook (`runbooks/restore_drill.md`).

Names of restore-testing plans and selections allow only letters, digits and `_`.

Where restores land. Without overrides AWS Backup infers restore metadata that puts
an EC2 instance or RDS database into the **default VPC** (AWS Backup developer guide,
"Restore testing inferred metadata"), i.e. outside the platform's network controls,
and fails where the default VPC was deleted. With `network` set, every selection
overrides the documented overridable keys (`RestoreMetadataOverrides`; keys are not
case sensitive) so restores land in the platform's **isolated** subnets, behind a
security group that admits nothing and sends nothing:

| type | overrides |
|---|---|
| RDS | `dbSubnetGroupName` (a subnet group over the isolated subnets), `vpcSecurityGroupIds` |
| EC2 | `subnetId` (first isolated subnet), `securityGroupIds`, `requireImdsV2=true` |
| EBS | `availabilityZone` (the AZ of that subnet: a volume lives in an AZ, not a VPC) |

`restore_metadata_overrides` is pure, so the preflight and the tests can read it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_backup as backup
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from constructs import Construct

from patterns.iam import ManagedPolicyRole
from patterns.network import closed_security_group
from patterns.tagging import BACKUP_TIER, BACKUP_TIER_COMPUTE, BACKUP_TIER_DATABASE

MONTHLY_RESTORE_TEST: Final = "cron(0 4 1 * ? *)"
RESTORE_SERVICE_POLICY: Final = "service-role/AWSBackupServiceRolePolicyForRestores"

# Protected resource type (AWS Backup name) -> the tier tag that selects it.
RESTORE_TEST_TARGETS: Final[dict[str, str]] = {
    "RDS": BACKUP_TIER_DATABASE,
    "EC2": BACKUP_TIER_COMPUTE,
    "EBS": BACKUP_TIER_COMPUTE,
}


def restore_metadata_overrides(
    resource_type: str,
    *,
    subnet_id: str,
    availability_zone: str,
    security_group_ids: Sequence[str],
    db_subnet_group_name: str,
) -> dict[str, str]:
    """The documented overridable restore-metadata keys that keep a test restore in our isolated subnets."""
    groups = "[" + ",".join(f'"{group}"' for group in security_group_ids) + "]"
    overrides: Mapping[str, dict[str, str]] = {
        "RDS": {"dbSubnetGroupName": db_subnet_group_name, "vpcSecurityGroupIds": groups},
        "EC2": {"subnetId": subnet_id, "securityGroupIds": groups, "requireImdsV2": "true"},
        "EBS": {"availabilityZone": availability_zone},
    }
    return dict(overrides[resource_type])


@dataclass(frozen=True)
class RestoreTestingNetwork:
    """Where test restores land: the platform VPC's isolated subnets."""

    vpc: ec2.IVpc


@dataclass(frozen=True)
class RestoreTestingProps:
    name_prefix: str  # e.g. "au-production"
    timezone: str
    vault_arn: str  # recovery points are drawn from this vault
    role_name: str
    source_key: kms.IKey  # the key restored resources are encrypted with
    selection_window_days: int = 30
    start_window_hours: int = 8
    validation_window_hours: int = 12
    network: RestoreTestingNetwork | None = None  # None: AWS Backup's default (the default VPC)


class MonthlyRestoreTesting(Construct):
    """`plan`, `selections[resource_type]`, `role`."""

    def __init__(self, scope: Construct, id: str, *, props: RestoreTestingProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self._safe_prefix = props.name_prefix.replace("-", "_")
        self.role = self._role()
        self.plan_name = f"{self._safe_prefix}_monthly_restore_test"
        self.plan = self._plan()
        self.security_group: ec2.SecurityGroup | None = None
        self.db_subnet_group: rds.CfnDBSubnetGroup | None = None
        overrides: dict[str, dict[str, str]] = {}
        if props.network is not None:
            self.security_group, self.db_subnet_group = self._isolated_placement(props.network)
            overrides = self._placement_overrides(props.network, self.security_group, self.db_subnet_group)
        self.selections: dict[str, backup.CfnRestoreTestingSelection] = {}
        for resource_type, tier in RESTORE_TEST_TARGETS.items():
            self.selections[resource_type] = self._selection(resource_type, tier, overrides.get(resource_type))

    def _role(self) -> ManagedPolicyRole:
        """Restores, validates and deletes; may use the data key for the restored resources."""
        props = self.props
        role = ManagedPolicyRole(
            self,
            "Role",
            role_name=props.role_name,
            assumed_by=iam.ServicePrincipal("backup.amazonaws.com"),
            description=f"AWS Backup restore testing of {props.name_prefix}: restores, validates, deletes",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(RESTORE_SERVICE_POLICY)],
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="UseDataKeyForRestoredResources",
                actions=["kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext"],
                resources=[props.source_key.key_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="GrantDataKeyToRestoredResources",
                actions=["kms:CreateGrant"],
                resources=[props.source_key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            )
        )
        return role

    def _plan(self) -> backup.CfnRestoreTestingPlan:
        props = self.props
        return backup.CfnRestoreTestingPlan(
            self,
            "Plan",
            restore_testing_plan_name=self.plan_name,
            schedule_expression=MONTHLY_RESTORE_TEST,
            schedule_expression_timezone=props.timezone,
            start_window_hours=props.start_window_hours,
            recovery_point_selection=backup.CfnRestoreTestingPlan.RestoreTestingRecoveryPointSelectionProperty(
                algorithm="RANDOM_WITHIN_WINDOW",
                include_vaults=[props.vault_arn],
                recovery_point_types=["SNAPSHOT"],
                selection_window_days=props.selection_window_days,
            ),
            tags=[cdk.CfnTag(key="clause", value="BAK-9")],
        )

    def _isolated_placement(self, network: RestoreTestingNetwork) -> tuple[ec2.SecurityGroup, rds.CfnDBSubnetGroup]:
        """A closed security group and a DB subnet group in the isolated subnets (BAK-9)."""
        prefix = self.props.name_prefix
        security_group = closed_security_group(
            self,
            "RestoredResources",
            vpc=network.vpc,
            description=f"{prefix} restore tests: no ingress, no egress (BAK-9)",
        )
        db_subnet_group = rds.CfnDBSubnetGroup(
            self,
            "DbSubnets",
            db_subnet_group_name=f"{prefix}-restore-test",
            db_subnet_group_description=f"{prefix} restore tests: isolated subnets (BAK-9)",
            subnet_ids=network.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids,
        )
        return security_group, db_subnet_group

    def _placement_overrides(
        self, network: RestoreTestingNetwork, security_group: ec2.SecurityGroup, db_subnet_group: rds.CfnDBSubnetGroup
    ) -> dict[str, dict[str, str]]:
        """Each resource type restores into the first isolated subnet, behind the closed group."""
        first = network.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnets[0]
        return {
            resource_type: restore_metadata_overrides(
                resource_type,
                subnet_id=first.subnet_id,
                availability_zone=first.availability_zone,
                security_group_ids=[security_group.security_group_id],
                db_subnet_group_name=db_subnet_group.ref,
            )
            for resource_type in RESTORE_TEST_TARGETS
        }

    def _selection(
        self, resource_type: str, tier: str, overrides: dict[str, str] | None
    ) -> backup.CfnRestoreTestingSelection:
        """The recovery points of one resource type's backup tier."""
        props = self.props
        selection = backup.CfnRestoreTestingSelection(
            self,
            f"{resource_type.capitalize()}Selection",
            restore_testing_plan_name=self.plan_name,
            restore_testing_selection_name=f"{self._safe_prefix}_{resource_type.lower()}",
            protected_resource_type=resource_type,
            iam_role_arn=self.role.role_arn,
            protected_resource_conditions=backup.CfnRestoreTestingSelection.ProtectedResourceConditionsProperty(
                string_equals=[
                    backup.CfnRestoreTestingSelection.KeyValueProperty(key=f"aws:ResourceTag/{BACKUP_TIER}", value=tier)
                ]
            ),
            validation_window_hours=props.validation_window_hours,
            restore_metadata_overrides=overrides,
        )
        selection.add_resource_dependency(self.plan)
        return selection

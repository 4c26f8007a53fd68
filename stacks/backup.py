"""The backup stacks: each region's locked backup vault and job alarms (`BackupStack`); the primary's
plans, restore testing and audit framework (`PrimaryBackupStack`); the DR region's dormant database
plan (`DrBackupStack`) (BAK-1..BAK-5, BAK-9, ACC-4, OPS-2).

The DR stage deploys first and holds the vault that receives the copies; the
primary stage's copy rules reach it by its deterministic name (no cross-region
reference, BAK-5). The AWS Backup service roles have deterministic names too, so
that either region's backup-key policy can admit them before they exist.

Backup plans are regional: a plan of the primary region never selects a resource of
the DR region. The DR stage therefore holds a dormant database plan
(`<deployment>-dr-database`) with the primary's rules, selecting `backup-tier=database`,
the tag the failover sets on the promoted writer (runbooks/failover.py), and copying to
the primary region's vault (BAK-5, inside the jurisdiction, HOST-2). Until a failover
nothing in the DR region carries that tag (the replica is `backup-tier=standby`).
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from config import Deployment
from config.names import DR, PRIMARY
from patterns.backup_alarms import BackupAlarmsProps, BackupJobAlarms
from patterns.backup_audit import BackupAuditFramework, BackupAuditProps
from patterns.backup_plan import BACKUP_SERVICE_POLICY, PARTITION, BackupPlanProps, TieredBackupPlans
from patterns.backup_vault import BackupVaultProps, SecureBackupVault
from patterns.config_recorder import BackupAuditRecorder, BackupAuditRecorderProps
from patterns.restore_testing import (
    RESTORE_SERVICE_POLICY,
    MonthlyRestoreTesting,
    RestoreTestingNetwork,
    RestoreTestingProps,
)
from patterns.secure_bucket import LoggedBuckets
from patterns.tagging import BACKUP_TIER_DATABASE
from policies.acknowledgments import acknowledge
from stacks.base import PlatformStack


def backup_role_name(deployment: Deployment) -> str:
    return f"{deployment.name}-backup-service"


def dr_backup_role_name(deployment: Deployment) -> str:
    """The role of the DR region's dormant plan (IAM is global: the primary's role name is taken)."""
    return f"{deployment.name}-dr-backup-service"


def restore_testing_role_name(deployment: Deployment) -> str:
    return f"{deployment.name}-restore-testing"


def role_arn(deployment: Deployment, partition: str, name: str) -> str:
    """IAM is global: a role of the primary region's stacks, addressed from any region."""
    return f"arn:{partition}:iam::{deployment.account}:role/{name}"


class BackupStack(PlatformStack):
    """What both regions' backup stacks hold: the locked vault (ACC-4), its outputs and the backup job
    alarms. `PrimaryBackupStack` and `DrBackupStack` add their region's plans."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        deployment: Deployment,
        role: str,
        summary: str,
        backup_key: kms.IKey,
        alarm_topics: Mapping[int, sns.ITopic] | None = None,
    ) -> None:
        super().__init__(scope, id, deployment=deployment, role=role, summary=summary)
        self.break_glass_role_arn = role_arn(deployment, PARTITION, deployment.break_glass_role_name)
        self.vault = self._vault(deployment, role, backup_key)
        self.plans: TieredBackupPlans | None = None
        self.alarms: BackupJobAlarms | None = None
        if alarm_topics is not None:
            self.alarms = BackupJobAlarms(
                self,
                "JobAlarms",
                props=BackupAlarmsProps(name_prefix=self.name_prefix, topics=alarm_topics),
            )

    def _vault(self, deployment: Deployment, role: str, backup_key: kms.IKey) -> SecureBackupVault:
        """The locked vault of this region (ACC-4), usable by the three AWS Backup roles, and its outputs."""
        retention = deployment.retention
        service_role_arns = [
            role_arn(deployment, PARTITION, backup_role_name(deployment)),
            role_arn(deployment, PARTITION, restore_testing_role_name(deployment)),
            role_arn(deployment, PARTITION, dr_backup_role_name(deployment)),
        ]
        vault = SecureBackupVault(
            self,
            "Vault",
            props=BackupVaultProps(
                vault_name=self.names.backup_vault_name(role),
                key=backup_key,
                break_glass_role_arn=self.break_glass_role_arn,
                lock_min_days=retention.vault_lock_min_days,
                lock_max_days=retention.vault_lock_max_days,
                compliance_mode=deployment.is_production,
                service_role_arns=service_role_arns,
            ),
        )
        cdk.CfnOutput(self, "VaultName", value=vault.vault.backup_vault_name)
        cdk.CfnOutput(self, "VaultArn", value=vault.vault_arn)
        return vault

    def _primary_plans(self, deployment: Deployment, data_key: kms.IKey) -> TieredBackupPlans:
        """Every tier's plan, copied to the DR region's vault (BAK-1..BAK-5)."""
        return self._plans(
            data_key,
            name_prefix=deployment.name,
            copy_region=deployment.dr_region,
            copy_vault_name=self.names.backup_vault_name(DR),
            role_name=backup_role_name(deployment),
        )

    def _plans(
        self,
        data_key: kms.IKey,
        *,
        name_prefix: str,
        copy_region: str,
        copy_vault_name: str,
        role_name: str,
        tiers: tuple[str, ...] | None = None,
    ) -> TieredBackupPlans:
        """Plans into this stack's vault on the deployment's schedules and retention, copied to the other region."""
        deployment = self.deployment
        return TieredBackupPlans(
            self,
            "Plans",
            props=BackupPlanProps(
                name_prefix=name_prefix,
                jurisdiction=deployment.jurisdiction,
                timezone=deployment.timezone,
                retention=deployment.retention,
                vault=self.vault.vault,
                copy_region=copy_region,
                copy_vault_name=copy_vault_name,
                role_name=role_name,
                maintenance=deployment.maintenance,
                source_keys=(data_key,),
                allowed_regions=deployment.allowed_regions,
                tiers=tiers,
            ),
        )

    def _restore_testing(
        self, deployment: Deployment, data_key: kms.IKey, vpc: ec2.IVpc | None
    ) -> MonthlyRestoreTesting:
        """Monthly restore tests into the platform VPC's isolated subnets (BAK-9)."""
        return MonthlyRestoreTesting(
            self,
            "RestoreTesting",
            props=RestoreTestingProps(
                name_prefix=deployment.name,
                timezone=deployment.timezone,
                vault_arn=self.vault.vault_arn,
                role_name=restore_testing_role_name(deployment),
                source_key=data_key,
                network=RestoreTestingNetwork(vpc) if vpc is not None else None,
            ),
        )

    def _audit_framework(self, deployment: Deployment) -> BackupAuditFramework:
        retention = deployment.retention
        return BackupAuditFramework(
            self,
            "Audit",
            props=BackupAuditProps(
                name_prefix=deployment.name,
                daily_retention_days=min(retention.rds_daily_backup_days, retention.ebs_snapshot_days),
                lock_min_days=retention.vault_lock_min_days,
                lock_max_days=retention.vault_lock_max_days,
                copy_region=deployment.dr_region,
                break_glass_role_arn=self.break_glass_role_arn,
            ),
        )

    def _primary_outputs(self, plans: TieredBackupPlans, restore_testing: MonthlyRestoreTesting) -> None:
        cdk.CfnOutput(self, "DatabasePlanId", value=plans.plans["database"].attr_backup_plan_id)
        cdk.CfnOutput(self, "ComputePlanId", value=plans.plans["compute"].attr_backup_plan_id)
        cdk.CfnOutput(self, "CopyVaultArn", value=plans.copy_vault_arn)
        cdk.CfnOutput(self, "RestoreTestingPlanName", value=restore_testing.plan_name)

    def _dr_plan(self, deployment: Deployment, data_key: kms.IKey) -> None:
        """The dormant database plan of the DR region: it backs up the promoted writer (module docstring)."""
        self.plans = self._plans(
            data_key,
            name_prefix=self.name_prefix,
            copy_region=deployment.primary_region,
            copy_vault_name=self.names.backup_vault_name(PRIMARY),
            role_name=dr_backup_role_name(deployment),
            tiers=(BACKUP_TIER_DATABASE,),
        )
        _acknowledge_service_policy(self.plans.role, BACKUP_SERVICE_POLICY)
        plan = self.plans.plans[BACKUP_TIER_DATABASE]
        acknowledge(
            plan,
            ["DataSecurity-BAK9-RestoreTesting"],
            "This plan is dormant until a failover (it selects only the promoted writer) and copies every "
            "recovery point to the primary region's vault. Compensating controls: the primary region's monthly "
            "restore tests (BAK-9) and the quarterly full recovery drill (runbooks/restore_drill.md) exercise "
            "the same plan rules and engine; the DR region's backup job alarms report failed jobs.",
        )
        cdk.CfnOutput(self, "DatabasePlanId", value=plan.attr_backup_plan_id)
        cdk.CfnOutput(self, "CopyVaultArn", value=self.plans.copy_vault_arn)

    def _config_recorder(self, deployment: Deployment, logs_key: kms.IKey) -> BackupAuditRecorder:
        retention = deployment.retention
        buckets = LoggedBuckets(
            self,
            "ConfigAccessLogs",
            retention=retention,
            bucket_name=f"{self.name_prefix}-config-access-logs-{self.account}",
        )
        bucket = buckets.secure(
            "ConfigDelivery",
            key=logs_key,
            data_class="logs",
            archive=True,
            log_prefix="config/",
            bucket_name=f"{self.name_prefix}-config-{self.account}",
            no_replication_reason="AWS Config's configuration history of this region; each region records its own.",
        )
        return BackupAuditRecorder(
            self,
            "ConfigRecorder",
            props=BackupAuditRecorderProps(name_prefix=self.name_prefix, delivery_bucket=bucket, delivery_key=logs_key),
        )


class PrimaryBackupStack(BackupStack):
    """The primary region's backups: every tier's plan copied to the DR vault, monthly restore tests, the
    backup audit framework and, where config says so, an AWS Config recorder (BAK-1..BAK-5, BAK-9)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        deployment: Deployment,
        backup_key: kms.IKey,
        data_key: kms.IKey,
        alarm_topics: Mapping[int, sns.ITopic] | None = None,
        vpc: ec2.IVpc | None = None,  # the platform VPC: monthly restore tests land in its isolated subnets
        logs_key: kms.IKey | None = None,  # encrypts the AWS Config delivery bucket (aws_config.create_recorder)
    ) -> None:
        if deployment.aws_config.create_recorder and logs_key is None:
            raise ValueError(
                f"{deployment.name}: aws_config.create_recorder needs the Backup stack's logs_key "
                "(the Config delivery bucket is a logs-class bucket, ENC-2)"
            )
        super().__init__(
            scope,
            id,
            deployment=deployment,
            role=PRIMARY,
            summary=(
                "locked backup vault, tiered backup plans with DR copies, monthly restore tests, "
                "backup audit framework, job alarms (BAK-1..BAK-5, BAK-9, ACC-4)"
            ),
            backup_key=backup_key,
            alarm_topics=alarm_topics,
        )
        self.plans = self._primary_plans(deployment, data_key)
        self.restore_testing = self._restore_testing(deployment, data_key, vpc)
        self.audit = self._audit_framework(deployment)
        # Backup Audit Manager needs an AWS Config recorder in the region (patterns/config_recorder.py):
        # the organisation's by default (checked by the preflight), ours only where config says so.
        self.config_recorder: BackupAuditRecorder | None = None
        if logs_key is not None and deployment.aws_config.create_recorder:
            self.config_recorder = self._config_recorder(deployment, logs_key)
        _acknowledge_service_policy(self.plans.role, BACKUP_SERVICE_POLICY)
        _acknowledge_service_policy(self.restore_testing.role, RESTORE_SERVICE_POLICY)
        self._primary_outputs(self.plans, self.restore_testing)


class DrBackupStack(BackupStack):
    """The DR region's backups: the vault receiving the primary's copies and the dormant database plan
    that backs up the promoted writer after a failover (module docstring; BAK-5, ACC-4)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        deployment: Deployment,
        backup_key: kms.IKey,
        data_key: kms.IKey,
        alarm_topics: Mapping[int, sns.ITopic] | None = None,
    ) -> None:
        super().__init__(
            scope,
            id,
            deployment=deployment,
            role=DR,
            summary="locked backup vault receiving the primary region's backup copies (BAK-5, ACC-4)",
            backup_key=backup_key,
            alarm_topics=alarm_topics,
        )
        self._dr_plan(deployment, data_key)


def _acknowledge_service_policy(service_role: iam.IRole, policy: str) -> None:
    acknowledge(
        service_role,
        [f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{policy}]"],
        "The AWS-maintained AWS Backup service-role policy follows every backed-up service's API; "
        "a hand copy would drift and still need wildcard resources for run-time snapshot names. "
        "Compensating controls: only backup.amazonaws.com can assume the role, resources opt in by "
        "the backup-tier tag, the vault access policy denies deletion to all but break-glass, "
        "vault lock bounds retention, and the AWS Backup Audit Manager framework checks the result.",
    )

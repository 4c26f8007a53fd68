"""An AWS Backup Audit Manager framework that checks the backup promises continuously.

AWS Backup Audit Manager evaluates these controls through AWS Config: a configuration
recorder must record, in this region, the types in
`patterns.config_recorder.RECORDED_RESOURCE_TYPES`. A recorder is an account-region
singleton, normally the organisation's (Control Tower): by default the platform creates
none and the preflight checks the organisation's with
`patterns.config_recorder.recorder_problems`; a deployment with
`aws_config.create_recorder = true` gets its own, limited to those types, in the
Backup stack (docs/aws-config-recorder.md). Without a recorder the framework is
created but evaluates nothing. Control names and input parameters are the documented
ones (AWS Backup developer guide, "Choosing your controls"):

| control | parameters | clause |
|---|---|---|
| BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN | - | BAK-1..BAK-3 |
| BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK | requiredFrequencyUnit=days, | BAK-2, BAK-3 |
|   | requiredFrequencyValue=1, requiredRetentionDays |   |
| BACKUP_RECOVERY_POINT_ENCRYPTED | - | ENC-1 |
| BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED | principalArnList=break-glass role | ACC-4 |
| BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK | minRetentionDays, maxRetentionDays | ACC-4 |
| BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION | crossRegionList=DR region | BAK-5 |
| BACKUP_LAST_RECOVERY_POINT_CREATED | recoveryPointAgeUnit=days, recoveryPointAgeValue=1 | BAK-1..BAK-3 |

The frequency control is checked at the daily level that both tiers share (a tier's
plan must have a daily-or-better rule kept at least the shorter of the two daily
retentions); the hourly and 12-hourly rules of the database tier are proven at synth
time by the tests and the policy pack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_backup as backup
from constructs import Construct

RESOURCE_TYPES: Final[tuple[str, ...]] = ("RDS", "EC2", "EBS")


@dataclass(frozen=True)
class BackupAuditProps:
    name_prefix: str  # e.g. "au-production"
    daily_retention_days: int
    lock_min_days: int
    lock_max_days: int
    copy_region: str
    break_glass_role_arn: str


def _control(
    name: str, parameters: dict[str, str] | None = None, scoped: bool = False
) -> backup.CfnFramework.FrameworkControlProperty:
    return backup.CfnFramework.FrameworkControlProperty(
        control_name=name,
        control_input_parameters=[
            backup.CfnFramework.ControlInputParameterProperty(parameter_name=key, parameter_value=value)
            for key, value in (parameters or {}).items()
        ]
        or None,
        control_scope={"ComplianceResourceTypes": list(RESOURCE_TYPES)} if scoped else None,
    )


class BackupAuditFramework(Construct):
    """`framework` (CfnFramework) and `controls` (name -> parameters)."""

    def __init__(self, scope: Construct, id: str, *, props: BackupAuditProps) -> None:
        super().__init__(scope, id)
        self.controls: dict[str, tuple[dict[str, str], bool]] = {
            "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN": ({}, True),
            "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK": (
                {
                    "requiredFrequencyUnit": "days",
                    "requiredFrequencyValue": "1",
                    "requiredRetentionDays": str(props.daily_retention_days),
                },
                False,
            ),
            "BACKUP_RECOVERY_POINT_ENCRYPTED": ({}, False),
            "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED": (
                {"principalArnList": props.break_glass_role_arn},
                False,
            ),
            "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK": (
                {"minRetentionDays": str(props.lock_min_days), "maxRetentionDays": str(props.lock_max_days)},
                True,
            ),
            "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION": ({"crossRegionList": props.copy_region}, True),
            "BACKUP_LAST_RECOVERY_POINT_CREATED": (
                {"recoveryPointAgeUnit": "days", "recoveryPointAgeValue": "1"},
                True,
            ),
        }
        self.framework = backup.CfnFramework(
            self,
            "Framework",
            framework_name=f"{props.name_prefix.replace('-', '_')}_backup_policy",
            framework_description=(
                f"{props.name_prefix}: backup frequency, retention, encryption, vault lock, "
                "manual-deletion protection and cross-region copy (BAK-1..BAK-5, ACC-4)"
            ),
            framework_controls=[
                _control(name, parameters, scoped) for name, (parameters, scoped) in self.controls.items()
            ],
            framework_tags=[cdk.CfnTag(key="clause", value="BAK-5")],
        )

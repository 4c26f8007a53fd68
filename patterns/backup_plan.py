"""AWS Backup plans per backup tier, each rule copied to the DR vault (BAK-1..BAK-5, HOST-2).

Resources opt in by tag: `backup-tier=database` (RDS) and `backup-tier=compute`
(EC2 instances and EBS volumes that hold data). The web tier is **stateless**
(`backup-tier=stateless`): it is rebuilt from its launch template, its volumes die
with their instances, so no plan backs it up (BAK-2 holds for every EC2/EBS that
holds data: the `compute` plan below, checked by `DataSecurity-BAK2-*`). Each tier
has its own plan, because a plan's rules apply to every resource of its selections:

Schedules marked (tz) run in the deployment's own time zone
(`ScheduleExpressionTimezone`); the hourly rule needs none.

| tier | rule | schedule | kept (config field) | clause |
|---|---|---|---|---|
| database | Hourly(+Maintenance<Day>) | `cron(0 * ? * * *)` but the maintenance block | `hourly_backup_days` | BAK-1 |
| database | TwiceDaily | `cron(0 0,12 * * ? *)` (tz) | `twice_daily_backup_days` | BAK-1 |
| database | Daily | `cron(0 3 * * ? *)` (tz), continuous | `rds_daily_backup_days` | BAK-3 |
| compute | Daily | `cron(0 3 * * ? *)` (tz) | `ebs_snapshot_days` | BAK-2 |
| both | Monthly | `cron(0 3 1 * ? *)` (tz), cold storage | `monthly_archive_days` | BAK-4 |

No database backup starts in the hour before or during the maintenance window (AWS Backup,
https://docs.aws.amazon.com/aws-backup/latest/devguide/plan-options-and-configuration.html):
the hourly rule skips those UTC hours (`hourly_schedules`; point-in-time recovery covers
them), and the local-time database rules get a start window that outlasts them
(`waits_out_the_window`), so no job expires and pages every week (runbooks/availability.md).

The monthly rule moves recovery points to cold storage after
`monthly_cold_storage_after_days`. Where two rules of a plan fall due at the same
time (hourly and 12-hourly at midnight), AWS Backup runs one job and keeps the
recovery point for the longer retention, so overlaps cost nothing.

Every rule carries a copy action to the DR region's vault with the same lifecycle
(BAK-5). The DR vault's ARN is built from its deterministic name, and the pattern
refuses (HOST-2) to copy to a region outside the deployment's jurisdiction.

Continuous backup: AWS Backup allows at most 35 days for continuous (point-in-time)
recovery points, and when it takes over an RDS instance's PITR it sets the
instance's automated-backup retention to the rule's retention. It is therefore
enabled on the daily database rule (retention >= 30 days, BAK-3) only, and only when
that retention is <= 35 days; a longer daily retention keeps snapshot backups and
leaves PITR to the instance's own automated backups (`rds_automated_backup_days`).
Enabling it on the hourly rule would shrink the database's PITR window to hours.

Cold storage (`OptInToArchiveForSupportedResources`) applies to the resource types
that support it (EBS snapshots); RDS snapshots stay in warm storage for the whole
archive period, which still meets BAK-4's retention.

The selection role is a `ManagedPolicyRole` with the AWS managed
`AWSBackupServiceRolePolicyForBackup` (see `BackupStack` for the acknowledgment);
grants to the source data key land in its customer-managed policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_backup as backup
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from config import Retention
from config.model import MaintenanceWindow
from patterns.iam import ManagedPolicyRole
from patterns.tagging import BACKUP_TIER, BACKUP_TIER_COMPUTE, BACKUP_TIER_DATABASE

HOURLY: Final = "cron(0 * ? * * *)"
TWICE_DAILY: Final = "cron(0 0,12 * * ? *)"
DAILY_AT_3: Final = "cron(0 3 * * ? *)"
MONTHLY_AT_3: Final = "cron(0 3 1 * ? *)"

WEEKDAYS: Final = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")

# AWS Backup: continuous backups are kept at most 35 days.
CONTINUOUS_BACKUP_MAX_DAYS: Final = 35

BACKUP_SERVICE_POLICY: Final = "service-role/AWSBackupServiceRolePolicyForBackup"

# Every region of config/regions.py is in the commercial partition. A
# literal (not the AWS::Partition token) keeps the copy target a plain string that the
# policy pack and auditors can read.
PARTITION: Final = "aws"


class JurisdictionError(ValueError):
    """A backup copy would leave the deployment's jurisdiction (HOST-2)."""


@dataclass(frozen=True)
class RuleSpec:
    name: str
    schedule: str
    delete_after_days: int
    timezone: str | None = None  # None: the schedule is in UTC
    cold_after_days: int | None = None
    continuous: bool = False
    start_window_minutes: int = 60
    completion_window_minutes: int = 480


@dataclass(frozen=True)
class BackupPlanProps:
    name_prefix: str  # e.g. "au-production"
    jurisdiction: str
    timezone: str  # IANA name, e.g. "Australia/Sydney"
    retention: Retention
    vault: backup.IBackupVault  # the primary region's vault: every rule's target
    copy_region: str  # the DR region
    copy_vault_name: str  # the DR vault's deterministic name
    role_name: str  # deterministic, so the DR key policy can name it before it exists
    allowed_regions: Sequence[str]  # HOST-2: the jurisdiction's allow-list (Deployment.allowed_regions)
    source_keys: Sequence[kms.IKey] = ()  # keys that encrypt the backed-up resources
    tiers: Sequence[str] | None = None  # the tiers to build plans for; None: every tier of `tier_rules`
    # The databases' announced window (OPS-5): no database backup starts in it or the hour before.
    maintenance: MaintenanceWindow | None = None


def _hour_list(hours: Sequence[int]) -> str:
    """`0-14,19-23`: ascending hours as cron ranges."""
    runs: list[list[int]] = []
    for hour in sorted(hours):
        if runs and hour == runs[-1][-1] + 1:
            runs[-1].append(hour)
        else:
            runs.append([hour])
    return ",".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def hourly_schedules(maintenance: MaintenanceWindow | None) -> tuple[tuple[str, str], ...]:
    """(rule name, UTC cron) of the hourly database rule, without the hours the window blocks.

    AWS Backup starts no database backup in the hour before or during the maintenance window; a
    job scheduled then would EXPIRE (and page) every week. So the days the window touches get a
    rule of their own that skips those hours; point-in-time recovery (RDS automated backups,
    BAK-3) covers them."""
    blocked = maintenance.backup_blocked_hours if maintenance is not None else frozenset()
    if not blocked:
        return (("Hourly", HOURLY),)
    by_hours: dict[tuple[int, ...], list[int]] = {}
    for day in range(7):
        hours = tuple(h for h in range(24) if (day, h) not in blocked)
        by_hours.setdefault(hours, []).append(day)
    schedules = []
    for hours, days in sorted(by_hours.items(), key=lambda item: (-len(item[0]), item[1])):
        day_list = ",".join(WEEKDAYS[d] for d in days)
        name = "Hourly" if len(hours) == 24 else f"HourlyMaintenance{''.join(WEEKDAYS[d].title() for d in days)}"
        schedules.append((name, f"cron(0 {'*' if len(hours) == 24 else _hour_list(hours)} ? * {day_list} *)"))
    return tuple(schedules)


def waits_out_the_window(rule: RuleSpec, maintenance: MaintenanceWindow | None) -> RuleSpec:
    """A database rule in local time may fall in the blocked hours (DST moves it): its start window
    outlasts them, so the job waits (AWS Backup retries a CREATED job at least every 10 minutes)
    and starts after the window instead of expiring (API_BackupRule, StartWindowMinutes)."""
    if maintenance is None:
        return rule
    start, end = maintenance.backup_blocked_minutes
    return replace(rule, start_window_minutes=max(rule.start_window_minutes, end - start + 60))


def tier_rules(
    retention: Retention, timezone: str, maintenance: MaintenanceWindow | None = None
) -> dict[str, tuple[RuleSpec, ...]]:
    """The rules of each tier, from configuration (values already checked by config.load)."""
    monthly = RuleSpec(
        name="Monthly",
        schedule=MONTHLY_AT_3,
        timezone=timezone,
        delete_after_days=retention.monthly_archive_days,
        cold_after_days=retention.monthly_cold_storage_after_days,
        completion_window_minutes=1440,
    )
    return {
        BACKUP_TIER_DATABASE: (
            *(
                RuleSpec(
                    name=name,
                    schedule=schedule,
                    delete_after_days=retention.hourly_backup_days,
                    completion_window_minutes=120,
                )
                for name, schedule in hourly_schedules(maintenance)
            ),
            *(
                waits_out_the_window(rule, maintenance)
                for rule in (
                    RuleSpec(
                        name="TwiceDaily",
                        schedule=TWICE_DAILY,
                        timezone=timezone,
                        delete_after_days=retention.twice_daily_backup_days,
                    ),
                    RuleSpec(
                        name="Daily",
                        schedule=DAILY_AT_3,
                        timezone=timezone,
                        delete_after_days=retention.rds_daily_backup_days,
                        continuous=retention.rds_daily_backup_days <= CONTINUOUS_BACKUP_MAX_DAYS,
                    ),
                    monthly,
                )
            ),
        ),
        BACKUP_TIER_COMPUTE: (
            RuleSpec(
                name="Daily",
                schedule=DAILY_AT_3,
                timezone=timezone,
                delete_after_days=retention.ebs_snapshot_days,
            ),
            monthly,
        ),
    }


def check_copy_region(jurisdiction: str, region: str, allowed_regions: Sequence[str]) -> None:
    """Defence in depth behind config validation: a copy never leaves the jurisdiction."""
    allowed = tuple(allowed_regions)
    if region not in allowed:
        raise JurisdictionError(
            f"[HOST-2] backup copy destination region {region!r} is outside jurisdiction "
            f"{jurisdiction!r} (allowed: {', '.join(allowed) or 'none'})"
        )


class TieredBackupPlans(Construct):
    """`plans[tier]` (CfnBackupPlan), `selections[tier]`, `rules[tier]`, `role`, `copy_vault_arn`."""

    def __init__(self, scope: Construct, id: str, *, props: BackupPlanProps) -> None:
        super().__init__(scope, id)
        check_copy_region(props.jurisdiction, props.copy_region, props.allowed_regions)
        self.props = props
        stack = cdk.Stack.of(self)
        self.copy_vault_arn = (
            f"arn:{PARTITION}:backup:{props.copy_region}:{stack.account}:backup-vault:{props.copy_vault_name}"
        )
        self.role = self._selection_role()
        if props.source_keys:
            self._let_role_use_source_keys(self.role)
        self.rules = {
            tier: rules
            for tier, rules in tier_rules(props.retention, props.timezone, props.maintenance).items()
            if props.tiers is None or tier in props.tiers
        }
        self.plans: dict[str, backup.CfnBackupPlan] = {}
        self.selections: dict[str, backup.CfnBackupSelection] = {}
        for tier, rules in self.rules.items():
            self.plans[tier] = self._plan(tier, rules)
            self.selections[tier] = self._selection(tier, self.plans[tier])

    def _selection_role(self) -> ManagedPolicyRole:
        props = self.props
        return ManagedPolicyRole(
            self,
            "SelectionRole",
            role_name=props.role_name,
            assumed_by=iam.ServicePrincipal("backup.amazonaws.com"),
            description=f"AWS Backup takes and copies {props.name_prefix} backups of tagged resources",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(BACKUP_SERVICE_POLICY)],
        )

    def _let_role_use_source_keys(self, role: ManagedPolicyRole) -> None:
        """Snapshots of CMK-encrypted volumes and databases, and their cross-region copies."""
        key_arns = [key.key_arn for key in self.props.source_keys]
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="UseSourceDataKeys",
                actions=[
                    "kms:DescribeKey",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:GenerateDataKeyWithoutPlaintext",
                ],
                resources=key_arns,
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="GrantSourceDataKeysToAwsResources",
                actions=["kms:CreateGrant"],
                resources=key_arns,
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            )
        )

    def _plan(self, tier: str, rules: tuple[RuleSpec, ...]) -> backup.CfnBackupPlan:
        return backup.CfnBackupPlan(
            self,
            f"{tier.capitalize()}Plan",
            backup_plan=backup.CfnBackupPlan.BackupPlanResourceTypeProperty(
                backup_plan_name=f"{self.props.name_prefix}-{tier}",
                backup_plan_rule=[self._rule(rule, self.props.vault.backup_vault_name) for rule in rules],
            ),
            backup_plan_tags={BACKUP_TIER: tier},
        )

    def _selection(self, tier: str, plan: backup.CfnBackupPlan) -> backup.CfnBackupSelection:
        """The resources tagged with the plan's tier (BAK-1)."""
        return backup.CfnBackupSelection(
            self,
            f"{tier.capitalize()}Selection",
            backup_plan_id=plan.attr_backup_plan_id,
            backup_selection=backup.CfnBackupSelection.BackupSelectionResourceTypeProperty(
                iam_role_arn=self.role.role_arn,
                selection_name=f"{self.props.name_prefix}-{tier}-tagged",
                list_of_tags=[
                    backup.CfnBackupSelection.ConditionResourceTypeProperty(
                        condition_key=BACKUP_TIER,
                        condition_type="STRINGEQUALS",
                        condition_value=tier,
                    )
                ],
            ),
        )

    def _rule(self, rule: RuleSpec, vault_name: str) -> backup.CfnBackupPlan.BackupRuleResourceTypeProperty:
        lifecycle = backup.CfnBackupPlan.LifecycleResourceTypeProperty(
            delete_after_days=rule.delete_after_days,
            move_to_cold_storage_after_days=rule.cold_after_days,
            opt_in_to_archive_for_supported_resources=True if rule.cold_after_days is not None else None,
        )
        return backup.CfnBackupPlan.BackupRuleResourceTypeProperty(
            rule_name=rule.name,
            target_backup_vault=vault_name,
            schedule_expression=rule.schedule,
            schedule_expression_timezone=rule.timezone,
            start_window_minutes=rule.start_window_minutes,
            completion_window_minutes=rule.completion_window_minutes,
            enable_continuous_backup=True if rule.continuous else None,
            lifecycle=lifecycle,
            copy_actions=[
                backup.CfnBackupPlan.CopyActionResourceTypeProperty(
                    destination_backup_vault_arn=self.copy_vault_arn,
                    lifecycle=lifecycle,
                )
            ],
            recovery_point_tags={"backup-rule": rule.name},
        )

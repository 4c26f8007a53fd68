"""AWS Backup rules: schedules and retention per tier, DR copies, vault protection, restore testing
(BAK-1..5, BAK-9, ACC-4, ENC-1).

A tier is covered by a plan when one of the plan's `AWS::Backup::BackupSelection`s selects the tag
`backup-tier=<tier>` (patterns/tagging.py). Coverage rules are anchored on the protected resource (the
database, the web-tier Auto Scaling group), so a finding names what is left unprotected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from config.policy import DAILY_SNAPSHOT_SCHEDULE
from policies.rules.cfn import arn_region, as_list, flatten, is_true, ref_id, regions_in, tags_of
from policies.rules.iam_match import statements
from policies.rules.model import Resource, Result, StackView, fail, na, ok, rule
from policies.rules.schedule import Cron

DATABASE = "database"
COMPUTE = "compute"
DB_TYPES = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster")
ASG = ("AWS::AutoScaling::AutoScalingGroup",)


def plan_rules(plan: Resource) -> list[Mapping[str, Any]]:
    return [r for r in as_list(plan.prop("BackupPlan", "BackupPlanRule")) if isinstance(r, Mapping)]


def _delete_after(plan_rule: Mapping[str, Any]) -> int | None:
    value = (plan_rule.get("Lifecycle") or {}).get("DeleteAfterDays")
    return int(value) if value is not None else None


def _selected_tiers(selection: Resource) -> set[str]:
    body = selection.prop("BackupSelection") or {}
    tiers = {
        flatten(t.get("ConditionValue"))
        for t in as_list(body.get("ListOfTags"))
        if isinstance(t, Mapping) and flatten(t.get("ConditionKey")) == "backup-tier"
    }
    for conditions in (body.get("Conditions") or {}).values():
        for condition in as_list(conditions):
            if isinstance(condition, Mapping) and flatten(condition.get("ConditionKey")).endswith("backup-tier"):
                tiers.add(flatten(condition.get("ConditionValue")))
    return tiers


def plans_for_tier(stack: StackView, tier: str) -> list[Resource]:
    plans: list[Resource] = []
    for region_stack, selection in stack.in_region("AWS::Backup::BackupSelection"):
        if tier in _selected_tiers(selection):
            plan = region_stack.get(selection.prop("BackupPlanId"))
            if plan is not None and plan not in plans:
                plans.append(plan)
    return plans


def _tier_rules(stack: StackView, tier: str) -> list[tuple[Cron, Mapping[str, Any]]]:
    found = []
    for plan in plans_for_tier(stack, tier):
        for plan_rule in plan_rules(plan):
            cron = Cron.parse(flatten(plan_rule.get("ScheduleExpression", "")))
            if cron is not None:
                found.append((cron, plan_rule))
    return found


def _tier_tag(resource: Resource, stack: StackView) -> str | None:
    """The resource's backup-tier tag; for an ASG also the instance tags of its launch template."""
    tier = resource.tags.get("backup-tier")
    template = stack.get(resource.prop("LaunchTemplate", "LaunchTemplateId"))
    if tier is None and template is not None:
        for spec in as_list(template.prop("LaunchTemplateData", "TagSpecifications")):
            if isinstance(spec, Mapping) and spec.get("ResourceType") == "instance":
                tier = tags_of(spec.get("Tags")).get("backup-tier", tier)
    return tier


def _is_replica(resource: Resource) -> bool:
    return bool(resource.prop("SourceDBInstanceIdentifier") or resource.prop("SourceDBClusterIdentifier"))


STATELESS = "stateless"


def _stateless_web_tier(resource: Resource, stack: StackView) -> Result:
    """A web tier tagged `stateless` is NA only if it truly keeps nothing: every volume of its launch
    template is deleted on termination (an instance is rebuilt from the template, never restored)."""
    template = stack.get(resource.prop("LaunchTemplate", "LaunchTemplateId"))
    if template is None:
        return fail("tagged stateless, but its launch template is not in this stack: cannot prove it keeps nothing")
    mappings = as_list(template.prop("LaunchTemplateData", "BlockDeviceMappings"))
    kept = [
        m.get("DeviceName")
        for m in mappings
        if isinstance(m, Mapping)
        and isinstance(m.get("Ebs"), Mapping)
        and not is_true(m["Ebs"].get("DeleteOnTermination"))
    ]
    if kept:
        return fail(f"tagged stateless, but volumes {kept} survive termination (data would be kept, unbacked)")
    return na("stateless web tier: rebuilt from its launch template, every volume deleted on termination")


def _needs(resource: Resource, stack: StackView, tier: str) -> Result | None:
    """None when the resource is in `tier` and should be covered; else the NA/fail result."""
    if resource.type in DB_TYPES and _is_replica(resource):
        return na("read replica: the source database is backed up")
    if resource.type in ASG and tier == COMPUTE and _tier_tag(resource, stack) == STATELESS:
        return _stateless_web_tier(resource, stack)
    if _tier_tag(resource, stack) != tier:
        return fail(f"not tagged backup-tier={tier}, so no backup selection picks it up")
    return None


@rule(
    "BAK1-DatabaseHourly",
    "BAK-1",
    DB_TYPES,
    "BAK-1: databases are backed up every hour and additionally every 12 hours; this database has no covering "
    "plan with an hourly rule and a 12-hourly rule of at least the configured retention.",
    "Seed 001: backed up every hour and additionally twice a day.",
)
def database_hourly(resource: Resource, stack: StackView) -> Result:
    early = _needs(resource, stack, DATABASE)
    if early:
        return early
    hourly_min = stack.retention_days("hourly_backup_days")
    twice_min = stack.retention_days("twice_daily_backup_days")
    rules = _tier_rules(stack, DATABASE)
    # Every hour of the week, except those in which AWS Backup starts no database backup (the hour
    # before the announced window and the window itself, config MaintenanceWindow.backup_blocked_hours).
    covered: set[tuple[int, int]] = set()
    for cron, plan_rule in rules:
        if (_delete_after(plan_rule) or 0) >= hourly_min:
            covered |= cron.week_hours()
    blocked = stack.deployment.maintenance.backup_blocked_hours if stack.deployment is not None else frozenset()
    hourly = {(d, h) for d in range(7) for h in range(24)} - blocked <= covered
    twice = [r for c, r in rules if c.twice_daily and (_delete_after(r) or 0) >= twice_min]
    missing = [n for n, found in (("hourly", hourly), ("12-hourly", twice)) if not found]
    if missing:
        return fail(
            f"no {' and no '.join(missing)} rule (retention >= {hourly_min}/{twice_min} d) covers backup-tier=database"
        )
    return ok("hourly and 12-hourly rules")


@rule(
    "BAK2-ComputeDaily0300",
    "BAK-2",
    ASG,
    "BAK-2: EC2/EBS snapshots are taken daily at 03:00 (deployment time zone) and kept >= 90 days; this web tier "
    "has no covering rule cron(0 3 * * ? *) with that retention (a web tier tagged backup-tier=stateless, whose "
    "volumes are all deleted on termination, holds no data and is rebuilt from its launch template: N/A).",
    "Seed 002: EC2 snapshots taken at 03:00 each day, kept 90 days.",
)
def compute_daily(resource: Resource, stack: StackView) -> Result:
    early = _needs(resource, stack, COMPUTE)
    if early:
        return early
    return _compute_daily_0300(stack)


def _compute_daily_0300(stack: StackView) -> Result:
    minimum = stack.retention_days("ebs_snapshot_days")
    zone = stack.deployment.timezone if stack.deployment else None
    seen = []
    for plan in plans_for_tier(stack, COMPUTE):
        for plan_rule in plan_rules(plan):
            if flatten(plan_rule.get("ScheduleExpression", "")) != DAILY_SNAPSHOT_SCHEDULE:
                continue
            days = _delete_after(plan_rule) or 0
            rule_zone = plan_rule.get("ScheduleExpressionTimezone")
            seen.append(f"{plan_rule.get('RuleName')}: {days} d, {rule_zone or 'UTC'}")
            if days >= minimum and (zone is None or rule_zone == zone):
                return ok(f"{plan_rule.get('RuleName')}: 03:00 {rule_zone}, {days} d")
    return fail(f"no 03:00 {zone} rule kept >= {minimum} d; found {seen or 'none'}")


@rule(
    "BAK2-DataVolumeDaily0300",
    "BAK-2",
    ("AWS::EC2::Instance", "AWS::EC2::Volume"),
    "BAK-2: every EC2 instance or EBS volume outside the stateless web tier may hold data, so it is tagged "
    "backup-tier=compute and snapshotted daily at 03:00 (deployment time zone), kept >= 90 days; this one is not.",
    "Seed 002: EC2 snapshots taken at 03:00 each day, kept 90 days.",
)
def data_volume_daily(resource: Resource, stack: StackView) -> Result:
    if resource.tags.get("backup-tier") != COMPUTE:
        return fail("not tagged backup-tier=compute: no backup selection picks it up")
    return _compute_daily_0300(stack)


@rule(
    "BAK3-DatabaseDaily",
    "BAK-3",
    DB_TYPES,
    "BAK-3: database snapshots are taken daily and kept >= 30 days; this database has no covering daily rule with "
    "that retention.",
    "Seeds 002/003: RDS snapshots daily, kept 30 days.",
)
def database_daily(resource: Resource, stack: StackView) -> Result:
    early = _needs(resource, stack, DATABASE)
    if early:
        return early
    minimum = stack.retention_days("rds_daily_backup_days")
    daily = [r for c, r in _tier_rules(stack, DATABASE) if c.daily and (_delete_after(r) or 0) >= minimum]
    return ok(f"daily rule {daily[0].get('RuleName')}") if daily else fail(f"no daily rule kept >= {minimum} d")


@rule(
    "BAK4-MonthlyArchive",
    "BAK-4",
    DB_TYPES + ASG,
    "BAK-4: encrypted monthly archives move to cold storage and are kept >= 1 year; this resource has no covering "
    "monthly rule with cold storage and that retention.",
    "Seed 003: encrypted monthly archival backups.",
)
def monthly_archive(resource: Resource, stack: StackView) -> Result:
    tier = COMPUTE if resource.type in ASG else DATABASE
    early = _needs(resource, stack, tier)
    if early:
        return early
    minimum = stack.retention_days("monthly_archive_days")
    for cron, plan_rule in _tier_rules(stack, tier):
        lifecycle = plan_rule.get("Lifecycle") or {}
        if cron.monthly and lifecycle.get("MoveToColdStorageAfterDays") and (_delete_after(plan_rule) or 0) >= minimum:
            return ok(
                f"monthly rule {plan_rule.get('RuleName')}: cold after {lifecycle['MoveToColdStorageAfterDays']} d"
            )
    return fail(f"no monthly rule with cold storage kept >= {minimum} d covers backup-tier={tier}")


@rule(
    "BAK5-CopyToDrRegion",
    "BAK-5",
    ("AWS::Backup::BackupPlan",),
    "BAK-5: every backup is also stored in the deployment's DR region (inside the jurisdiction); this plan has a "
    "rule without a copy to a vault there.",
    "Seeds 000/002: backups stored in multiple geographically isolated locations.",
)
def copy_to_dr(resource: Resource, stack: StackView) -> Result:
    deployment = stack.deployment
    if deployment is None:
        return fail("no deployment, so no DR region")
    allowed = deployment.allowed_regions
    wanted = deployment.dr_region if stack.region == deployment.primary_region else deployment.primary_region
    rules = plan_rules(resource)
    if not rules:
        return fail("plan has no rules")
    for plan_rule in rules:
        destinations = [
            flatten(c.get("DestinationBackupVaultArn"))
            for c in as_list(plan_rule.get("CopyActions"))
            if isinstance(c, Mapping)
        ]
        regions = {arn_region(d) for d in destinations} | {r for d in destinations for r in regions_in(d)}
        regions.discard(None)
        if not destinations:
            return fail(f"rule {plan_rule.get('RuleName')} has no copy action")
        if wanted not in regions or not regions <= set(allowed):
            return fail(f"rule {plan_rule.get('RuleName')} copies to {sorted(r for r in regions if r)}; want {wanted}")
    return ok(f"{len(rules)} rule(s) copy to {wanted}")


@rule(
    "ENC1-BackupVaultKms",
    "ENC-1",
    ("AWS::Backup::BackupVault",),
    "ENC-1: backups are encrypted with a customer-managed KMS key; this vault uses the AWS-managed backup key.",
    "Seeds 001/003/004: encrypted backups.",
)
def vault_kms(resource: Resource, stack: StackView) -> Result:
    key = resource.prop("EncryptionKeyArn")
    if not key or (isinstance(key, str) and "alias/aws/" in key):
        return fail(f"EncryptionKeyArn={key!r}")
    return ok("customer-managed key")


# What the vault policy must deny to all but break-glass: deleting a recovery point, shortening
# its lifecycle, disassociating it (continuous backups / composite children leave AWS Backup's
# retention), and replacing or removing the access policy that holds these denies.
PROTECTED = (
    "backup:DeleteRecoveryPoint",
    "backup:UpdateRecoveryPointLifecycle",
    "backup:DisassociateRecoveryPoint",
    "backup:DisassociateRecoveryPointFromParent",
    "backup:PutBackupVaultAccessPolicy",
    "backup:DeleteBackupVaultAccessPolicy",
)


@rule(
    "ACC4-VaultAccessPolicy",
    "ACC-4",
    ("AWS::Backup::BackupVault",),
    "ACC-4: only authorised members reach backup locations; the vault policy denies deleting/changing recovery "
    "points to everyone but the break-glass role; this vault's policy does not.",
    "Seed 002: only authorised members can reach backup locations.",
)
def vault_access_policy(resource: Resource, stack: StackView) -> Result:
    policy = resource.prop("AccessPolicy")
    if isinstance(policy, str):
        import json

        policy = json.loads(policy)
    break_glass = stack.deployment.break_glass_role_name if stack.deployment else "break-glass"
    for statement in statements(policy):
        principal = statement.get("Principal")
        everyone = principal == "*" or (isinstance(principal, Mapping) and principal.get("AWS") == "*")
        actions = {flatten(a) for a in as_list(statement.get("Action"))}
        covered = all(a in actions or "backup:*" in actions for a in PROTECTED)
        if statement.get("Effect") == "Deny" and everyone and covered:
            if break_glass in flatten(statement.get("Condition", "")) or break_glass in str(statement.get("Condition")):
                return ok(f"denies {', '.join(PROTECTED)} to all but {break_glass}")
            return fail("the deny has no exception for the break-glass role (nobody could recover)")
    return fail(f"no Deny of {', '.join(PROTECTED)} to all principals")


@rule(
    "ACC4-VaultLock",
    "ACC-4",
    ("AWS::Backup::BackupVault",),
    "ACC-4: production vaults are locked (compliance mode); this production vault has no vault lock.",
    "Seed 002: backups cannot be removed, even by administrators.",
)
def vault_lock(resource: Resource, stack: StackView) -> Result:
    lock = resource.prop("LockConfiguration")
    if not stack.is_production:
        return ok("vault lock (governance)") if lock else na("non-production: lock optional")
    if not lock or lock.get("MinRetentionDays") is None:
        return fail("no LockConfiguration with MinRetentionDays")
    if lock.get("ChangeableForDays") is None:
        return fail("lock in governance mode (no ChangeableForDays): removable")
    return ok(f"compliance-mode lock, min {lock.get('MinRetentionDays')} d")


@rule(
    "BAK9-RestoreTesting",
    "BAK-9",
    ("AWS::Backup::BackupPlan",),
    "BAK-9: backups are restore-tested at least monthly; this plan's region has no AWS Backup restore-testing plan "
    "with a monthly (or more frequent) schedule and a selection. (The quarterly full recovery is a runbook.)",
    "Seeds 001/003: restore exercise monthly, random testing of backups.",
)
def restore_testing(resource: Resource, stack: StackView) -> Result:
    for region_stack, plan in stack.in_region("AWS::Backup::RestoreTestingPlan"):
        cron = Cron.parse(flatten(plan.prop("ScheduleExpression", default="")))
        if cron is None or not (cron.monthly or cron.every_day or cron.day_of_week not in ("*", "?")):
            continue
        name = flatten(plan.prop("RestoreTestingPlanName"))
        for _, selection in stack.in_region("AWS::Backup::RestoreTestingSelection"):
            target = selection.prop("RestoreTestingPlanName")
            if ref_id(target) == plan.logical_id or flatten(target) == name:
                return ok(f"restore testing plan {name} ({plan.prop('ScheduleExpression')})")
        _ = region_stack
    return fail("no restore testing plan with a monthly schedule and a selection")


RULES = [
    database_hourly,
    compute_daily,
    data_volume_daily,
    database_daily,
    monthly_archive,
    copy_to_dr,
    vault_kms,
    vault_access_policy,
    vault_lock,
    restore_testing,
]

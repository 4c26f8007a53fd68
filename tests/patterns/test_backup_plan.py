"""patterns/backup_plan.py on a bare stack: one plan per backup tier with the configured retention
(BAK-1..BAK-4), every rule copied with the same lifecycle to the DR vault named in the props (BAK-5),
never to a region outside the jurisdiction (HOST-2), selecting resources by their tier tag."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_backup as backup
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from config import Retention
from config.model import MaintenanceWindow
from patterns.backup_plan import BackupPlanProps, JurisdictionError, TieredBackupPlans
from tests.patterns.bare import arn_of, bare_stack

# Distinct values, so that each rule's retention names its own field.
RETENTION = Retention(
    hourly_backup_days=2,
    twice_daily_backup_days=8,
    ebs_snapshot_days=31,
    rds_automated_backup_days=14,
    rds_daily_backup_days=33,
    monthly_archive_days=2557,
    monthly_cold_storage_after_days=97,
    log_retention_days=365,
    log_archive_transition_days=90,
    log_archive_expiry_days=2557,
    noncurrent_version_days=35,
    vault_lock_min_days=1,
    vault_lock_max_days=3653,
    audit_lock_mode="GOVERNANCE",
)
COPY_VAULT_ARN = "arn:aws:backup:eu-west-1:123456789012:backup-vault:unit-dr-vault"


def _build(*, with_source_key: bool = False, **changes: Any) -> tuple[cdk.Stack, TieredBackupPlans]:
    stack = bare_stack()
    if with_source_key:
        changes["source_keys"] = (kms.Key(stack, "Data"),)
    props = BackupPlanProps(
        name_prefix="unit",
        jurisdiction="uk",
        timezone="Europe/London",
        retention=RETENTION,
        vault=backup.BackupVault.from_backup_vault_name(stack, "Primary", "unit-vault"),
        copy_region="eu-west-1",
        copy_vault_name="unit-dr-vault",
        role_name="unit-backup",
        allowed_regions=("eu-west-2", "eu-west-1"),
    )
    plans = TieredBackupPlans(stack, "Plans", props=replace(props, **changes))
    return stack, plans


def _rules(**changes: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """{plan name: {rule name: rule}}."""
    stack, _ = _build(**changes)
    return {
        plan["Properties"]["BackupPlan"]["BackupPlanName"]: {
            rule["RuleName"]: rule for rule in plan["Properties"]["BackupPlan"]["BackupPlanRule"]
        }
        for plan in Template.from_stack(stack).find_resources("AWS::Backup::BackupPlan").values()
    }


def test_one_plan_per_tier_with_the_rules_of_its_tier() -> None:
    rules = _rules()
    assert {plan: sorted(r) for plan, r in rules.items()} == {
        "unit-database": ["Daily", "Hourly", "Monthly", "TwiceDaily"],
        "unit-compute": ["Daily", "Monthly"],
    }


def test_every_rule_backs_up_into_the_primary_vault_and_copies_its_lifecycle_to_the_dr_vault() -> None:
    for plan in _rules().values():
        for rule in plan.values():
            assert rule["TargetBackupVault"] == "unit-vault"
            assert rule["CopyActions"] == [
                {"DestinationBackupVaultArn": COPY_VAULT_ARN, "Lifecycle": rule["Lifecycle"]}
            ]


def test_each_rule_keeps_its_recovery_points_for_its_configured_days() -> None:
    rules = _rules()
    kept = {(plan, name): rule["Lifecycle"]["DeleteAfterDays"] for plan, r in rules.items() for name, rule in r.items()}
    assert kept == {
        ("unit-database", "Hourly"): 2,
        ("unit-database", "TwiceDaily"): 8,
        ("unit-database", "Daily"): 33,
        ("unit-database", "Monthly"): 2557,
        ("unit-compute", "Daily"): 31,
        ("unit-compute", "Monthly"): 2557,
    }
    for plan in rules.values():
        monthly = plan["Monthly"]
        assert monthly["Lifecycle"] == {
            "DeleteAfterDays": 2557,
            "MoveToColdStorageAfterDays": 97,
            "OptInToArchiveForSupportedResources": True,
        }
        assert (monthly["ScheduleExpression"], monthly["ScheduleExpressionTimezone"]) == (
            "cron(0 3 1 * ? *)",
            "Europe/London",
        )
        assert "MoveToColdStorageAfterDays" not in plan["Daily"]["Lifecycle"]


def test_continuous_backup_only_on_the_database_daily_rule_and_only_within_35_days() -> None:
    rules = _rules()
    continuous = {(p, n) for p, r in rules.items() for n, rule in r.items() if rule.get("EnableContinuousBackup")}
    assert continuous == {("unit-database", "Daily")}
    longer = _rules(retention=replace(RETENTION, rds_daily_backup_days=36))
    assert not any(rule.get("EnableContinuousBackup") for r in longer.values() for rule in r.values())


def test_a_copy_outside_the_jurisdiction_is_refused() -> None:
    with pytest.raises(JurisdictionError, match=r"\[HOST-2\] backup copy destination region 'us-east-1'"):
        _build(copy_region="us-east-1")


def test_selections_pick_resources_by_their_tier_tag_with_the_named_role() -> None:
    stack, plans = _build()
    template = Template.from_stack(stack)
    selections = {
        s["Properties"]["BackupSelection"]["SelectionName"]: s["Properties"]["BackupSelection"]
        for s in template.find_resources("AWS::Backup::BackupSelection").values()
    }
    assert sorted(selections) == ["unit-compute-tagged", "unit-database-tagged"]
    for tier in ("compute", "database"):
        selection = selections[f"unit-{tier}-tagged"]
        assert selection["ListOfTags"] == [
            {"ConditionKey": "backup-tier", "ConditionType": "STRINGEQUALS", "ConditionValue": tier}
        ]
        assert selection["IamRoleArn"] == arn_of(stack, plans.role)
    template.has_resource_properties("AWS::IAM::Role", {"RoleName": "unit-backup"})
    assert plans.copy_vault_arn == COPY_VAULT_ARN


def test_tiers_limit_the_plans_built() -> None:
    assert list(_rules(tiers=("compute",))) == ["unit-compute"]


def test_no_database_backup_starts_in_or_just_before_the_maintenance_window() -> None:
    window = MaintenanceWindow(day="Sun", start_utc="02:00", duration_hours=2)
    database = _rules(maintenance=window)["unit-database"]
    assert {name: rule["ScheduleExpression"] for name, rule in database.items() if name.startswith("Hourly")} == {
        "Hourly": "cron(0 * ? * MON,TUE,WED,THU,FRI,SAT *)",
        "HourlyMaintenanceSun": "cron(0 0,4-23 ? * SUN *)",
    }
    for name in ("TwiceDaily", "Daily", "Monthly"):
        assert database[name]["StartWindowMinutes"] == 4 * 60  # the blocked 3 hours, then one more
    assert _rules()["unit-database"]["Daily"]["StartWindowMinutes"] == 60


def test_source_keys_are_usable_by_the_selection_role_for_aws_resources_only() -> None:
    stack, _ = _build(with_source_key=True)
    (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy").values()
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    key_arn = arn_of(stack, stack.node.find_child("Data"))
    assert statements["UseSourceDataKeys"]["Resource"] == key_arn
    assert statements["GrantSourceDataKeysToAwsResources"]["Resource"] == key_arn
    assert statements["GrantSourceDataKeysToAwsResources"]["Condition"] == {
        "Bool": {"kms:GrantIsForAWSResource": "true"}
    }


def test_without_source_keys_the_role_gets_no_key_statements() -> None:
    stack, _ = _build()
    policies = Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy")
    assert "SourceDataKeys" not in str(policies)

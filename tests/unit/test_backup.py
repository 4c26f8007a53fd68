"""BackupStack: BAK-1..BAK-5, BAK-9, ACC-4, OPS-2 on the synthesized templates."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from config import PlatformConfig
from config.names import DeploymentNames
from patterns.backup_plan import (
    BackupPlanProps,
    JurisdictionError,
    TieredBackupPlans,
    check_copy_region,
)
from policies.rules.schedule import Cron
from tests.conftest import Stages, TemplateOf, au_production_stack

DR_VAULT_ARN = "arn:aws:backup:ap-southeast-4:111111111111:backup-vault:au-production-dr-vault"
BREAK_GLASS_ARN = "arn:aws:iam::111111111111:role/au-production-break-glass"

primary_backup = au_production_stack("primary", "Backup")
dr_backup = au_production_stack("dr", "Backup")


def _plan(template: Template, tier: str) -> dict[str, Any]:
    plans = template.find_resources(
        "AWS::Backup::BackupPlan",
        {"Properties": {"BackupPlan": {"BackupPlanName": f"au-production-{tier}"}}},
    )
    assert len(plans) == 1, f"expected one {tier} plan, found {len(plans)}"
    plan: dict[str, Any] = next(iter(plans.values()))["Properties"]["BackupPlan"]
    return plan


def _rules(template: Template, tier: str) -> dict[str, dict[str, Any]]:
    return {rule["RuleName"]: rule for rule in _plan(template, tier)["BackupPlanRule"]}


def test_database_rules_hourly_twice_daily_daily_monthly(primary_backup: Template, au_production: Stages) -> None:
    rules = _rules(primary_backup, "database")
    retention = au_production["primary"].deployment.retention
    assert set(rules) == {"Hourly", "HourlyMaintenanceSun", "TwiceDaily", "Daily", "Monthly"}
    # BAK-1: every hour, short retention, but none in the hour before or during the Sunday 16:00-19:00
    # UTC maintenance window, when AWS Backup starts no database backup (they would expire every week).
    assert rules["Hourly"]["ScheduleExpression"] == "cron(0 * ? * MON,TUE,WED,THU,FRI,SAT *)"
    assert rules["HourlyMaintenanceSun"]["ScheduleExpression"] == "cron(0 0-14,19-23 ? * SUN *)"
    for name in ("Hourly", "HourlyMaintenanceSun"):
        assert "ScheduleExpressionTimezone" not in rules[name]  # UTC, like the window
        assert rules[name]["Lifecycle"] == {"DeleteAfterDays": retention.hourly_backup_days}
    # and every 12 hours.
    assert rules["TwiceDaily"]["ScheduleExpression"] == "cron(0 0,12 * * ? *)"
    assert rules["TwiceDaily"]["Lifecycle"] == {"DeleteAfterDays": 14}
    # BAK-3: daily at 03:00 local, kept >= 30 days, with point-in-time recovery.
    assert rules["Daily"]["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert rules["Daily"]["ScheduleExpressionTimezone"] == "Australia/Sydney"
    assert rules["Daily"]["Lifecycle"] == {"DeleteAfterDays": 35}
    assert rules["Daily"]["EnableContinuousBackup"] is True
    # Continuous backup only where its retention keeps the database's PITR window (<= 35 d).
    for name in ("Hourly", "HourlyMaintenanceSun", "TwiceDaily", "Monthly"):
        assert "EnableContinuousBackup" not in rules[name]


def _utc_starts(rule: dict[str, Any], year: int = 2027) -> Iterator[datetime]:
    """Every start of a database rule in a year, in UTC (the rule's time zone and its DST shifts)."""
    cron = Cron.parse(rule["ScheduleExpression"])
    assert cron is not None
    zone = ZoneInfo(rule.get("ScheduleExpressionTimezone", "UTC"))
    day = datetime(year, 1, 1, tzinfo=zone)
    hours = cron.week_hours() or {(d, int(h)) for d in range(7) for h in cron.hour.split(",")}
    while day.year == year:
        if not cron.day_of_month.isdigit() or day.day == int(cron.day_of_month):
            for weekday, hour in sorted(hours):
                if weekday == day.weekday():
                    yield day.replace(hour=hour).astimezone(UTC)
        day += timedelta(days=1)


def test_no_database_backup_expires_because_of_the_maintenance_window(
    primary_backup: Template, au_production: Stages
) -> None:
    """BAK-1/OPS-2: the failed/expired job alarms page only on a real miss, not every week.

    AWS Backup starts no database backup in the hour before or during the maintenance window;
    a job that cannot start within its start window EXPIRES. Every start of every rule over a year
    (local-time rules through both DST offsets) is either outside that block or waits it out."""
    start, end = au_production["primary"].deployment.maintenance.backup_blocked_minutes
    week = 7 * 24 * 60
    for rule in _rules(primary_backup, "database").values():
        window = rule.get("StartWindowMinutes", 480)
        for when in _utc_starts(rule):
            minute = when.weekday() * 24 * 60 + when.hour * 60 + when.minute
            into_block = (minute - start) % week
            if into_block < end - start:
                assert window >= end - start - into_block + 60, (rule["RuleName"], when.isoformat(), window)


def test_compute_rule_daily_at_three_local_kept_ninety_days(primary_backup: Template, au_production: Stages) -> None:
    rules = _rules(primary_backup, "compute")
    assert set(rules) == {"Daily", "Monthly"}
    daily = rules["Daily"]
    assert daily["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert daily["ScheduleExpressionTimezone"] == "Australia/Sydney"
    assert daily["Lifecycle"]["DeleteAfterDays"] >= 90
    assert daily["Lifecycle"]["DeleteAfterDays"] == au_production["primary"].deployment.retention.ebs_snapshot_days


@pytest.mark.parametrize("tier", ["database", "compute"])
def test_monthly_archive_moves_to_cold_storage_and_is_kept_a_year_or_more(primary_backup: Template, tier: str) -> None:
    monthly = _rules(primary_backup, tier)["Monthly"]
    assert monthly["ScheduleExpression"] == "cron(0 3 1 * ? *)"
    assert monthly["ScheduleExpressionTimezone"] == "Australia/Sydney"
    assert monthly["Lifecycle"] == {
        "DeleteAfterDays": 2555,
        "MoveToColdStorageAfterDays": 30,
        "OptInToArchiveForSupportedResources": True,
    }


def test_every_rule_copies_to_the_dr_vault_with_the_same_lifecycle(primary_backup: Template) -> None:
    [primary_vault] = primary_backup.find_resources("AWS::Backup::BackupVault")
    plans = primary_backup.find_resources("AWS::Backup::BackupPlan")
    assert len(plans) == 2
    rules = [rule for plan in plans.values() for rule in plan["Properties"]["BackupPlan"]["BackupPlanRule"]]
    assert len(rules) == 7  # database: two hourly (the maintenance day has its own), 12-hourly, daily, monthly
    for rule in rules:
        assert rule.get("CopyActions"), f"rule {rule['RuleName']} has no copy action (BAK-5)"
        assert rule["CopyActions"] == [{"DestinationBackupVaultArn": DR_VAULT_ARN, "Lifecycle": rule["Lifecycle"]}]
        assert rule["TargetBackupVault"] == {"Fn::GetAtt": [primary_vault, "BackupVaultName"]}


def test_copy_target_is_the_vault_the_dr_stage_creates(dr_backup: Template, au_production: Stages) -> None:
    dr_backup.has_resource_properties("AWS::Backup::BackupVault", {"BackupVaultName": "au-production-dr-vault"})
    assert au_production["dr"].region == "ap-southeast-4"
    # The DR stage receives copies; its one plan is the dormant database plan (below).
    dr_backup.resource_count_is("AWS::Backup::BackupPlan", 1)
    dr_backup.resource_count_is("AWS::Backup::RestoreTestingPlan", 0)


# The tag the failover puts on the promoted writer (runbooks/failover.py, `_harden`).
PROMOTED_WRITER_TAG = {"ConditionKey": "backup-tier", "ConditionType": "STRINGEQUALS", "ConditionValue": "database"}


def _dr_plan(template: Template, deployment: str) -> tuple[str, dict[str, Any]]:
    plans = template.find_resources("AWS::Backup::BackupPlan")
    assert len(plans) == 1, f"expected the dormant DR plan only, found {len(plans)}"
    [(logical_id, plan)] = plans.items()
    assert plan["Properties"]["BackupPlan"]["BackupPlanName"] == f"{deployment}-dr-database"
    return logical_id, plan["Properties"]["BackupPlan"]


@pytest.mark.parametrize("stages_fixture", ["au_production", "au_development"])
def test_dr_region_has_a_dormant_plan_for_the_promoted_writer_copying_to_the_primary(
    request: pytest.FixtureRequest, template_of: TemplateOf, stages_fixture: str
) -> None:
    """Backup plans are regional: the DR region needs its own, selecting the tag the failover sets (BAK-1..5)."""
    stages: Stages = request.getfixturevalue(stages_fixture)
    deployment = stages["dr"].deployment
    dr = template_of(stages, "dr", "Backup")
    plan_id, plan = _dr_plan(dr, deployment.name)
    primary_vault = (
        f"arn:aws:backup:{deployment.primary_region}:{deployment.account}:backup-vault:{deployment.name}-primary-vault"
    )
    [dr_vault] = dr.find_resources("AWS::Backup::BackupVault")
    for rule in plan["BackupPlanRule"]:
        assert rule["TargetBackupVault"] == {"Fn::GetAtt": [dr_vault, "BackupVaultName"]}
        assert rule["CopyActions"] == [{"DestinationBackupVaultArn": primary_vault, "Lifecycle": rule["Lifecycle"]}]
    dr.resource_count_is("AWS::Backup::BackupSelection", 1)
    dr.has_resource_properties(
        "AWS::Backup::BackupSelection",
        {
            "BackupPlanId": {"Fn::GetAtt": [plan_id, "BackupPlanId"]},
            "BackupSelection": {
                "SelectionName": f"{deployment.name}-dr-database-tagged",
                "ListOfTags": [PROMOTED_WRITER_TAG],
                "IamRoleArn": Match.any_value(),
                "Resources": Match.absent(),
            },
        },
    )
    dr.has_resource_properties(
        "AWS::IAM::Role",
        {
            "RoleName": f"{deployment.name}-dr-backup-service",
            "AssumeRolePolicyDocument": {
                "Statement": [Match.object_like({"Principal": {"Service": "backup.amazonaws.com"}})]
            },
        },
    )


def test_dr_plan_keeps_the_primary_database_rules(primary_backup: Template, dr_backup: Template) -> None:
    """Same schedules, windows, retention and cold storage as the primary's database plan (BAK-1, BAK-3, BAK-4)."""

    def comparable(rules: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {
            r["RuleName"]: {k: v for k, v in r.items() if k not in ("CopyActions", "TargetBackupVault")} for r in rules
        }

    primary = _plan(primary_backup, "database")["BackupPlanRule"]
    _, dr = _dr_plan(dr_backup, "au-production")
    assert comparable(dr["BackupPlanRule"]) == comparable(primary)


def test_dr_region_pages_on_failed_backup_jobs(dr_backup: Template) -> None:
    for alarm in ("BackupJobsFailed", "CopyJobsFailed"):
        dr_backup.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {"AlarmName": f"au-production-dr-backup-{alarm}", "AlarmActions": Match.any_value()},
        )


def test_selections_pick_resources_by_backup_tier_tag(primary_backup: Template) -> None:
    primary_backup.resource_count_is("AWS::Backup::BackupSelection", 2)
    for tier in ("database", "compute"):
        primary_backup.has_resource_properties(
            "AWS::Backup::BackupSelection",
            {
                "BackupSelection": {
                    "SelectionName": f"au-production-{tier}-tagged",
                    "ListOfTags": [
                        {"ConditionKey": "backup-tier", "ConditionType": "STRINGEQUALS", "ConditionValue": tier}
                    ],
                    "IamRoleArn": Match.any_value(),
                    "Resources": Match.absent(),
                }
            },
        )


def test_selection_role_is_backup_service_only_without_inline_policies(primary_backup: Template) -> None:
    primary_backup.resource_count_is("AWS::IAM::Policy", 0)
    primary_backup.has_resource_properties(
        "AWS::IAM::Role",
        {
            "RoleName": "au-production-backup-service",
            "AssumeRolePolicyDocument": {
                "Statement": [Match.object_like({"Principal": {"Service": "backup.amazonaws.com"}})]
            },
        },
    )
    for role in primary_backup.find_resources("AWS::IAM::Role").values():
        statements = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert [s["Principal"] for s in statements] == [{"Service": "backup.amazonaws.com"}]


@pytest.mark.parametrize("role", ["primary", "dr"])
def test_vault_access_policy_denies_tampering_to_all_but_break_glass(
    au_production: Stages, template_of: TemplateOf, role: str
) -> None:
    template = template_of(au_production, role, "Backup")
    vaults = template.find_resources("AWS::Backup::BackupVault")
    assert len(vaults) == 1
    vault = next(iter(vaults.values()))
    assert vault["DeletionPolicy"] == "Retain"
    assert vault["UpdateReplacePolicy"] == "Retain"
    assert vault["Properties"]["BackupVaultName"] == f"au-production-{role}-vault"
    assert vault["Properties"]["EncryptionKeyArn"]  # the backup data-class key (ENC-1)
    statements = vault["Properties"]["AccessPolicy"]["Statement"]
    assert len(statements) == 1
    deny = statements[0]
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == {"AWS": "*"}
    assert deny["Resource"] == "*"
    assert set(deny["Action"]) >= {
        "backup:DeleteRecoveryPoint",
        "backup:UpdateRecoveryPointLifecycle",
        "backup:DisassociateRecoveryPoint",
        "backup:DisassociateRecoveryPointFromParent",
        "backup:PutBackupVaultAccessPolicy",
        "backup:DeleteBackupVaultAccessPolicy",
        "backup:DeleteBackupVault",
    }
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": BREAK_GLASS_ARN}}
    assert all(s["Effect"] != "Allow" for s in statements)


@pytest.mark.parametrize("role", ["primary", "dr"])
def test_production_vault_lock_is_compliance_mode(au_production: Stages, template_of: TemplateOf, role: str) -> None:
    retention = au_production[role].deployment.retention
    template_of(au_production, role, "Backup").has_resource_properties(
        "AWS::Backup::BackupVault",
        {
            "LockConfiguration": {
                "ChangeableForDays": 3,
                "MinRetentionDays": retention.vault_lock_min_days,
                "MaxRetentionDays": retention.vault_lock_max_days,
            }
        },
    )


@pytest.mark.parametrize("role", ["primary", "dr"])
def test_development_vault_lock_is_governance_mode(au_development: Stages, template_of: TemplateOf, role: str) -> None:
    template = template_of(au_development, role, "Backup")
    template.has_resource_properties(
        "AWS::Backup::BackupVault",
        {"LockConfiguration": {"ChangeableForDays": Match.absent(), "MinRetentionDays": 1, "MaxRetentionDays": 730}},
    )
    template.has_resource_properties(
        "AWS::Backup::BackupVault",
        {"AccessPolicy": {"Statement": [Match.object_like({"Effect": "Deny"})]}},
    )


def test_development_copies_stay_in_its_own_account_and_jurisdiction(
    au_development: Stages, template_of: TemplateOf
) -> None:
    template = template_of(au_development, "primary", "Backup")
    for plan in template.find_resources("AWS::Backup::BackupPlan").values():
        for rule in plan["Properties"]["BackupPlan"]["BackupPlanRule"]:
            assert [a["DestinationBackupVaultArn"] for a in rule["CopyActions"]] == [
                "arn:aws:backup:ap-southeast-4:111111111113:backup-vault:au-development-dr-vault"
            ]


@pytest.mark.parametrize("role", ["primary", "dr"])
def test_backup_key_policy_admits_the_backup_service_roles(
    au_production: Stages, template_of: TemplateOf, role: str
) -> None:
    keys = template_of(au_production, role, "Keys")
    keys.has_resource_properties(
        "AWS::KMS::Key",
        {
            "Description": Match.string_like_regexp("backup key"),
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "AllowAwsBackupRolesToGrantToAwsResources",
                                "Action": "kms:CreateGrant",
                                "Condition": {
                                    "ArnEquals": {
                                        "aws:PrincipalArn": [
                                            "arn:aws:iam::111111111111:role/au-production-backup-service",
                                            "arn:aws:iam::111111111111:role/au-production-restore-testing",
                                            "arn:aws:iam::111111111111:role/au-production-dr-backup-service",
                                        ]
                                    },
                                    "Bool": {"kms:GrantIsForAWSResource": "true"},
                                },
                            }
                        )
                    ]
                )
            },
        },
    )


def test_monthly_restore_testing_plan_picks_random_recovery_points(primary_backup: Template) -> None:
    primary_backup.resource_count_is("AWS::Backup::RestoreTestingPlan", 1)
    primary_backup.has_resource_properties(
        "AWS::Backup::RestoreTestingPlan",
        {
            "RestoreTestingPlanName": "au_production_monthly_restore_test",
            "ScheduleExpression": "cron(0 4 1 * ? *)",
            "ScheduleExpressionTimezone": "Australia/Sydney",
            "RecoveryPointSelection": {
                "Algorithm": "RANDOM_WITHIN_WINDOW",
                "IncludeVaults": [Match.any_value()],
                "RecoveryPointTypes": ["SNAPSHOT"],
                "SelectionWindowDays": 30,
            },
        },
    )
    primary_backup.resource_count_is("AWS::Backup::RestoreTestingSelection", 3)
    for resource_type, tier in (("RDS", "database"), ("EC2", "compute"), ("EBS", "compute")):
        primary_backup.has_resource(
            "AWS::Backup::RestoreTestingSelection",
            {
                "Properties": {
                    "ProtectedResourceType": resource_type,
                    "RestoreTestingPlanName": "au_production_monthly_restore_test",
                    "ProtectedResourceConditions": {
                        "StringEquals": [{"Key": "aws:ResourceTag/backup-tier", "Value": tier}]
                    },
                    "ValidationWindowHours": 12,
                },
                "DependsOn": Match.any_value(),
            },
        )


def test_audit_framework_checks_frequency_retention_copy_lock_encryption_deletion(primary_backup: Template) -> None:
    frameworks = primary_backup.find_resources("AWS::Backup::Framework")
    assert len(frameworks) == 3  # AWS Backup's own resources; one per selected tier (test_backup_audit.py)
    controls = {
        c["ControlName"]: {p["ParameterName"]: p["ParameterValue"] for p in c.get("ControlInputParameters", [])}
        for framework in frameworks.values()
        for c in framework["Properties"]["FrameworkControls"]
    }
    assert controls["BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK"] == {
        "requiredFrequencyUnit": "days",
        "requiredFrequencyValue": "1",
        "requiredRetentionDays": "35",
    }
    assert controls["BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION"] == {"crossRegionList": "ap-southeast-4"}
    assert controls["BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK"] == {
        "minRetentionDays": "1",
        "maxRetentionDays": "3650",
    }
    assert controls["BACKUP_RECOVERY_POINT_ENCRYPTED"] == {}
    assert controls["BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED"] == {"principalArnList": BREAK_GLASS_ARN}
    assert "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN" in controls


@pytest.mark.parametrize(
    ("alarm", "metric", "severity"),
    [
        ("BackupJobsFailed", "NumberOfBackupJobsFailed", 2),
        ("BackupJobsExpired", "NumberOfBackupJobsExpired", 2),
        ("CopyJobsFailed", "NumberOfCopyJobsFailed", 2),
        ("RestoreJobsFailed", "NumberOfRestoreJobsFailed", 3),
    ],
)
def test_failed_job_alarms_publish_to_their_severity_topic(
    primary_backup: Template, au_production: Stages, template_of: TemplateOf, alarm: str, metric: str, severity: int
) -> None:
    alarms = primary_backup.find_resources(
        "AWS::CloudWatch::Alarm",
        {"Properties": {"AlarmName": f"au-production-primary-backup-{alarm}"}},
    )
    assert len(alarms) == 1
    props = next(iter(alarms.values()))["Properties"]
    assert props["Namespace"] == "AWS/Backup"
    assert props["MetricName"] == metric
    assert props["Threshold"] == 1
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert props["TreatMissingData"] == "notBreaching"
    assert props["AlarmDescription"].startswith(f"Sev{severity}:")
    # Follow the cross-stack reference to the topic in the Alerts stack.
    [action] = props["AlarmActions"]
    alerts = template_of(au_production, "primary", "Alerts").to_json()
    topic_id = _referenced_output(alerts, action)["Value"]["Ref"]
    topic_name = alerts["Resources"][topic_id]["Properties"]["TopicName"]
    assert topic_name == f"au-production-primary-sev{severity}"


def _referenced_output(producer: Mapping[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    """The producer's output behind a cross-stack reference (weak or strong references)."""
    if "Fn::GetStackOutput" in reference:
        output: dict[str, Any] = producer["Outputs"][reference["Fn::GetStackOutput"]["OutputName"]]
        return output
    export = reference["Fn::ImportValue"]
    [output] = [o for o in producer["Outputs"].values() if o.get("Export", {}).get("Name") == export]
    return output


def test_copy_destination_outside_jurisdiction_is_refused_naming_host2() -> None:
    with pytest.raises(JurisdictionError, match=r"HOST-2.*'us-east-1'.*'au'"):
        check_copy_region("au", "us-east-1", ("ap-southeast-2", "ap-southeast-4"))
    check_copy_region("au", "ap-southeast-4", ("ap-southeast-2", "ap-southeast-4"))  # inside: no error


def test_backup_plans_refuse_to_build_a_copy_out_of_jurisdiction(platform_config: PlatformConfig) -> None:
    """The pattern itself checks HOST-2, even if a caller bypasses config validation."""
    deployment = platform_config.get("au-production")
    app = cdk.App()
    stack = cdk.Stack(app, "Probe", env=cdk.Environment(account=deployment.account, region="ap-southeast-2"))
    vault = cdk.aws_backup.BackupVault(stack, "Vault")
    with pytest.raises(JurisdictionError, match="HOST-2"):
        TieredBackupPlans(
            stack,
            "Plans",
            props=BackupPlanProps(
                name_prefix=deployment.name,
                jurisdiction="au",
                timezone=deployment.timezone,
                retention=deployment.retention,
                vault=vault,
                copy_region="eu-west-2",
                copy_vault_name=DeploymentNames.of(deployment).backup_vault_name("dr"),
                role_name="probe",
                allowed_regions=deployment.allowed_regions,
            ),
        )
    assert Template.from_stack(stack).find_resources("AWS::Backup::BackupPlan") == {}


def _restore_testing_in_a_bare_stack(with_network: bool) -> Template:
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_kms as kms

    from patterns.restore_testing import MonthlyRestoreTesting, RestoreTestingNetwork, RestoreTestingProps

    app = cdk.App()
    stack = cdk.Stack(app, "T", env=cdk.Environment(account="111111111111", region="ap-southeast-2"))
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        availability_zones=["ap-southeast-2a", "ap-southeast-2b"],
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC),
            ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        ],
    )
    MonthlyRestoreTesting(
        stack,
        "RestoreTesting",
        props=RestoreTestingProps(
            name_prefix="au-production",
            timezone="Australia/Sydney",
            vault_arn="arn:aws:backup:ap-southeast-2:111111111111:backup-vault:v",
            role_name="au-production-restore-testing",
            source_key=kms.Key(stack, "Key"),
            network=RestoreTestingNetwork(vpc) if with_network else None,
        ),
    )
    return Template.from_stack(stack)


def test_restore_tests_land_in_isolated_subnets_not_the_default_vpc() -> None:
    """BAK-9: without overrides AWS Backup restores EC2/RDS into the default VPC ("Restore testing inferred
    metadata"); the overridable keys put them in the isolated subnets behind a closed security group."""
    template = _restore_testing_in_a_bare_stack(with_network=True)
    isolated = {
        logical_id
        for logical_id, subnet in template.find_resources("AWS::EC2::Subnet").items()
        if any(t == {"Key": "aws-cdk:subnet-type", "Value": "Isolated"} for t in subnet["Properties"]["Tags"])
    }
    assert len(isolated) == 2
    template.has_resource_properties(
        "AWS::RDS::DBSubnetGroup",
        {
            "DBSubnetGroupName": "au-production-restore-test",
            "SubnetIds": Match.array_with([{"Ref": next(iter(sorted(isolated)))}]),
        },
    )
    groups = template.find_resources("AWS::EC2::SecurityGroup")
    assert len(groups) == 1
    ((group_id, group),) = groups.items()
    assert "SecurityGroupIngress" not in group["Properties"]
    assert group["Properties"]["SecurityGroupEgress"][0]["CidrIp"] == "255.255.255.255/32"  # CDK's "no egress"
    selections = {
        s["Properties"]["ProtectedResourceType"]: s["Properties"]["RestoreMetadataOverrides"]
        for s in template.find_resources("AWS::Backup::RestoreTestingSelection").values()
    }
    assert set(selections) == {"RDS", "EC2", "EBS"}
    subnet_group_id = next(iter(template.find_resources("AWS::RDS::DBSubnetGroup")))
    assert selections["RDS"]["dbSubnetGroupName"] == {"Ref": subnet_group_id}
    rds_groups = json_text(selections["RDS"]["vpcSecurityGroupIds"])
    assert group_id in rds_groups and rds_groups.startswith('{"Fn::Join"')
    assert set(selections["RDS"]) == {"dbSubnetGroupName", "vpcSecurityGroupIds"}
    assert selections["EC2"]["subnetId"]["Ref"] in isolated
    assert group_id in json_text(selections["EC2"]["securityGroupIds"])
    assert selections["EC2"]["requireImdsV2"] == "true"
    assert set(selections["EBS"]) == {"availabilityZone"}
    assert selections["EBS"]["availabilityZone"] in ("ap-southeast-2a", "ap-southeast-2b")


def test_without_a_network_restore_tests_keep_aws_backup_defaults() -> None:
    template = _restore_testing_in_a_bare_stack(with_network=False)
    for selection in template.find_resources("AWS::Backup::RestoreTestingSelection").values():
        assert "RestoreMetadataOverrides" not in selection["Properties"]


def json_text(value: Any) -> str:
    import json

    return json.dumps(value)


def test_vault_policy_changes_deploy_with_the_break_glass_session_not_a_service_role() -> None:
    """ACC-4 break-glass procedure: CloudFormation must act as the break-glass session (no --role-arn):
    the break-glass role does not trust cloudformation.amazonaws.com, and the CDK deploy role may not pass it."""
    from patterns.backup_vault import break_glass_vault_policy_commands

    commands = break_glass_vault_policy_commands(
        stack_name="au-production-primary-backup",
        region="ap-southeast-2",
        account="111111111111",
        template_path="cdk.out/x.template.json",
        profile="break-glass",
    )
    deploy = commands[-1]
    assert deploy.startswith("aws cloudformation deploy --profile break-glass ")
    assert "--stack-name au-production-primary-backup" in deploy
    assert "--role-arn" not in " ".join(commands)
    assert commands[0] == "npx cdk synth -q -c deployment=au-production"


def test_config_recorder_check_for_the_preflight() -> None:
    from patterns.config_recorder import RECORDED_RESOURCE_TYPES, recorder_problems

    good = [{"name": "org", "recordingGroup": {"allSupported": True}}]
    on = [{"name": "org", "recording": True}]
    assert recorder_problems(good, on) == []
    assert recorder_problems([], []) and "no AWS Config" in recorder_problems([], [])[0]
    assert "not recording" in recorder_problems(good, [{"name": "org", "recording": False}])[0]
    narrow = [{"name": "org", "recordingGroup": {"allSupported": False, "resourceTypes": ["AWS::RDS::DBInstance"]}}]
    assert "AWS::Backup::RecoveryPoint" in recorder_problems(narrow, on)[0]
    excluding = [
        {
            "name": "org",
            "recordingGroup": {
                "allSupported": True,
                "exclusionByResourceTypes": {"resourceTypes": ["AWS::Config::ResourceCompliance"]},
            },
        }
    ]
    assert "AWS::Config::ResourceCompliance" in recorder_problems(excluding, on)[0]
    exact = [{"name": "ours", "recordingGroup": {"resourceTypes": list(RECORDED_RESOURCE_TYPES)}}]
    assert recorder_problems(exact, [{"name": "ours", "recording": True}]) == []


def test_create_recorder_flag_builds_a_recorder_for_the_audit_types_only(platform_config: PlatformConfig) -> None:
    import dataclasses

    from aws_cdk import aws_kms as kms

    from config import AwsConfig
    from patterns.config_recorder import RECORDED_RESOURCE_TYPES
    from stacks.backup import PrimaryBackupStack

    deployment = dataclasses.replace(platform_config.get("au-production"), aws_config=AwsConfig(create_recorder=True))
    assert platform_config.get("au-production").aws_config.create_recorder is False  # default: the organisation's
    app = cdk.App()
    env = cdk.Environment(account=deployment.account, region=deployment.primary_region)
    keys = cdk.Stack(app, "Keys", env=env)
    stack = PrimaryBackupStack(
        app,
        "Backup",
        deployment=deployment,
        backup_key=kms.Key(keys, "Backup"),
        data_key=kms.Key(keys, "Data"),
        logs_key=kms.Key(keys, "Logs"),
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Config::ConfigurationRecorder", 1)
    template.has_resource_properties(
        "AWS::Config::ConfigurationRecorder",
        {
            "RecordingGroup": {
                "AllSupported": False,
                "IncludeGlobalResourceTypes": False,
                "ResourceTypes": list(RECORDED_RESOURCE_TYPES),
                "RecordingStrategy": {"UseOnly": "INCLUSION_BY_RESOURCE_TYPES"},
            }
        },
    )
    template.has_resource_properties(
        "AWS::Config::DeliveryChannel", {"S3KmsKeyArn": Match.any_value(), "S3BucketName": Match.any_value()}
    )
    with pytest.raises(ValueError, match="logs_key"):
        PrimaryBackupStack(
            app,
            "Backup2",
            deployment=deployment,
            backup_key=kms.Key(keys, "Backup2"),
            data_key=kms.Key(keys, "Data2"),
        )


def test_aws_config_flag_is_validated() -> None:
    import tomllib

    from config import ConfigError, parse_config
    from tests.conftest import REPO

    raw = tomllib.loads((REPO / "config" / "deployments.toml").read_text())
    raw.setdefault("overrides", {})["au-development"] = {"aws_config": {"create_recorder": True}}
    parsed = parse_config(raw)
    assert parsed.get("au-development").aws_config.create_recorder is True
    assert parsed.get("au-production").aws_config.create_recorder is False
    raw["overrides"]["au-development"] = {"aws_config": {"create_recorder": "yes"}}
    with pytest.raises(ConfigError):
        parse_config(raw)

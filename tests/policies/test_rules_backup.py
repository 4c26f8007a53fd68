"""Tests of policies/rules/backup.py (AWS Backup rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from typing import Any

from policies.rules import backup
from tests.policies.rulekit import NA, C, N, check, res, stack

DR_VAULT = "arn:aws:backup:ap-southeast-4:111111111111:backup-vault:au-production-dr-vault"


ZONE = "Australia/Sydney"


def _rule(name: str, cron: str, days: int, **extra: Any) -> dict[str, Any]:
    return {
        "RuleName": name,
        "ScheduleExpression": cron,
        "ScheduleExpressionTimezone": ZONE,
        "Lifecycle": {"DeleteAfterDays": days, **extra},
        "CopyActions": [{"DestinationBackupVaultArn": DR_VAULT}],
    }


DB_PLAN = [
    _rule("hourly", "cron(0 * * * ? *)", 2),
    _rule("twice", "cron(0 0/12 * * ? *)", 14),
    _rule("daily", "cron(0 3 * * ? *)", 35),
    _rule("monthly", "cron(0 4 1 * ? *)", 2555, MoveToColdStorageAfterDays=30),
]


COMPUTE_PLAN = [
    _rule("daily", "cron(0 3 * * ? *)", 90),
    _rule("monthly", "cron(0 4 1 * ? *)", 2555, MoveToColdStorageAfterDays=30),
]


TIER = [{"Key": "backup-tier", "Value": "database"}]


def _world(
    db_rules: list[dict[str, Any]] = DB_PLAN, compute_rules: list[dict[str, Any]] = COMPUTE_PLAN, **kw: Any
) -> Any:
    def selection(name: str, tier: str) -> Any:
        return res(
            f"{name}Sel",
            "AWS::Backup::BackupSelection",
            {
                "BackupPlanId": {"Fn::GetAtt": [f"{name}Plan", "BackupPlanId"]},
                "BackupSelection": {
                    "ListOfTags": [
                        {"ConditionKey": "backup-tier", "ConditionType": "STRINGEQUALS", "ConditionValue": tier}
                    ]
                },
            },
        )

    return stack(
        res("Db", "AWS::RDS::DBInstance", {"Tags": TIER}),
        res(
            "Asg",
            "AWS::AutoScaling::AutoScalingGroup",
            {"Tags": [{"Key": "backup-tier", "Value": "compute", "PropagateAtLaunch": True}]},
        ),
        res("DbPlan", "AWS::Backup::BackupPlan", {"BackupPlan": {"BackupPlanRule": db_rules}}),
        res("ComputePlan", "AWS::Backup::BackupPlan", {"BackupPlan": {"BackupPlanRule": compute_rules}}),
        selection("Db", "database"),
        selection("Compute", "compute"),
        res(
            "Rtp",
            "AWS::Backup::RestoreTestingPlan",
            {"RestoreTestingPlanName": "monthly", "ScheduleExpression": "cron(0 5 2 * ? *)"},
        ),
        res("Rts", "AWS::Backup::RestoreTestingSelection", {"RestoreTestingPlanName": {"Ref": "Rtp"}}),
        **kw,
    )


def test_coverage_rules_pass_on_a_complete_backup_design() -> None:
    world = _world()
    for r, anchor in [
        (backup.database_hourly, "Db"),
        (backup.database_daily, "Db"),
        (backup.monthly_archive, "Db"),
        (backup.monthly_archive, "Asg"),
        (backup.compute_daily, "Asg"),
        (backup.copy_to_dr, "DbPlan"),
        (backup.restore_testing, "DbPlan"),
    ]:
        assert check(r, world.resources[anchor], world) is C, r.id


def test_bak1_fails_without_the_12_hourly_rule() -> None:
    world = _world(db_rules=[r for r in DB_PLAN if r["RuleName"] != "twice"])
    assert check(backup.database_hourly, world.resources["Db"], world) is N


def test_bak2_fails_at_89_days_wrong_hour_or_utc() -> None:
    for bad in (
        _rule("daily", "cron(0 3 * * ? *)", 89),
        _rule("daily", "cron(0 2 * * ? *)", 90),
        {**_rule("daily", "cron(0 3 * * ? *)", 90), "ScheduleExpressionTimezone": None},
    ):
        world = _world(compute_rules=[bad])
        assert check(backup.compute_daily, world.resources["Asg"], world) is N


def test_bak2_fails_when_the_web_tier_is_not_tagged() -> None:
    world = _world()
    untagged = res("Asg", "AWS::AutoScaling::AutoScalingGroup", {})
    assert check(backup.compute_daily, untagged, world) is N


def _stateless_asg(delete_on_termination: bool) -> tuple[Any, Any]:
    world = _world()
    template = res(
        "Lt",
        "AWS::EC2::LaunchTemplate",
        {
            "LaunchTemplateData": {
                "BlockDeviceMappings": [
                    {"DeviceName": "/dev/xvda", "Ebs": {"DeleteOnTermination": delete_on_termination}}
                ]
            }
        },
    )
    asg = res(
        "Asg",
        "AWS::AutoScaling::AutoScalingGroup",
        {
            "LaunchTemplate": {"LaunchTemplateId": {"Ref": "Lt"}},
            "Tags": [{"Key": "backup-tier", "Value": "stateless", "PropagateAtLaunch": True}],
        },
    )
    world.resources.update({"Lt": template, "Asg": asg})
    return asg, world


def test_bak2_stateless_web_tier_is_not_applicable_only_if_it_keeps_no_volume() -> None:
    asg, world = _stateless_asg(delete_on_termination=True)
    assert check(backup.compute_daily, asg, world) is NA
    assert check(backup.monthly_archive, asg, world) is NA
    asg, world = _stateless_asg(delete_on_termination=False)
    assert check(backup.compute_daily, asg, world) is N
    assert check(backup.monthly_archive, asg, world) is N


def test_bak2_any_other_instance_or_volume_is_compute_tier_daily_0300_90_days() -> None:
    world = _world()
    tagged = res("Vol", "AWS::EC2::Volume", {"Tags": [{"Key": "backup-tier", "Value": "compute"}]})
    assert check(backup.data_volume_daily, tagged, world) is C
    assert check(backup.data_volume_daily, res("Vol", "AWS::EC2::Volume", {}), world) is N
    instance = res("I", "AWS::EC2::Instance", {"Tags": [{"Key": "backup-tier", "Value": "compute"}]})
    short = _world(compute_rules=[_rule("daily", "cron(0 3 * * ? *)", 89)])
    assert check(backup.data_volume_daily, instance, short) is N


def test_bak3_bak4_fail_on_short_retention_or_no_cold_storage() -> None:
    world = _world(db_rules=[_rule("daily", "cron(0 3 * * ? *)", 20), _rule("monthly", "cron(0 4 1 * ? *)", 2555)])
    assert check(backup.database_daily, world.resources["Db"], world) is N
    assert check(backup.monthly_archive, world.resources["Db"], world) is N


def test_bak5_copy_must_go_to_the_dr_region() -> None:
    no_copy = {**DB_PLAN[0], "CopyActions": []}
    outside = {
        **DB_PLAN[0],
        "CopyActions": [{"DestinationBackupVaultArn": DR_VAULT.replace("ap-southeast-4", "us-east-1")}],
    }
    for bad in (no_copy, outside):
        world = _world(db_rules=[bad])
        assert check(backup.copy_to_dr, world.resources["DbPlan"], world) is N


def test_bak9_needs_a_restore_testing_plan() -> None:
    plan = res("DbPlan", "AWS::Backup::BackupPlan", {"BackupPlan": {"BackupPlanRule": DB_PLAN}})
    assert check(backup.restore_testing, plan) is N


VAULT_POLICY = {
    "Statement": [
        {
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": list(backup.PROTECTED),
            "Resource": "*",
            "Condition": {
                "ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/au-production-break-glass"}
            },
        }
    ]
}


def test_vault_rules() -> None:
    vault = {
        "EncryptionKeyArn": "arn:k",
        "AccessPolicy": VAULT_POLICY,
        "LockConfiguration": {"MinRetentionDays": 1, "ChangeableForDays": 3},
    }
    good = res("V", "AWS::Backup::BackupVault", vault)
    for r in (backup.vault_kms, backup.vault_access_policy, backup.vault_lock):
        assert check(r, good) is C, r.id
    assert check(backup.vault_kms, res("V", "AWS::Backup::BackupVault", {})) is N
    no_exception = {"Statement": [{**VAULT_POLICY["Statement"][0], "Condition": {}}]}
    assert check(backup.vault_access_policy, res("V", "AWS::Backup::BackupVault", {"AccessPolicy": no_exception})) is N
    assert check(backup.vault_access_policy, res("V", "AWS::Backup::BackupVault", {})) is N
    # ACC-4: a deny that leaves DisassociateRecoveryPoint open lets a PITR recovery point leave the vault.
    for missing in ("backup:DisassociateRecoveryPoint", "backup:DisassociateRecoveryPointFromParent"):
        partial = {
            "Statement": [{**VAULT_POLICY["Statement"][0], "Action": [a for a in backup.PROTECTED if a != missing]}]
        }
        assert check(backup.vault_access_policy, res("V", "AWS::Backup::BackupVault", {"AccessPolicy": partial})) is N
    governance = res("V", "AWS::Backup::BackupVault", {"LockConfiguration": {"MinRetentionDays": 1}})
    assert check(backup.vault_lock, governance) is N
    assert check(backup.vault_lock, res("V", "AWS::Backup::BackupVault", {}), stack(name="au-development")) is NA

"""Tests of policies/rules/backup.py (AWS Backup rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from config.policy import retention_minimum
from policies.rules import backup
from tests.policies.rulekit import NA, C, N, check, deployment, res, stack

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


def test_bak1_bak2_bak3_bak4_bak5_bak9_coverage_rules_pass_on_a_complete_backup_design() -> None:
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


def test_enc1_acc4_vault_rules() -> None:
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


HOURLY, TWICE, DAILY, MONTHLY = "cron(0 * * * ? *)", "cron(0 0/12 * * ? *)", "cron(0 3 * * ? *)", "cron(0 4 1 * ? *)"
LONG = 10_000


def _hourly(days: int) -> list[dict[str, Any]]:
    return [_rule("h", HOURLY, days), _rule("t", TWICE, LONG)]


def _twice(days: int) -> list[dict[str, Any]]:
    return [_rule("h", HOURLY, LONG), _rule("t", TWICE, days)]


def _daily(days: int) -> list[dict[str, Any]]:
    return [_rule("d", DAILY, days)]


def _monthly(days: int) -> list[dict[str, Any]]:
    return [_rule("m", MONTHLY, days, MoveToColdStorageAfterDays=30)]


RETENTION_RULES: list[tuple[str, str, str, Callable[[int], list[dict[str, Any]]]]] = [
    ("BAK1-DatabaseHourly", "hourly_backup_days", "Db", _hourly),
    ("BAK1-DatabaseHourly", "twice_daily_backup_days", "Db", _twice),
    ("BAK2-ComputeDaily0300", "ebs_snapshot_days", "Asg", _daily),
    ("BAK3-DatabaseDaily", "rds_daily_backup_days", "Db", _daily),
    ("BAK4-MonthlyArchive", "monthly_archive_days", "Db", _monthly),
]


def _retention_cases() -> list[Any]:
    """For each retention rule and deployment (and none): exactly the demanded days passes, one below fails."""
    cases = []
    for name in ("au-production", "au-development", None):
        for rule_id, field, anchor, plan in RETENTION_RULES:
            demanded = getattr(deployment(name).retention, field) if name else retention_minimum(field)
            for days, expected, label in ((demanded, C, "exactly"), (demanded - 1, N, "one-below")):
                case_id = f"{rule_id}-{field}-{name or 'no-deployment'}-{label}"
                cases.append(pytest.param(rule_id, name, anchor, plan(days), expected, id=case_id))
    return cases


RULES_BY_ID = {r.suffix: r for r in backup.RULES}


@pytest.mark.parametrize(("rule_id", "name", "anchor", "plan", "expected"), _retention_cases())
def test_bak1_bak2_bak3_bak4_retention_boundaries(
    rule_id: str, name: str | None, anchor: str, plan: list[dict[str, Any]], expected: object
) -> None:
    options: dict[str, Any] = {"name": name} if name else {"deployment": None}
    world = _world(db_rules=plan, compute_rules=plan, **options)
    assert check(RULES_BY_ID[rule_id], world.resources[anchor], world) is expected


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        pytest.param([_rule("t", TWICE, LONG), _rule("d", DAILY, LONG)], N, id="BAK1-DatabaseHourly-no-hourly-rule"),
        pytest.param(
            [{**_rule("h", HOURLY, 1), "Lifecycle": {}}, _rule("t", TWICE, LONG)],
            N,
            id="BAK1-DatabaseHourly-hourly-rule-kept-forever-is-not-counted",
        ),
    ],
)
def test_bak1_database_hourly_conditions(plan: list[dict[str, Any]], expected: object) -> None:
    world = _world(db_rules=plan, name="au-development")
    assert check(backup.database_hourly, world.resources["Db"], world) is expected


def _split_hourly(extra_gap: int | None = None) -> list[dict[str, Any]]:
    """The hourly rules the pattern makes for au-development's window; `extra_gap`: also skip that Monday hour."""
    from config import load_config
    from patterns.backup_plan import hourly_schedules

    rules = [_rule(n, c, LONG) for n, c in hourly_schedules(load_config().get("au-development").maintenance)]
    if extra_gap is not None:
        hours = ",".join(str(h) for h in range(24) if h != extra_gap)
        rules = [_rule(r["RuleName"], r["ScheduleExpression"].replace("MON,", ""), LONG) for r in rules]
        rules.append(_rule("MondayWithAGap", f"cron(0 {hours} ? * MON *)", LONG))
    return [*rules, _rule("t", TWICE, LONG)]


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        pytest.param(_split_hourly(), C, id="BAK1-DatabaseHourly-every-hour-but-the-maintenance-block"),
        pytest.param(_split_hourly(extra_gap=9), N, id="BAK1-DatabaseHourly-an-hour-outside-the-block-missing"),
    ],
)
def test_bak1_hourly_rules_may_skip_only_the_hours_the_maintenance_window_blocks(
    plan: list[dict[str, Any]], expected: object
) -> None:
    # AWS Backup starts no database backup in the hour before or during the maintenance window.
    world = _world(db_rules=plan, name="au-development")
    assert check(backup.database_hourly, world.resources["Db"], world) is expected


def _copy_plan(*vaults: str) -> Any:
    rule = {**_rule("h", HOURLY, 2), "CopyActions": [{"DestinationBackupVaultArn": v} for v in vaults]}
    return res("DbPlan", "AWS::Backup::BackupPlan", {"BackupPlan": {"BackupPlanRule": [rule]}})


PRIMARY_VAULT = DR_VAULT.replace("ap-southeast-4", "ap-southeast-2")
US_VAULT = DR_VAULT.replace("ap-southeast-4", "us-east-1")


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        pytest.param(_copy_plan(DR_VAULT), C, id="BAK5-CopyToDrRegion-dr-vault"),
        pytest.param(_copy_plan(DR_VAULT, PRIMARY_VAULT), C, id="BAK5-CopyToDrRegion-every-jurisdiction-region"),
        pytest.param(_copy_plan(DR_VAULT, US_VAULT), N, id="BAK5-CopyToDrRegion-also-outside-the-jurisdiction"),
        pytest.param(_copy_plan(PRIMARY_VAULT), N, id="BAK5-CopyToDrRegion-not-the-dr-region"),
        pytest.param(res("DbPlan", "AWS::Backup::BackupPlan", {}), N, id="BAK5-CopyToDrRegion-no-rules"),
    ],
)
def test_bak5_copy_to_dr(plan: Any, expected: object) -> None:
    assert check(backup.copy_to_dr, plan) is expected


def test_bak5_copy_to_dr_needs_a_deployment() -> None:
    plan = _copy_plan(DR_VAULT)
    assert check(backup.copy_to_dr, plan, stack(plan, deployment=None)) is N


BREAK_GLASS = {"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/au-production-break-glass"}}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({}, C, id="ACC4-VaultAccessPolicy-deny-all-but-break-glass"),
        pytest.param({"Principal": "*"}, C, id="ACC4-VaultAccessPolicy-principal-star"),
        pytest.param({"Action": "backup:*"}, C, id="ACC4-VaultAccessPolicy-backup-star"),
        pytest.param({"Effect": "Allow"}, N, id="ACC4-VaultAccessPolicy-allow-is-no-protection"),
        pytest.param(
            {"Principal": {"AWS": "arn:aws:iam::111111111111:role/app"}},
            N,
            id="ACC4-VaultAccessPolicy-deny-to-one-role-only",
        ),
        pytest.param({"Condition": {}}, N, id="ACC4-VaultAccessPolicy-no-break-glass-exception"),
    ],
)
def test_acc4_vault_access_policy(changes: dict[str, Any], expected: object) -> None:
    statement = {**VAULT_POLICY["Statement"][0], "Condition": BREAK_GLASS, **changes}
    vault = res("V", "AWS::Backup::BackupVault", {"AccessPolicy": {"Statement": [statement]}})
    assert check(backup.vault_access_policy, vault) is expected


def test_acc4_vault_access_policy_reads_a_json_string() -> None:
    vault = res("V", "AWS::Backup::BackupVault", {"AccessPolicy": json.dumps(VAULT_POLICY)})
    assert check(backup.vault_access_policy, vault) is C


@pytest.mark.parametrize(
    ("name", "lock", "expected"),
    [
        pytest.param(
            "au-production", {"MinRetentionDays": 1, "ChangeableForDays": 3}, C, id="ACC4-VaultLock-compliance"
        ),
        pytest.param("au-production", {"ChangeableForDays": 3}, N, id="ACC4-VaultLock-no-min-retention"),
        pytest.param("au-production", {"MinRetentionDays": 1}, N, id="ACC4-VaultLock-governance"),
        pytest.param("au-production", None, N, id="ACC4-VaultLock-no-lock"),
        pytest.param("au-development", {"MinRetentionDays": 1}, C, id="ACC4-VaultLock-non-production-locked"),
        pytest.param("au-development", None, NA, id="ACC4-VaultLock-non-production-unlocked"),
    ],
)
def test_acc4_vault_lock(name: str, lock: dict[str, int] | None, expected: object) -> None:
    vault = res("V", "AWS::Backup::BackupVault", {"LockConfiguration": lock} if lock else {})
    assert check(backup.vault_lock, vault, stack(vault, name=name)) is expected


@pytest.mark.parametrize(
    ("schedule", "target", "expected"),
    [
        pytest.param("cron(0 5 2 * ? *)", {"Ref": "Rtp"}, C, id="BAK9-RestoreTesting-monthly"),
        pytest.param("cron(0 5 ? * MON *)", {"Ref": "Rtp"}, C, id="BAK9-RestoreTesting-weekly"),
        pytest.param("cron(0 5 * * ? *)", {"Ref": "Rtp"}, C, id="BAK9-RestoreTesting-daily"),
        pytest.param("cron(0 5 1 1 ? *)", {"Ref": "Rtp"}, N, id="BAK9-RestoreTesting-yearly"),
        pytest.param("every month", {"Ref": "Rtp"}, N, id="BAK9-RestoreTesting-unreadable-schedule"),
        pytest.param("cron(0 5 2 * ? *)", "monthly", C, id="BAK9-RestoreTesting-selection-by-plan-name"),
        pytest.param("cron(0 5 2 * ? *)", "another-plan", N, id="BAK9-RestoreTesting-selection-of-another-plan"),
    ],
)
def test_bak9_restore_testing(schedule: str, target: Any, expected: object) -> None:
    plan = res("DbPlan", "AWS::Backup::BackupPlan", {})
    view = stack(
        plan,
        res(
            "Rtp",
            "AWS::Backup::RestoreTestingPlan",
            {"RestoreTestingPlanName": "monthly", "ScheduleExpression": schedule},
        ),
        res("Rts", "AWS::Backup::RestoreTestingSelection", {"RestoreTestingPlanName": target}),
    )
    assert check(backup.restore_testing, plan, view) is expected


@pytest.mark.parametrize(
    ("resource", "compute_rules", "expected"),
    [
        pytest.param(
            res("V", "AWS::EC2::Volume", {"Tags": [{"Key": "backup-tier", "Value": "compute"}]}),
            COMPUTE_PLAN,
            C,
            id="BAK2-DataVolumeDaily0300-tagged-volume",
        ),
        pytest.param(res("V", "AWS::EC2::Volume", {}), COMPUTE_PLAN, N, id="BAK2-DataVolumeDaily0300-untagged"),
        pytest.param(
            res("I", "AWS::EC2::Instance", {"Tags": [{"Key": "backup-tier", "Value": "compute"}]}),
            [_rule("daily", "cron(0 4 * * ? *)", 90)],
            N,
            id="BAK2-DataVolumeDaily0300-not-at-0300",
        ),
    ],
)
def test_bak2_data_volume_daily(resource: Any, compute_rules: list[dict[str, Any]], expected: object) -> None:
    world = _world(compute_rules=compute_rules)
    assert check(backup.data_volume_daily, resource, world) is expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        pytest.param("arn:aws:kms:ap-southeast-2:111111111111:key/k", C, id="ENC1-BackupVaultKms-customer-key"),
        pytest.param({"Fn::GetAtt": ["Key", "Arn"]}, C, id="ENC1-BackupVaultKms-key-of-this-stack"),
        pytest.param("arn:aws:kms:ap-southeast-2:111111111111:alias/aws/backup", N, id="ENC1-BackupVaultKms-aws-key"),
        pytest.param(None, N, id="ENC1-BackupVaultKms-default-key"),
    ],
)
def test_enc1_backup_vault_kms(key: Any, expected: object) -> None:
    vault = res("V", "AWS::Backup::BackupVault", {} if key is None else {"EncryptionKeyArn": key})
    assert check(backup.vault_kms, vault) is expected

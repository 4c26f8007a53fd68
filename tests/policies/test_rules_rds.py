"""Tests of policies/rules/rds.py (RDS rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from typing import Any

import pytest

from config.policy import retention_minimum
from policies.rules import rds
from tests.policies.rulekit import NA, C, N, check, res, stack

WINDOW = "sun:16:00-sun:19:00"


DB_OK = {
    "StorageEncrypted": True,
    "KmsKeyId": {"Ref": "Key"},
    "DBParameterGroupName": {"Ref": "Pg"},
    "ManageMasterUserPassword": True,
    "MultiAZ": True,
    "BackupRetentionPeriod": 35,
    "DeletionProtection": True,
    "PreferredMaintenanceWindow": WINDOW,
}


def _db(**changes: object) -> tuple:  # type: ignore[type-arg]
    view = stack(
        res("Db", "AWS::RDS::DBInstance", {**DB_OK, **changes}),
        res("Pg", "AWS::RDS::DBParameterGroup", {"Parameters": {"rds.force_ssl": "1"}}),
    )
    return view.resources["Db"], view


def test_rds_rules_pass_on_a_good_database() -> None:
    for r in rds.RULES:
        assert check(r, *_db()) in (C, NA), r.id


def test_rds_rules_fail_on_each_broken_promise() -> None:
    assert check(rds.rds_encrypted, *_db(StorageEncrypted=False)) is N
    assert check(rds.rds_encrypted, *_db(KmsKeyId="alias/aws/rds")) is N
    assert check(rds.rds_force_ssl, *_db(DBParameterGroupName="default.postgres16")) is N
    assert check(rds.db_credentials, *_db(ManageMasterUserPassword=None, MasterUserPassword="hunter2hunter2")) is N
    assert check(rds.rds_multi_az, *_db(MultiAZ=False)) is N
    assert check(rds.rds_retention, *_db(BackupRetentionPeriod=7)) is N
    assert check(rds.deletion_protection, *_db(DeletionProtection=False)) is N
    assert check(rds.rds_window, *_db(PreferredMaintenanceWindow="mon:01:00-mon:02:00")) is N
    assert check(rds.replica_encrypted, *_db(SourceDBInstanceIdentifier="arn", KmsKeyId=None)) is N
    assert check(rds.replica_encrypted, *_db(SourceDBInstanceIdentifier="arn")) is C


def test_enc4_db_password_from_rotated_secret() -> None:
    password = {"Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": "Secret"}, ":SecretString:password::}}"]]}
    rotated = stack(
        res("Db", "AWS::RDS::DBInstance", {"MasterUserPassword": password}),
        res("Att", "AWS::SecretsManager::SecretTargetAttachment", {"SecretId": {"Ref": "Secret"}}),
        res("Rot", "AWS::SecretsManager::RotationSchedule", {"SecretId": {"Ref": "Att"}}),
    )
    assert check(rds.db_credentials, rotated.resources["Db"], rotated) is C
    assert check(rds.db_credentials, res("Db", "AWS::RDS::DBInstance", {"MasterUserPassword": password})) is N


RDS_MINIMUM = retention_minimum("rds_automated_backup_days")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"BackupRetentionPeriod": RDS_MINIMUM}, C, id="BAK3-RdsRetention-exactly-the-policy-minimum"),
        pytest.param({"BackupRetentionPeriod": RDS_MINIMUM - 1}, N, id="BAK3-RdsRetention-one-below"),
        pytest.param({"BackupRetentionPeriod": "x"}, N, id="BAK3-RdsRetention-unreadable"),
        pytest.param({"SourceDBInstanceIdentifier": "arn"}, NA, id="BAK3-RdsRetention-replica"),
    ],
)
def test_bak3_rds_retention(changes: dict[str, Any], expected: object) -> None:
    assert check(rds.rds_retention, *_db(**changes)) is expected


@pytest.mark.parametrize(
    ("name", "changes", "expected"),
    [
        pytest.param("au-production", {}, C, id="HOST4-RdsMultiAz-production-multi-az"),
        pytest.param("au-production", {"MultiAZ": False}, N, id="HOST4-RdsMultiAz-production-single-az"),
        pytest.param(
            "au-production",
            {"MultiAZ": False, "SourceDBInstanceIdentifier": "arn"},
            NA,
            id="HOST4-RdsMultiAz-production-replica",
        ),
        pytest.param("au-development", {"MultiAZ": False}, NA, id="HOST4-RdsMultiAz-non-production"),
    ],
)
def test_host4_rds_multi_az(name: str, changes: dict[str, Any], expected: object) -> None:
    db = res("Db", "AWS::RDS::DBInstance", {**DB_OK, **changes})
    assert check(rds.rds_multi_az, db, stack(db, name=name)) is expected


def test_host4_rds_multi_az_aurora_not_applicable() -> None:
    assert check(rds.rds_multi_az, res("C", "AWS::RDS::DBCluster", {})) is NA


def test_bak3_rds_retention_unset_is_the_rds_default_of_one_day() -> None:
    db = res("Db", "AWS::RDS::DBInstance", {k: v for k, v in DB_OK.items() if k != "BackupRetentionPeriod"})
    assert check(rds.rds_retention, db) is N
    assert rds.rds_retention.check(db, stack(db)).detail == "BackupRetentionPeriod=1 days"


@pytest.mark.parametrize(
    ("rule", "changes", "expected"),
    [
        pytest.param(rds.rds_encrypted, {}, C, id="ENC1-RdsEncrypted-customer-key"),
        pytest.param(rds.rds_encrypted, {"StorageEncrypted": False}, N, id="ENC1-RdsEncrypted-unencrypted"),
        pytest.param(rds.rds_encrypted, {"KmsKeyId": None}, N, id="ENC1-RdsEncrypted-aws-owned-key"),
        pytest.param(rds.rds_encrypted, {"KmsKeyId": "alias/aws/rds"}, N, id="ENC1-RdsEncrypted-aws-managed-key"),
        pytest.param(
            rds.rds_encrypted,
            {"StorageEncrypted": None, "SourceDBInstanceIdentifier": "arn"},
            C,
            id="ENC1-RdsEncrypted-replica-with-key",
        ),
        pytest.param(
            rds.rds_encrypted,
            {"KmsKeyId": None, "SourceDBInstanceIdentifier": "arn"},
            N,
            id="ENC1-RdsEncrypted-replica-without-key",
        ),
        pytest.param(rds.rds_force_ssl, {}, C, id="ENC3-RdsForceSsl-parameter-group-forces-ssl"),
        pytest.param(
            rds.rds_force_ssl, {"DBParameterGroupName": "default.postgres16"}, N, id="ENC3-RdsForceSsl-default-group"
        ),
        pytest.param(rds.db_credentials, {}, C, id="ENC4-DbCredentialsManaged-rds-managed-secret"),
        pytest.param(
            rds.db_credentials,
            {"ManageMasterUserPassword": None, "MasterUserPassword": "hunter2hunter2"},
            N,
            id="ENC4-DbCredentialsManaged-literal-password",
        ),
        pytest.param(
            rds.db_credentials, {"SourceDBInstanceIdentifier": "arn"}, NA, id="ENC4-DbCredentialsManaged-replica"
        ),
        pytest.param(rds.deletion_protection, {}, C, id="BAK8-DeletionProtection-on"),
        pytest.param(rds.deletion_protection, {"DeletionProtection": False}, N, id="BAK8-DeletionProtection-off"),
        pytest.param(rds.rds_window, {}, C, id="OPS5-RdsMaintenanceWindow-announced"),
        pytest.param(
            rds.rds_window,
            {"PreferredMaintenanceWindow": WINDOW.upper()},
            C,
            id="OPS5-RdsMaintenanceWindow-announced-any-case",
        ),
        pytest.param(
            rds.rds_window,
            {"PreferredMaintenanceWindow": "mon:01:00-mon:02:00"},
            N,
            id="OPS5-RdsMaintenanceWindow-other",
        ),
        pytest.param(rds.replica_encrypted, {}, NA, id="DR1-ReplicaEncrypted-not-a-replica"),
        pytest.param(
            rds.replica_encrypted, {"SourceDBInstanceIdentifier": "arn"}, C, id="DR1-ReplicaEncrypted-with-key"
        ),
        pytest.param(
            rds.replica_encrypted,
            {"SourceDBInstanceIdentifier": "arn", "KmsKeyId": None},
            N,
            id="DR1-ReplicaEncrypted-without-key",
        ),
    ],
)
def test_rds_rule_cases(rule: Any, changes: dict[str, Any], expected: object) -> None:
    db, view = _db(**changes)
    props = {k: v for k, v in db.properties.items() if v is not None}
    db = res("Db", "AWS::RDS::DBInstance", props)
    view.resources["Db"] = db
    assert check(rule, db, view) is expected


def test_ops5_rds_maintenance_window_needs_a_deployment() -> None:
    db = res("Db", "AWS::RDS::DBInstance", DB_OK)
    assert check(rds.rds_window, db, stack(db, deployment=None)) is N

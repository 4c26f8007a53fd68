"""Tests of policies/rules/rds.py (RDS rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

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


def test_db_password_from_rotated_secret() -> None:
    password = {"Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": "Secret"}, ":SecretString:password::}}"]]}
    rotated = stack(
        res("Db", "AWS::RDS::DBInstance", {"MasterUserPassword": password}),
        res("Att", "AWS::SecretsManager::SecretTargetAttachment", {"SecretId": {"Ref": "Secret"}}),
        res("Rot", "AWS::SecretsManager::RotationSchedule", {"SecretId": {"Ref": "Att"}}),
    )
    assert check(rds.db_credentials, rotated.resources["Db"], rotated) is C
    assert check(rds.db_credentials, res("Db", "AWS::RDS::DBInstance", {"MasterUserPassword": password})) is N

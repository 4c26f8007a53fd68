"""patterns/backup_vault.py on a bare stack: the vault is encrypted with the given key (ENC-1), locked
to the retention range (compliance mode only when asked), retained (BAK-8), and only the break-glass
role may tamper with its recovery points (ACC-4)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from patterns.backup_vault import (
    BACKUP_KEY_ACTIONS,
    COMPLIANCE_COOLING_OFF_DAYS,
    PROTECTED_ACTIONS,
    BackupVaultProps,
    SecureBackupVault,
)
from tests.patterns.bare import arn_of, bare_stack

BREAK_GLASS = "arn:aws:iam::123456789012:role/unit-break-glass"
SERVICE_ROLES = ("arn:aws:iam::123456789012:role/unit-backup", "arn:aws:iam::123456789012:role/unit-restore")


def _vault(**changes: Any) -> tuple[cdk.Stack, Template]:
    stack = bare_stack()
    settings: dict[str, Any] = {
        "vault_name": "unit-vault",
        "break_glass_role_arn": BREAK_GLASS,
        "lock_min_days": 7,
        "lock_max_days": 400,
        "compliance_mode": True,
        **changes,
    }
    SecureBackupVault(stack, "Vault", props=BackupVaultProps(key=kms.Key(stack, "Backup"), **settings))
    return stack, Template.from_stack(stack)


def _declared(template: Template) -> dict[str, Any]:
    (vault,) = template.find_resources("AWS::Backup::BackupVault").values()
    return dict(vault)


def test_named_encrypted_with_the_given_key_retained_and_tagged() -> None:
    stack, template = _vault()
    vault = _declared(template)
    assert vault["Properties"]["BackupVaultName"] == "unit-vault"
    assert vault["Properties"]["EncryptionKeyArn"] == arn_of(stack, stack.node.find_child("Backup"))
    assert (vault["DeletionPolicy"], vault["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert vault["Properties"]["BackupVaultTags"] == {"data-classification": "backup"}


def test_compliance_mode_locks_the_range_after_the_cooling_off_days() -> None:
    _, template = _vault(lock_min_days=30, lock_max_days=3653)
    assert _declared(template)["Properties"]["LockConfiguration"] == {
        "MinRetentionDays": 30,
        "MaxRetentionDays": 3653,
        "ChangeableForDays": COMPLIANCE_COOLING_OFF_DAYS,
    }
    assert COMPLIANCE_COOLING_OFF_DAYS == 3  # the AWS minimum


def test_governance_mode_locks_the_same_range_but_stays_removable() -> None:
    _, template = _vault(compliance_mode=False)
    assert _declared(template)["Properties"]["LockConfiguration"] == {"MinRetentionDays": 7, "MaxRetentionDays": 400}


@pytest.mark.parametrize(("low", "high"), [(0, 10), (11, 10)])
def test_a_lock_range_that_is_empty_or_starts_below_a_day_is_refused(low: int, high: int) -> None:
    with pytest.raises(ValueError, match=r"\[ACC-4\] vault lock of unit-vault"):
        _vault(lock_min_days=low, lock_max_days=high)


def test_everyone_but_break_glass_is_denied_tampering_with_recovery_points() -> None:
    _, template = _vault()
    (statement,) = _declared(template)["Properties"]["AccessPolicy"]["Statement"]
    assert statement == {
        "Sid": "DenyRecoveryPointTamperingExceptBreakGlass",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": list(PROTECTED_ACTIONS),
        "Resource": "*",
        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": BREAK_GLASS}},
    }
    assert {"backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle", "backup:DeleteBackupVault"} <= set(
        statement["Action"]
    )


def _key_statements(template: Template) -> dict[str, dict[str, Any]]:
    (key,) = template.find_resources("AWS::KMS::Key").values()
    return {s["Sid"]: s for s in key["Properties"]["KeyPolicy"]["Statement"] if "Sid" in s}


def test_the_key_admits_the_named_service_roles_of_this_account_only() -> None:
    _, template = _vault(service_role_arns=SERVICE_ROLES)
    statements = _key_statements(template)
    use = statements["AllowAwsBackupRolesToUseTheKey"]
    assert use["Action"] == list(BACKUP_KEY_ACTIONS)
    assert use["Condition"] == {"ArnEquals": {"aws:PrincipalArn": list(SERVICE_ROLES)}}
    assert "123456789012" in str(use["Principal"])
    grant = statements["AllowAwsBackupRolesToGrantToAwsResources"]
    assert grant["Action"] == "kms:CreateGrant"
    assert grant["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": list(SERVICE_ROLES)},
        "Bool": {"kms:GrantIsForAWSResource": "true"},
    }


def test_without_service_roles_the_key_policy_gains_nothing() -> None:
    _, template = _vault()
    assert not {"AllowAwsBackupRolesToUseTheKey", "AllowAwsBackupRolesToGrantToAwsResources"} & set(
        _key_statements(template)
    )

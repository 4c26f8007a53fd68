"""Tests of policies/rules/secretsmanager.py (Secrets Manager rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from policies.rules import secretsmanager
from tests.policies.rulekit import C, N, check, res, stack


def test_secretsmanager_rules() -> None:
    secret = res("S", "AWS::SecretsManager::Secret", {"KmsKeyId": {"Ref": "K"}})
    rotated = stack(secret, res("R", "AWS::SecretsManager::RotationSchedule", {"SecretId": {"Ref": "S"}}))
    assert check(secretsmanager.secret_kms, secret) is C
    assert check(secretsmanager.secret_kms, res("S", "AWS::SecretsManager::Secret")) is N
    assert check(secretsmanager.secret_rotation, secret, rotated) is C
    assert check(secretsmanager.secret_rotation, secret) is N

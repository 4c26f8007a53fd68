"""Tests of policies/rules/secretsmanager.py (Secrets Manager rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from typing import Any

import pytest

from policies.rules import secretsmanager
from tests.policies.rulekit import C, N, check, res, stack


def test_enc1_enc4_secretsmanager_rules() -> None:
    secret = res("S", "AWS::SecretsManager::Secret", {"KmsKeyId": {"Ref": "K"}})
    rotated = stack(secret, res("R", "AWS::SecretsManager::RotationSchedule", {"SecretId": {"Ref": "S"}}))
    assert check(secretsmanager.secret_kms, secret) is C
    assert check(secretsmanager.secret_kms, res("S", "AWS::SecretsManager::Secret")) is N
    assert check(secretsmanager.secret_rotation, secret, rotated) is C
    assert check(secretsmanager.secret_rotation, secret) is N


@pytest.mark.parametrize(
    ("schedule_target", "expected"),
    [
        pytest.param({"Ref": "S"}, C, id="ENC4-SecretRotation-schedule-on-the-secret"),
        pytest.param({"Ref": "Att"}, C, id="ENC4-SecretRotation-schedule-on-its-target-attachment"),
        pytest.param({"Ref": "OtherAtt"}, N, id="ENC4-SecretRotation-schedule-on-another-secrets-attachment"),
    ],
)
def test_enc4_secret_rotation(schedule_target: dict[str, str], expected: object) -> None:
    secret = res("S", "AWS::SecretsManager::Secret", {"KmsKeyId": {"Ref": "K"}})
    view = stack(
        secret,
        res("Att", "AWS::SecretsManager::SecretTargetAttachment", {"SecretId": {"Ref": "S"}}),
        res("OtherAtt", "AWS::SecretsManager::SecretTargetAttachment", {"SecretId": {"Ref": "Other"}}),
        res("R", "AWS::SecretsManager::RotationSchedule", {"SecretId": schedule_target}),
    )
    assert check(secretsmanager.secret_rotation, secret, view) is expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        pytest.param({"Ref": "K"}, C, id="ENC1-SecretKms-customer-key"),
        pytest.param("alias/aws/secretsmanager", N, id="ENC1-SecretKms-aws-managed-key"),
        pytest.param(None, N, id="ENC1-SecretKms-default-key"),
    ],
)
def test_enc1_secret_kms(key: Any, expected: object) -> None:
    secret = res("S", "AWS::SecretsManager::Secret", {} if key is None else {"KmsKeyId": key})
    assert check(secretsmanager.secret_kms, secret) is expected

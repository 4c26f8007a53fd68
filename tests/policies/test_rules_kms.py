"""Tests of policies/rules/kms.py (KMS rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from policies.rules import kms
from tests.policies.rulekit import C, N, check, res, stack


def test_kms_rules() -> None:
    root = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
    }
    key = res(
        "K",
        "AWS::KMS::Key",
        {"EnableKeyRotation": True, "KeyPolicy": root, "Tags": [{"Key": "data-classification", "Value": "logs"}]},
    )
    for r in kms.RULES:
        assert check(r, key) is C, r.id
    assert check(kms.key_rotation, res("K", "AWS::KMS::Key", {"EnableKeyRotation": False})) is N
    assert check(kms.key_per_data_class, res("K", "AWS::KMS::Key")) is N
    twin = stack(key, res("K2", "AWS::KMS::Key", {"Tags": [{"Key": "data-classification", "Value": "logs"}]}))
    assert check(kms.key_per_data_class, key, twin) is N
    open_policy = {
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}]
    }
    assert check(kms.key_policy, res("K", "AWS::KMS::Key", {"KeyPolicy": open_policy})) is N
    service_star = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "kms:*", "Resource": "*"}
        ]
    }
    assert check(kms.key_policy, res("K", "AWS::KMS::Key", {"KeyPolicy": service_star})) is N

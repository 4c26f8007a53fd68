"""Tests of policies/rules/kms.py (KMS rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policies.rules import kms
from tests.policies.rulekit import NA, C, N, check, res, stack


def test_enc2_kms_rules() -> None:
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
        if r is not kms.every_class_in_region:  # anchored on the customer key (tested below)
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


ROOT = {"AWS": "arn:aws:iam::111111111111:root"}
ROLE = {"AWS": "arn:aws:iam::111111111111:role/app"}


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        pytest.param({"Principal": ROOT, "Action": "kms:*"}, C, id="ENC2-KeyPolicyLeastPrivilege-root-kms-star"),
        pytest.param(
            {"Principal": {"AWS": "111111111111"}, "Action": "*"}, C, id="ENC2-KeyPolicyLeastPrivilege-root-id"
        ),
        pytest.param({"Principal": ROLE, "Action": "kms:Decrypt"}, C, id="ENC2-KeyPolicyLeastPrivilege-role-decrypt"),
        pytest.param({"Principal": ROLE, "Action": "kms:*"}, N, id="ENC2-KeyPolicyLeastPrivilege-role-kms-star"),
        pytest.param({"Principal": ROLE, "Action": "*"}, N, id="ENC2-KeyPolicyLeastPrivilege-role-star"),
        pytest.param({"Principal": "*", "Action": "kms:Decrypt"}, N, id="ENC2-KeyPolicyLeastPrivilege-everyone"),
        pytest.param(
            {"Principal": {"AWS": "*"}, "Action": "kms:Decrypt"}, N, id="ENC2-KeyPolicyLeastPrivilege-aws-star"
        ),
        pytest.param(
            {"Principal": {"AWS": [ROLE["AWS"], "*"]}, "Action": "kms:Decrypt"},
            N,
            id="ENC2-KeyPolicyLeastPrivilege-star-in-a-list",
        ),
        pytest.param(
            {"Principal": "*", "Action": "kms:Decrypt", "Condition": {"StringEquals": {"kms:CallerAccount": "1"}}},
            C,
            id="ENC2-KeyPolicyLeastPrivilege-everyone-with-a-condition",
        ),
        pytest.param(
            {"Effect": "Deny", "Principal": ROLE, "Action": "kms:*"}, C, id="ENC2-KeyPolicyLeastPrivilege-deny-ignored"
        ),
    ],
)
def test_enc2_key_policy(statement: dict[str, Any], expected: object) -> None:
    policy = {"Statement": [{"Effect": "Allow", "Resource": "*", **statement}]}
    assert check(kms.key_policy, res("K", "AWS::KMS::Key", {"KeyPolicy": policy})) is expected


def test_enc2_key_policy_finding_quotes_the_principal_up_to_80_characters() -> None:
    principal = {"AWS": "arn:aws:iam::111111111111:role/" + "r" * 100}
    policy = {"Statement": [{"Sid": "Wide", "Effect": "Allow", "Principal": principal, "Action": "kms:*"}]}
    key = res("K", "AWS::KMS::Key", {"KeyPolicy": policy})
    quoted = json.dumps(principal)[:80]
    assert kms.key_policy.check(key, stack(key)).detail == f"statement Wide gives {quoted} kms:*"


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param({"EnableKeyRotation": True}, C, id="ENC1-KeyRotation-on"),
        pytest.param({"EnableKeyRotation": False}, N, id="ENC1-KeyRotation-off"),
        pytest.param({"KeySpec": "RSA_2048"}, NA, id="ENC1-KeyRotation-asymmetric"),
    ],
)
def test_enc1_key_rotation(props: dict[str, Any], expected: object) -> None:
    assert check(kms.key_rotation, res("K", "AWS::KMS::Key", props)) is expected


def _key(logical_id: str, data_class: str | None) -> Any:
    tags = [] if data_class is None else [{"Key": "data-classification", "Value": data_class}]
    return res(logical_id, "AWS::KMS::Key", {"Tags": tags})


@pytest.mark.parametrize(
    ("data_class", "sibling", "expected"),
    [
        pytest.param("customer", "logs", C, id="ENC2-KeyPerDataClass-one-key-per-class"),
        pytest.param("customer", "customer", N, id="ENC2-KeyPerDataClass-class-shared"),
        pytest.param("secret", "logs", N, id="ENC2-KeyPerDataClass-unknown-class"),
        pytest.param(None, "logs", N, id="ENC2-KeyPerDataClass-untagged"),
    ],
)
def test_enc2_key_per_data_class(data_class: str | None, sibling: str, expected: object) -> None:
    key = _key("K", data_class)
    assert check(kms.key_per_data_class, key, stack(key, _key("Other", sibling))) is expected


@pytest.mark.parametrize(
    ("classes", "expected"),
    [
        pytest.param(("customer", "system", "logs", "backup", "codebase"), C, id="ENC2-EveryClassInRegion-all-five"),
        pytest.param(("customer", "system", "logs", "backup"), N, id="ENC2-EveryClassInRegion-no-codebase-key"),
        pytest.param(("customer", "logs", "backup", "codebase"), N, id="ENC2-EveryClassInRegion-no-system-key"),
    ],
)
def test_enc2_every_class_in_region(classes: tuple[str, ...], expected: object) -> None:
    keys = [_key(f"K{c}", c) for c in classes]
    view = stack(*keys)
    assert check(kms.every_class_in_region, keys[0], view) is expected
    assert check(kms.every_class_in_region, _key("Other", "logs"), view) is NA

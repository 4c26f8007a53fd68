"""Tests of policies/rules/cognito.py (Identity rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from typing import Any

import pytest

from config.policy import PASSWORD_MIN_LENGTH
from policies.rules import cognito
from tests.policies.rulekit import C, N, check, res, stack


def test_enc4_user_pool_password_policy_strong_and_weak() -> None:
    strong = {
        "Policies": {
            "PasswordPolicy": {
                "MinimumLength": 12,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
            }
        }
    }
    assert check(cognito.user_pool_password_policy, res("U", "AWS::Cognito::UserPool", strong)) is C
    assert (
        check(
            cognito.user_pool_password_policy,
            res("U", "AWS::Cognito::UserPool", {"Policies": {"PasswordPolicy": {"MinimumLength": 6}}}),
        )
        is N
    )


STRONG = {
    "MinimumLength": PASSWORD_MIN_LENGTH,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": "true",
}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({}, C, id="ENC4-UserPoolPasswordPolicy-exactly-the-minimum-length"),
        pytest.param({"MinimumLength": PASSWORD_MIN_LENGTH - 1}, N, id="ENC4-UserPoolPasswordPolicy-one-below"),
        pytest.param({"MinimumLength": None}, N, id="ENC4-UserPoolPasswordPolicy-no-minimum-length"),
        *(
            pytest.param({flag: False}, N, id=f"ENC4-UserPoolPasswordPolicy-no-{flag}")
            for flag in ("RequireUppercase", "RequireLowercase", "RequireNumbers", "RequireSymbols")
        ),
    ],
)
def test_enc4_user_pool_password_policy(changes: dict[str, Any], expected: object) -> None:
    policy = {k: v for k, v in {**STRONG, **changes}.items() if v is not None}
    pool = res("U", "AWS::Cognito::UserPool", {"Policies": {"PasswordPolicy": policy}})
    assert check(cognito.user_pool_password_policy, pool) is expected


def test_enc4_user_pool_password_policy_names_the_length_first() -> None:
    pool = res("U", "AWS::Cognito::UserPool", {"Policies": {"PasswordPolicy": {"RequireUppercase": True}}})
    result = cognito.user_pool_password_policy.check(pool, stack(pool))
    assert result.detail == (
        f"missing MinimumLength>={PASSWORD_MIN_LENGTH}, RequireLowercase, RequireNumbers, RequireSymbols"
    )

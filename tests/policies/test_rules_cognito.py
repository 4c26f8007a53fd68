"""Tests of policies/rules/cognito.py (Identity rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from policies.rules import cognito
from tests.policies.rulekit import C, N, check, res


def test_cognito_rules() -> None:
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

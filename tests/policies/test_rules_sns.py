"""Tests of policies/rules/sns.py (SNS rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from policies.rules import sns
from tests.policies.rulekit import C, N, check, res


def test_sns_rules() -> None:
    assert check(sns.sns_kms, res("T", "AWS::SNS::Topic", {"KmsMasterKeyId": {"Ref": "K"}})) is C
    assert check(sns.sns_kms, res("T", "AWS::SNS::Topic", {"KmsMasterKeyId": "alias/aws/sns"})) is N

"""Tests of policies/rules/sns.py (SNS rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from typing import Any

import pytest

from policies.rules import sns
from tests.policies.rulekit import C, N, check, res


def test_sns_rules() -> None:
    assert check(sns.sns_kms, res("T", "AWS::SNS::Topic", {"KmsMasterKeyId": {"Ref": "K"}})) is C
    assert check(sns.sns_kms, res("T", "AWS::SNS::Topic", {"KmsMasterKeyId": "alias/aws/sns"})) is N


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        pytest.param({"Ref": "K"}, C, id="ENC1-SnsKms-customer-key"),
        pytest.param("alias/aws/sns", N, id="ENC1-SnsKms-aws-managed-key"),
        pytest.param(None, N, id="ENC1-SnsKms-unencrypted"),
    ],
)
def test_enc1_sns_kms(key: Any, expected: object) -> None:
    topic = res("T", "AWS::SNS::Topic", {} if key is None else {"KmsMasterKeyId": key})
    assert check(sns.sns_kms, topic) is expected

"""Tests of policies/rules/logs.py (CloudWatch Logs rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from policies.rules import logs
from tests.policies.rulekit import C, N, check, res


def test_logs_rules() -> None:
    assert check(logs.log_retention, res("G", "AWS::Logs::LogGroup", {"RetentionInDays": 365})) is C
    assert check(logs.log_retention, res("G", "AWS::Logs::LogGroup")) is N
    assert check(logs.log_retention, res("G", "AWS::Logs::LogGroup", {"RetentionInDays": 7})) is N
    assert check(logs.log_group_kms, res("G", "AWS::Logs::LogGroup", {"KmsKeyId": "k"})) is C
    assert check(logs.log_group_kms, res("G", "AWS::Logs::LogGroup")) is N
    fn = res("F", "AWS::Lambda::Function", {"LoggingConfig": {"LogGroup": {"Ref": "G"}}})
    assert check(logs.lambda_log_group, fn) is C
    assert check(logs.lambda_log_group, res("F", "AWS::Lambda::Function", {})) is N

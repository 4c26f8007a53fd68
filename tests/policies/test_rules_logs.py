"""Tests of policies/rules/logs.py (CloudWatch Logs rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from typing import Any

import pytest

from config.policy import retention_minimum
from policies.rules import logs
from tests.policies.rulekit import C, N, check, deployment, res, stack


def test_bak7_enc1_logs_rules() -> None:
    assert check(logs.log_retention, res("G", "AWS::Logs::LogGroup", {"RetentionInDays": 365})) is C
    assert check(logs.log_retention, res("G", "AWS::Logs::LogGroup")) is N
    assert check(logs.log_retention, res("G", "AWS::Logs::LogGroup", {"RetentionInDays": 7})) is N
    assert check(logs.log_group_kms, res("G", "AWS::Logs::LogGroup", {"KmsKeyId": "k"})) is C
    assert check(logs.log_group_kms, res("G", "AWS::Logs::LogGroup")) is N
    fn = res("F", "AWS::Lambda::Function", {"LoggingConfig": {"LogGroup": {"Ref": "G"}}})
    assert check(logs.lambda_log_group, fn) is C
    assert check(logs.lambda_log_group, res("F", "AWS::Lambda::Function", {})) is N


LOG_MINIMUM = retention_minimum("log_retention_days")


@pytest.mark.parametrize(
    ("deployment_name", "days", "expected"),
    [
        pytest.param("au-production", None, N, id="BAK7-LogRetention-never-expires"),
        *(
            pytest.param(name, days, expected, id=f"BAK7-LogRetention-{name}-{label}")
            for name in ("au-production", "au-development")
            for days, expected, label in (
                (deployment(name).retention.log_retention_days, C, "exactly-configured"),
                (deployment(name).retention.log_retention_days - 1, N, "one-below-configured"),
            )
        ),
        pytest.param(None, LOG_MINIMUM, C, id="BAK7-LogRetention-no-deployment-policy-minimum"),
        pytest.param(None, LOG_MINIMUM - 1, N, id="BAK7-LogRetention-no-deployment-one-below"),
    ],
)
def test_bak7_log_retention(deployment_name: str | None, days: int | None, expected: object) -> None:
    group = res("G", "AWS::Logs::LogGroup", {} if days is None else {"RetentionInDays": days})
    view = stack(group, name=deployment_name) if deployment_name else stack(group, deployment=None)
    assert check(logs.log_retention, group, view) is expected


@pytest.mark.parametrize(
    ("function", "group_name", "expected"),
    [
        pytest.param({"FunctionName": "fn"}, "/aws/lambda/fn", C, id="BAK7-LambdaLogGroup-managed-by-name"),
        pytest.param({}, "/aws/lambda/F-abc", C, id="BAK7-LambdaLogGroup-managed-by-logical-id"),
        pytest.param({"FunctionName": "fn"}, "/aws/lambda/other", N, id="BAK7-LambdaLogGroup-another-functions-group"),
        pytest.param({}, "/aws/lambda/", N, id="BAK7-LambdaLogGroup-nameless-function-owns-no-group"),
    ],
)
def test_bak7_lambda_log_group(function: dict[str, Any], group_name: str, expected: object) -> None:
    fn = res("F", "AWS::Lambda::Function", function)
    view = stack(fn, res("G", "AWS::Logs::LogGroup", {"LogGroupName": group_name}))
    assert check(logs.lambda_log_group, fn, view) is expected


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param({"KmsKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}, C, id="ENC1-LogGroupKms-customer-key"),
        pytest.param({}, N, id="ENC1-LogGroupKms-no-key"),
    ],
)
def test_enc1_log_group_kms(props: dict[str, Any], expected: object) -> None:
    assert check(logs.log_group_kms, res("G", "AWS::Logs::LogGroup", props)) is expected

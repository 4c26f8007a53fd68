"""patterns/alerting.py on a bare stack: every alarm publishes to its severity's topic (OPS-2), and its
description opens with the severity and the OPS-4 response times."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from patterns.alerting import SEVERITIES, SeverityTopics, SeverityTopicsProps, severity_alarm
from tests.patterns.bare import arn_of, bare_stack, ref

METRIC = cloudwatch.Metric(namespace="Unit", metric_name="Errors", period=cdk.Duration.minutes(1))


def _alarm(severity: int = 2, **options: Any) -> tuple[cdk.Stack, dict[int, sns.Topic], dict[str, Any]]:
    stack = bare_stack()
    topics = {s: sns.Topic(stack, f"Sev{s}", topic_name=f"unit-sev{s}") for s in SEVERITIES}
    severity_alarm(
        stack,
        "Alarm",
        topics=topics,
        severity=severity,
        summary="errors on the unit",
        metric=METRIC,
        threshold=5,
        comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        **options,
    )
    (alarm,) = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm").values()
    return stack, topics, dict(alarm["Properties"])


@pytest.mark.parametrize("severity", SEVERITIES)
def test_alarm_and_ok_go_to_the_topic_of_its_own_severity_only(severity: int) -> None:
    stack, topics, alarm = _alarm(severity)
    assert alarm["AlarmActions"] == [ref(stack, topics[severity])]
    assert alarm["OKActions"] == [ref(stack, topics[severity])]


def test_notify_ok_off_leaves_only_the_alarm_action() -> None:
    stack, topics, alarm = _alarm(3, notify_ok=False)
    assert alarm["AlarmActions"] == [ref(stack, topics[3])]
    assert "OKActions" not in alarm


def test_description_opens_with_the_severity_then_its_response_times() -> None:
    _, _, alarm = _alarm(1)
    assert alarm["AlarmDescription"] == (
        "Sev1: errors on the unit. Sev1: work starts within 1 hour, workaround within 4 hours, fix within 7 hours."
    )
    _, _, short = _alarm(4, with_response_times=False)
    assert short["AlarmDescription"] == "Sev4: errors on the unit"


def test_name_threshold_periods_and_missing_data_are_the_callers() -> None:
    _, _, default = _alarm()
    assert default["TreatMissingData"] == "missing"
    assert "AlarmName" not in default
    _, _, given = _alarm(
        alarm_name="unit-errors",
        treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        evaluation_periods=5,
        datapoints_to_alarm=2,
    )
    assert {k: given[k] for k in ("AlarmName", "TreatMissingData", "EvaluationPeriods", "DatapointsToAlarm")} == {
        "AlarmName": "unit-errors",
        "TreatMissingData": "breaching",
        "EvaluationPeriods": 5,
        "DatapointsToAlarm": 2,
    }
    assert (given["Threshold"], given["ComparisonOperator"]) == (5, "GreaterThanThreshold")


def test_an_alarm_without_a_topic_for_its_severity_is_refused() -> None:
    stack = bare_stack()
    topics = {1: sns.Topic(stack, "Sev1")}
    with pytest.raises(ValueError, match=r"\[OPS-2\] no Sev2 topic for alarm Orphan"):
        severity_alarm(
            stack,
            "Orphan",
            topics=topics,
            severity=2,
            summary="x",
            metric=METRIC,
            threshold=1,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )
    Template.from_stack(stack).resource_count_is("AWS::CloudWatch::Alarm", 0)


def _topics() -> tuple[cdk.Stack, SeverityTopics, Template]:
    stack = bare_stack()
    key = kms.Key(stack, "System")
    topics = SeverityTopics(
        stack, "Topics", props=SeverityTopicsProps(name_prefix="unit", key=key, alarm_email="oncall@example.com")
    )
    return stack, topics, Template.from_stack(stack)


def test_one_encrypted_topic_per_severity_named_after_it() -> None:
    stack, topics, template = _topics()
    assert sorted(topics.topics) == list(SEVERITIES)
    declared = template.find_resources("AWS::SNS::Topic")
    assert sorted(t["Properties"]["TopicName"] for t in declared.values()) == [f"unit-sev{s}" for s in SEVERITIES]
    key_arn = arn_of(stack, stack.node.find_child("System"))
    assert [t["Properties"]["KmsMasterKeyId"] for t in declared.values()] == [key_arn] * len(SEVERITIES)


def test_only_sev1_and_sev2_are_emailed() -> None:
    stack, topics, template = _topics()
    subscribed = [
        s["Properties"]["TopicArn"]
        for s in template.find_resources("AWS::SNS::Subscription", {"Properties": {"Protocol": "email"}}).values()
    ]
    assert sorted(subscribed, key=str) == sorted([ref(stack, topics.topics[1]), ref(stack, topics.topics[2])], key=str)
    template.resource_count_is("AWS::SNS::Subscription", 2)


def test_topics_deny_plain_http_and_admit_only_this_accounts_publishers() -> None:
    _, _, template = _topics()
    for policy in template.find_resources("AWS::SNS::TopicPolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        denies = [s for s in statements if s["Effect"] == "Deny"]
        assert [d["Condition"] for d in denies] == [{"Bool": {"aws:SecureTransport": "false"}}]
        allows = {s["Principal"]["Service"]: s["Condition"] for s in statements if s["Effect"] == "Allow"}
        assert allows == {
            "cloudwatch.amazonaws.com": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
            "events.amazonaws.com": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        }
    template.resource_count_is("AWS::SNS::TopicPolicy", len(SEVERITIES))


def test_the_key_admits_the_publishers_of_this_account_only() -> None:
    _, _, template = _topics()
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        {
                            "Sid": "AllowAlarmAndEventPublishersToEncryptedTopics",
                            "Effect": "Allow",
                            "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
                            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                            "Resource": "*",
                            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
                        }
                    ]
                )
            }
        },
    )

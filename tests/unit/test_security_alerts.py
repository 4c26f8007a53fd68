"""Security alerting (ACC-1, ACC-3, ACC-4, ENC-1, OPS-2): the rules exist in every region and page the
right severity, and each pattern matches its sample CloudTrail record and nothing next to it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from aws_cdk.assertions import Capture, Match
from moto.events.models import EventPattern

from patterns.security_alerts import (
    CLOUDTRAIL_DETAIL_TYPE,
    global_security_events,
    regional_security_events,
)
from tests import log_filter_syntax
from tests.conftest import Stages, TemplateOf

BREAK_GLASS = "au-production-break-glass"
BOUNDARIES = ("au-production-team-boundary", "au-production-workload-boundary", "au-production-cdk-boundary")
ACCOUNT = "111122223333"
REGIONS = ("ap-southeast-2", "ap-southeast-4")


def cloudtrail_record(source: str, name: str, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/dev/alice"},
        "eventSource": source,
        "eventName": name,
        "awsRegion": "ap-southeast-2",
        "eventType": "AwsApiCall",
        "requestParameters": {},
    }
    record.update(fields)
    return record


def as_event(record: dict[str, Any]) -> dict[str, Any]:
    """The envelope EventBridge puts around a CloudTrail record (eb-service-event.html)."""
    return {
        "version": "0",
        "id": "6f0e1c3a-0000-4000-8000-000000000000",
        "detail-type": CLOUDTRAIL_DETAIL_TYPE,
        "source": f"aws.{record['eventSource'].split('.')[0]}",
        "account": ACCOUNT,
        "time": "2026-12-02T10:00:00Z",
        "region": record["awsRegion"],
        "resources": [],
        "detail": record,
    }


def event_matches(pattern: dict[str, Any], record: dict[str, Any]) -> bool:
    return bool(EventPattern.load(json.dumps(pattern)).matches_event(as_event(record)))  # type: ignore[arg-type]


REGIONAL = {event.id: event for event in regional_security_events(BREAK_GLASS)}
GLOBAL = {event.id: event for event in global_security_events(BREAK_GLASS, BOUNDARIES, REGIONS)}
BREAK_GLASS_ARN = f"arn:aws:iam::{ACCOUNT}:role/{BREAK_GLASS}"

# (event id, a record that must page, records beside it that must not)
REGIONAL_CASES = [
    (
        "BreakGlassAssumed",
        cloudtrail_record("sts.amazonaws.com", "AssumeRole", requestParameters={"roleArn": BREAK_GLASS_ARN}),
        [
            cloudtrail_record(
                "sts.amazonaws.com", "AssumeRole", requestParameters={"roleArn": f"{BREAK_GLASS_ARN}-reader"}
            ),
            cloudtrail_record("sts.amazonaws.com", "GetCallerIdentity"),
        ],
    ),
    (
        "KeyDeletionOrDisable",
        cloudtrail_record("kms.amazonaws.com", "ScheduleKeyDeletion"),
        [cloudtrail_record("kms.amazonaws.com", "Decrypt"), cloudtrail_record("kms.amazonaws.com", "EnableKey")],
    ),
    (
        "KeyPolicyChanged",
        cloudtrail_record("kms.amazonaws.com", "PutKeyPolicy"),
        [cloudtrail_record("kms.amazonaws.com", "GetKeyPolicy")],
    ),
    (
        "AuditTrailChanged",
        cloudtrail_record("cloudtrail.amazonaws.com", "StopLogging"),
        [cloudtrail_record("cloudtrail.amazonaws.com", "StartLogging")],
    ),
    (
        "BackupVaultChanged",
        cloudtrail_record("backup.amazonaws.com", "DeleteBackupVaultLockConfiguration"),
        [cloudtrail_record("backup.amazonaws.com", "StartBackupJob")],
    ),
]

GLOBAL_CASES = [
    (
        "RootActivity",
        cloudtrail_record("signin.amazonaws.com", "ConsoleLogin", userIdentity={"type": "Root"}, awsRegion="us-east-1"),
        [
            cloudtrail_record(
                "iam.amazonaws.com",
                "ListRoles",
                userIdentity={"type": "Root", "invokedBy": "support.amazonaws.com"},
            ),
            cloudtrail_record("iam.amazonaws.com", "ListRoles"),
        ],
    ),
    (
        "ConsoleSignInWithoutMfa",
        cloudtrail_record(
            "signin.amazonaws.com",
            "ConsoleLogin",
            additionalEventData={"MFAUsed": "No"},
            responseElements={"ConsoleLogin": "Success"},
        ),
        [
            cloudtrail_record(
                "signin.amazonaws.com",
                "ConsoleLogin",
                additionalEventData={"MFAUsed": "Yes"},
                responseElements={"ConsoleLogin": "Success"},
            ),
            cloudtrail_record(
                "signin.amazonaws.com",
                "ConsoleLogin",
                additionalEventData={"MFAUsed": "No"},
                responseElements={"ConsoleLogin": "Failure"},
            ),
        ],
    ),
    (
        "BreakGlassAssumedGlobally",
        cloudtrail_record(
            "sts.amazonaws.com", "AssumeRole", awsRegion="us-east-1", requestParameters={"roleArn": BREAK_GLASS_ARN}
        ),
        [
            # The platform regions' records: their EventBridge rules page for them, not this filter.
            cloudtrail_record("sts.amazonaws.com", "AssumeRole", requestParameters={"roleArn": BREAK_GLASS_ARN}),
            cloudtrail_record(
                "sts.amazonaws.com",
                "AssumeRole",
                awsRegion="ap-southeast-4",
                requestParameters={"roleArn": BREAK_GLASS_ARN},
            ),
            cloudtrail_record(
                "sts.amazonaws.com",
                "AssumeRole",
                awsRegion="us-east-1",
                requestParameters={"roleArn": f"arn:aws:iam::{ACCOUNT}:role/au-production-primary-developer"},
            ),
        ],
    ),
    (
        "BoundaryChanged",
        cloudtrail_record(
            "iam.amazonaws.com",
            "CreatePolicyVersion",
            awsRegion="us-east-1",
            requestParameters={"policyArn": f"arn:aws:iam::{ACCOUNT}:policy/au-production-workload-boundary"},
        ),
        [
            cloudtrail_record(
                "iam.amazonaws.com",
                "CreatePolicyVersion",
                awsRegion="us-east-1",
                requestParameters={"policyArn": f"arn:aws:iam::{ACCOUNT}:policy/au-production-primary-operator-read"},
            ),
            cloudtrail_record("iam.amazonaws.com", "GetPolicy", awsRegion="us-east-1"),
        ],
    ),
]


@pytest.mark.parametrize(("event_id", "paging", "quiet"), REGIONAL_CASES, ids=[c[0] for c in REGIONAL_CASES])
def test_each_regional_pattern_matches_its_record_and_nothing_beside_it(
    event_id: str, paging: dict[str, Any], quiet: list[dict[str, Any]]
) -> None:
    pattern = REGIONAL[event_id].pattern()
    assert event_matches(pattern, paging)
    for record in quiet:
        assert not event_matches(pattern, record), record


@pytest.mark.parametrize(("event_id", "paging", "quiet"), GLOBAL_CASES, ids=[c[0] for c in GLOBAL_CASES])
def test_each_global_filter_matches_its_record_and_nothing_beside_it(
    event_id: str, paging: dict[str, Any], quiet: list[dict[str, Any]]
) -> None:
    pattern = GLOBAL[event_id].filter_pattern
    assert log_filter_syntax.matches(pattern, paging)
    for record in quiet:
        assert not log_filter_syntax.matches(pattern, record), record


def test_the_boundary_filter_pages_when_any_role_loses_its_boundary() -> None:
    removal = cloudtrail_record("iam.amazonaws.com", "DeleteRolePermissionsBoundary", awsRegion="us-east-1")
    assert log_filter_syntax.matches(GLOBAL["BoundaryChanged"].filter_pattern, removal)


def test_the_watched_boundaries_are_the_policies_that_exist(au_production: Stages, template_of: TemplateOf) -> None:
    """The filter names the team boundary the Access stack creates and the two that the bootstrap creates,
    by the names they are created with (it once watched `<deployment>-primary-team-boundary`, which no one
    creates)."""
    from tooling.bootstrap_policy import boundary_policy_name, team_boundary_name, workload_boundary_name

    deployment = au_production["primary"].deployment
    assert set(deployment.boundary_policy_names) == {
        team_boundary_name(deployment),
        workload_boundary_name(deployment),
        boundary_policy_name(deployment),
    }
    access = template_of(au_production, "primary", "Access")
    access.has_resource_properties("AWS::IAM::ManagedPolicy", {"ManagedPolicyName": team_boundary_name(deployment)})
    for name in BOUNDARIES:
        edit = cloudtrail_record(
            "iam.amazonaws.com",
            "SetDefaultPolicyVersion",
            awsRegion="us-east-1",
            requestParameters={"policyArn": f"arn:aws:iam::{ACCOUNT}:policy/{name}"},
        )
        assert log_filter_syntax.matches(GLOBAL["BoundaryChanged"].filter_pattern, edit), name
    assert deployment.boundary_policy_names == BOUNDARIES


def test_every_case_table_covers_every_event() -> None:
    assert {case[0] for case in REGIONAL_CASES} == set(REGIONAL)
    assert {case[0] for case in GLOBAL_CASES} == set(GLOBAL)


def test_the_filter_matcher_refuses_what_it_does_not_understand() -> None:
    with pytest.raises(ValueError):
        log_filter_syntax.matches("{ $.latency > 100 }", {"latency": 200})
    with pytest.raises(ValueError):
        log_filter_syntax.matches("ERROR", {})


@pytest.mark.parametrize("role", ["primary", "dr"])
def test_every_region_has_every_regional_rule_paging_its_severity_topic(
    au_production: Stages, template_of: TemplateOf, role: str
) -> None:
    alerts = template_of(au_production, role, "Alerts")
    topics = {
        resource["Properties"]["TopicName"]: logical_id
        for logical_id, resource in alerts.find_resources("AWS::SNS::Topic").items()
    }
    for event in regional_security_events(BREAK_GLASS):
        target = Capture()
        alerts.has_resource_properties(
            "AWS::Events::Rule",
            {
                "Name": f"au-production-{role}-security-{event.id}",
                "State": "ENABLED",
                "EventPattern": event.pattern(),
                "Targets": [Match.object_like({"Arn": {"Ref": target}})],
            },
        )
        assert target.as_string() == topics[f"au-production-{role}-sev{event.severity}"], event.id


def test_the_trail_log_group_carries_every_global_filter_with_an_alarm(
    au_production: Stages, template_of: TemplateOf
) -> None:
    audit = template_of(au_production, "primary", "Audit")
    log_group = next(
        iter(
            audit.find_resources(
                "AWS::Logs::LogGroup", {"Properties": {"LogGroupName": Match.string_like_regexp("^/audit/")}}
            )
        )
    )
    for event in global_security_events(BREAK_GLASS, BOUNDARIES, REGIONS):
        metric = f"au-production-primary-{event.id}"
        audit.has_resource_properties(
            "AWS::Logs::MetricFilter",
            {
                "LogGroupName": {"Ref": log_group},
                "FilterPattern": event.filter_pattern,
                "MetricTransformations": [Match.object_like({"MetricName": metric, "MetricValue": "1"})],
            },
        )
        audit.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "AlarmName": f"au-production-primary-security-{event.id}",
                "MetricName": metric,
                "Threshold": 1,
                "TreatMissingData": "notBreaching",
                "AlarmDescription": Match.string_like_regexp(f"^Sev{event.severity}: "),
                "AlarmActions": [Match.any_value()],
            },
        )


def test_a_changed_pattern_no_longer_matches() -> None:
    """The matchers are not vacuous: a pattern whose event name changed misses the record."""
    pattern = copy.deepcopy(REGIONAL["KeyDeletionOrDisable"].pattern())
    pattern["detail"]["eventName"] = ["DisableKeyRotation"]
    assert not event_matches(pattern, REGIONAL_CASES[1][1])

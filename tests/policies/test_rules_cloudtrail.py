"""Tests of policies/rules/cloudtrail.py (CloudTrail rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from typing import Any

import pytest

from policies.rules import cloudtrail
from tests.policies.rulekit import NA, C, N, check, linked, res, stack


def test_acc3_enc1_cloudtrail_rules() -> None:
    trail = {"IsMultiRegionTrail": True, "EnableLogFileValidation": True, "IsLogging": True, "KMSKeyId": "k"}
    assert check(cloudtrail.trail_configuration, res("T", "AWS::CloudTrail::Trail", trail)) is C
    assert (
        check(
            cloudtrail.trail_configuration, res("T", "AWS::CloudTrail::Trail", {**trail, "IsMultiRegionTrail": False})
        )
        is N
    )
    assert check(cloudtrail.trail_kms, res("T", "AWS::CloudTrail::Trail", trail)) is C
    assert check(cloudtrail.trail_kms, res("T", "AWS::CloudTrail::Trail", {})) is N
    with_trail = stack(res("Vpc", "AWS::EC2::VPC"), res("T", "AWS::CloudTrail::Trail", trail))
    assert check(cloudtrail.trail_present, with_trail.resources["Vpc"], with_trail) is C
    assert check(cloudtrail.trail_present, res("Vpc", "AWS::EC2::VPC")) is N


def _content_bucket(name: str = "au-production-primary-content-111111111111") -> Any:
    return res(
        "Content",
        "AWS::S3::Bucket",
        {"BucketName": name, "Tags": [{"Key": "data-classification", "Value": "customer"}]},
    )


MANAGEMENT = {"Name": "m", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}


def _data_selector(*prefixes: str) -> dict[str, Any]:
    fields: list[dict[str, Any]] = [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
    ]
    if prefixes:
        fields.append({"Field": "resources.ARN", "StartsWith": list(prefixes)})
    return {"Name": "d", "FieldSelectors": fields}


def _trail(*selectors: dict[str, Any]) -> Any:
    props: dict[str, Any] = {"IsMultiRegionTrail": True, "IsLogging": True}
    if selectors:
        props["AdvancedEventSelectors"] = list(selectors)
    return res("Trail", "AWS::CloudTrail::Trail", props)


def test_acc3_customer_bucket_data_events_are_recorded() -> None:
    """ACC-3: object-level access to customer content is in CloudTrail (data events), management kept."""
    rule = cloudtrail.customer_data_events
    bucket = _content_bucket()
    own = "arn:aws:s3:::au-production-primary-content-111111111111/"
    good = stack(bucket, _trail(MANAGEMENT, _data_selector(own, "arn:aws:s3:::au-production-dr-content-1/")))
    assert check(rule, bucket, good) is C
    assert check(rule, bucket, stack(bucket, _trail(MANAGEMENT, _data_selector()))) is C  # every bucket
    # non-compliant: management events only (the default trail), another bucket, no management selector, no trail
    assert check(rule, bucket, stack(bucket, _trail())) is N
    assert check(rule, bucket, stack(bucket, _trail(MANAGEMENT, _data_selector("arn:aws:s3:::other/")))) is N
    assert check(rule, bucket, stack(bucket, _trail(_data_selector(own)))) is N
    assert check(rule, bucket, stack(bucket)) is N
    logs_bucket = res("L", "AWS::S3::Bucket", {"Tags": [{"Key": "data-classification", "Value": "logs"}]})
    assert check(rule, logs_bucket, stack(logs_bucket)) is NA


TRAIL = {"IsMultiRegionTrail": True, "IsLogging": True}


@pytest.mark.parametrize(
    ("trail", "role", "expected"),
    [
        pytest.param(TRAIL, "primary", C, id="ACC3-TrailPresent-multi-region-trail-in-a-sibling-stack"),
        pytest.param({**TRAIL, "IsMultiRegionTrail": False}, "primary", N, id="ACC3-TrailPresent-single-region"),
        pytest.param(TRAIL, "dr", NA, id="ACC3-TrailPresent-dr-region"),
    ],
)
def test_acc3_trail_present(trail: dict[str, Any], role: str, expected: object) -> None:
    vpc = res("Vpc", "AWS::EC2::VPC")
    view = linked(stack(vpc, role=role), stack(res("T", "AWS::CloudTrail::Trail", trail)))
    assert check(cloudtrail.trail_present, vpc, view) is expected


@pytest.mark.parametrize(
    ("bucket_name", "expected"),
    [
        pytest.param("au-production-primary-content-111111111111", C, id="ACC3-CustomerDataEvents-literal-name"),
        pytest.param({"Ref": "Name"}, N, id="ACC3-CustomerDataEvents-name-not-literal"),
        pytest.param(None, N, id="ACC3-CustomerDataEvents-no-bucket-name"),
    ],
)
def test_acc3_customer_data_events_need_a_literal_bucket_name(bucket_name: Any, expected: object) -> None:
    """Every-bucket data events would cover any name, but a finding must be able to name the bucket."""
    props: dict[str, Any] = {"Tags": [{"Key": "data-classification", "Value": "customer"}]}
    if bucket_name is not None:
        props["BucketName"] = bucket_name
    bucket = res("Content", "AWS::S3::Bucket", props)
    view = linked(stack(bucket), stack(_trail(MANAGEMENT, _data_selector())))
    assert check(cloudtrail.customer_data_events, bucket, view) is expected


FULL_TRAIL = {"IsMultiRegionTrail": True, "EnableLogFileValidation": "true", "IsLogging": True, "KMSKeyId": "k"}


@pytest.mark.parametrize(
    ("rule", "changes", "expected"),
    [
        pytest.param(cloudtrail.trail_configuration, {}, C, id="ACC3-TrailConfiguration-complete"),
        *(
            pytest.param(cloudtrail.trail_configuration, {flag: False}, N, id=f"ACC3-TrailConfiguration-no-{flag}")
            for flag in ("IsMultiRegionTrail", "EnableLogFileValidation", "IsLogging")
        ),
        pytest.param(cloudtrail.trail_kms, {}, C, id="ENC1-TrailKms-customer-key"),
        pytest.param(cloudtrail.trail_kms, {"KMSKeyId": None}, N, id="ENC1-TrailKms-no-key"),
    ],
)
def test_trail_rule_cases(rule: Any, changes: dict[str, Any], expected: object) -> None:
    props = {k: v for k, v in {**FULL_TRAIL, **changes}.items() if v is not None}
    assert check(rule, res("T", "AWS::CloudTrail::Trail", props)) is expected


# --- ACC-3: the trail's records are locked and copied into a locked bucket of the DR region --------------

SOURCE = "au-production-primary-audit-111111111111"
ARCHIVE = "au-production-dr-audit-111111111111"


def _locked(mode: str = "COMPLIANCE", days: int = 2555, **period: int) -> dict[str, Any]:
    return {
        "ObjectLockEnabled": True,
        "ObjectLockConfiguration": {
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": mode, **(period or {"Days": days})}},
        },
    }


def _replication(
    destination: str = ARCHIVE, delete_markers: str = "Disabled", status: str = "Enabled", partition: str = "aws"
) -> Any:
    return {
        "ReplicationConfiguration": {
            "Role": "r",
            "Rules": [
                {
                    "Id": "ToDisasterRecoveryRegion",
                    "Status": status,
                    "DeleteMarkerReplication": {"Status": delete_markers},
                    "Destination": {"Bucket": f"arn:{partition}:s3:::{destination}"},
                }
            ],
        }
    }


def _trail_world(source: dict[str, Any], archive: dict[str, Any]) -> tuple[Any, Any]:
    """A primary stack with the trail and its bucket, linked to a stack (DR unless `_role`) with the archive."""
    bucket = res("TrailBucket", "AWS::S3::Bucket", {"BucketName": SOURCE, **source})
    trail = res("Trail", "AWS::CloudTrail::Trail", {"IsMultiRegionTrail": True, "S3BucketName": {"Ref": "TrailBucket"}})
    role = archive.pop("_role", "dr")
    copy = stack(res("Archive", "AWS::S3::Bucket", {"BucketName": ARCHIVE, **archive}), role=role)
    primary = linked(stack(bucket, trail), copy)
    return bucket, primary


@pytest.mark.parametrize(
    ("source", "name", "expected"),
    [
        pytest.param(_locked(), "au-production", C, id="ACC3-AuditBucketObjectLock-compliance-2555-days"),
        pytest.param(_locked(Years=7), "au-production", C, id="ACC3-AuditBucketObjectLock-compliance-7-years"),
        pytest.param({}, "au-production", N, id="ACC3-AuditBucketObjectLock-no-object-lock"),
        pytest.param(
            {"ObjectLockEnabled": True}, "au-production", N, id="ACC3-AuditBucketObjectLock-no-default-retention"
        ),
        pytest.param(_locked("GOVERNANCE"), "au-production", N, id="ACC3-AuditBucketObjectLock-governance-in-prod"),
        pytest.param(_locked(days=365), "au-production", N, id="ACC3-AuditBucketObjectLock-shorter-than-kept"),
        pytest.param(
            _locked("GOVERNANCE", 365), "au-development", C, id="ACC3-AuditBucketObjectLock-governance-in-development"
        ),
        pytest.param(_locked("GOVERNANCE", 30), "au-development", N, id="ACC3-AuditBucketObjectLock-dev-too-short"),
    ],
)
def test_acc3_audit_bucket_object_lock(source: dict[str, Any], name: str, expected: object) -> None:
    bucket = res("TrailBucket", "AWS::S3::Bucket", {"BucketName": SOURCE, **source})
    trail = res("Trail", "AWS::CloudTrail::Trail", {"S3BucketName": {"Ref": "TrailBucket"}})
    assert check(cloudtrail.audit_bucket_object_lock, bucket, stack(bucket, trail, name=name)) is expected


def test_acc3_audit_rules_ignore_buckets_no_trail_delivers_to() -> None:
    other = res("Other", "AWS::S3::Bucket", {"BucketName": "x"})
    for rule in (cloudtrail.audit_bucket_object_lock, cloudtrail.audit_bucket_replicated_to_lock):
        assert check(rule, other, stack(other)) is NA


@pytest.mark.parametrize(
    ("source", "archive", "expected"),
    [
        pytest.param(
            {**_locked(), **_replication()}, _locked(), C, id="ACC3-AuditBucketReplicatedToLock-locked-dr-copy"
        ),
        pytest.param(
            {**_locked(), **_replication(partition="{AWS::Partition}")},
            _locked(),
            C,
            id="ACC3-AuditBucketReplicatedToLock-partition-not-literal",
        ),
        pytest.param(_locked(), _locked(), N, id="ACC3-AuditBucketReplicatedToLock-no-replication"),
        pytest.param(
            {**_locked(), **_replication()}, {}, N, id="ACC3-AuditBucketReplicatedToLock-destination-not-locked"
        ),
        pytest.param(
            {**_locked(), **_replication()},
            _locked("GOVERNANCE"),
            N,
            id="ACC3-AuditBucketReplicatedToLock-destination-governance-in-prod",
        ),
        pytest.param(
            {**_locked(), **_replication(delete_markers="Enabled")},
            _locked(),
            N,
            id="ACC3-AuditBucketReplicatedToLock-replicates-delete-markers",
        ),
        pytest.param(
            {**_locked(), **_replication(status="Disabled")},
            _locked(),
            N,
            id="ACC3-AuditBucketReplicatedToLock-rule-disabled",
        ),
        pytest.param(
            {**_locked(), **_replication(destination="somewhere-else")},
            _locked(),
            N,
            id="ACC3-AuditBucketReplicatedToLock-destination-outside-the-deployment",
        ),
        pytest.param(
            {**_locked(), **_replication()},
            {**_locked(), "_role": "primary"},
            N,
            id="ACC3-AuditBucketReplicatedToLock-destination-in-the-same-region",
        ),
    ],
)
def test_acc3_audit_bucket_replicated_to_lock(
    source: dict[str, Any], archive: dict[str, Any], expected: object
) -> None:
    bucket, view = _trail_world(source, dict(archive))
    assert check(cloudtrail.audit_bucket_replicated_to_lock, bucket, view) is expected

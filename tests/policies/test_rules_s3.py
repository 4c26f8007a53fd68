"""Tests of policies/rules/s3.py (S3 rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from typing import Any

import pytest

from policies.rules import s3
from tests.policies.rulekit import NA, C, N, check, res, stack

KMS = {
    "ServerSideEncryptionConfiguration": [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Ref": "K"}}}
    ]
}


TLS_POLICY = {
    "Statement": [
        {
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
}


def _bucket(props: dict, policy: dict | None = TLS_POLICY, **tags: str) -> tuple:  # type: ignore[type-arg]
    all_props = {"Tags": [{"Key": k.replace("_", "-"), "Value": v} for k, v in tags.items()], **props}
    resources = [res("B", "AWS::S3::Bucket", all_props)]
    if policy:
        resources.append(res("P", "AWS::S3::BucketPolicy", {"Bucket": {"Ref": "B"}, "PolicyDocument": policy}))
    view = stack(*resources)
    return view.resources["B"], view


def test_s3_rules() -> None:
    good = {
        "BucketEncryption": KMS,
        "VersioningConfiguration": {"Status": "Enabled"},
        "LoggingConfiguration": {"DestinationBucketName": {"Ref": "L"}},
    }
    assert check(s3.s3_kms, *_bucket(good)) is C
    sse_s3 = {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    assert check(s3.s3_kms, *_bucket({"BucketEncryption": sse_s3})) is N
    assert check(s3.s3_deny_non_tls, *_bucket(good)) is C
    assert check(s3.s3_deny_non_tls, *_bucket(good, policy=None)) is N
    assert check(s3.versioning, *_bucket(good)) is C
    assert check(s3.versioning, *_bucket({"BucketEncryption": KMS})) is N
    assert check(s3.s3_access_logs, *_bucket(good)) is C
    assert check(s3.s3_access_logs, *_bucket({})) is N


def test_alb_log_bucket_may_use_sse_s3() -> None:
    elb = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::783225319266:root"},
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::b/alb/AWSLogs/1/*",
            }
        ]
    }
    sse_s3 = {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    assert check(s3.s3_kms, *_bucket({"BucketEncryption": sse_s3}, policy=elb)) is NA


@pytest.mark.parametrize(
    "principal,expected",
    [
        # Regions opened since 2022 (ap-southeast-4) deliver ALB logs as this service principal.
        pytest.param({"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}, NA, id="elb-service-principal"),
        pytest.param({"Service": "logging.s3.amazonaws.com"}, NA, id="s3-server-access-logs"),
        pytest.param({"Service": "delivery.logs.amazonaws.com"}, N, id="other-service-no-exemption"),
    ],
)
def test_enc1_s3_kms_log_delivery_principals(principal: dict[str, str], expected: object) -> None:
    policy = {"Statement": [{"Effect": "Allow", "Principal": principal, "Action": "s3:PutObject", "Resource": "x"}]}
    sse_s3 = {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    assert check(s3.s3_kms, *_bucket({"BucketEncryption": sse_s3}, policy=policy)) is expected


def test_noncurrent_retention_and_log_lifecycle() -> None:
    short = {
        "LifecycleConfiguration": {
            "Rules": [{"Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 7}}]
        }
    }
    assert check(s3.noncurrent_retention, *_bucket(short)) is N
    assert check(s3.noncurrent_retention, *_bucket({})) is C
    lifecycle = {
        "LifecycleConfiguration": {
            "Rules": [
                {
                    "Status": "Enabled",
                    "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 30}],
                    "ExpirationInDays": 2555,
                }
            ],
            "TransitionDefaultMinimumObjectSize": "varies_by_storage_class",
        }
    }
    assert check(s3.log_bucket_lifecycle, *_bucket(lifecycle, data_classification="logs")) is C
    # S3's default since Sept 2024 (all_storage_classes_128K): objects < 128 KB never move (BAK-7).
    rules: list[dict[str, Any]] = [
        {
            "Status": "Enabled",
            "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 30}],
            "ExpirationInDays": 2555,
        }
    ]
    default_size: dict[str, Any] = {"LifecycleConfiguration": {"Rules": rules}}
    assert check(s3.log_bucket_lifecycle, *_bucket(default_size, data_classification="logs")) is N
    explicit_128k = {
        "LifecycleConfiguration": {
            "Rules": rules,
            "TransitionDefaultMinimumObjectSize": "all_storage_classes_128K",
        }
    }
    assert check(s3.log_bucket_lifecycle, *_bucket(explicit_128k, data_classification="logs")) is N
    size_filter = {"LifecycleConfiguration": {"Rules": [{**rules[0], "ObjectSizeGreaterThan": 0}]}}
    assert check(s3.log_bucket_lifecycle, *_bucket(size_filter, data_classification="logs")) is C
    assert check(s3.log_bucket_lifecycle, *_bucket({}, data_classification="logs")) is N
    assert check(s3.log_bucket_lifecycle, *_bucket({})) is NA


def test_tenant_scoped_access() -> None:
    bucket = res("B", "AWS::S3::Bucket", {"Tags": [{"Key": "data-classification", "Value": "customer"}]})

    def policy(resource: object) -> object:
        doc = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}]}
        view = stack(bucket, res("P", "AWS::IAM::ManagedPolicy", {"PolicyDocument": doc}))
        return check(s3.tenant_scoped_access, view.resources["P"], view)

    scoped = {"Fn::Join": ["", [{"Fn::GetAtt": ["B", "Arn"]}, "/tenants/${aws:PrincipalTag/tenant-id}/*"]]}
    assert policy(scoped) is C
    assert policy({"Fn::Join": ["", [{"Fn::GetAtt": ["B", "Arn"]}, "/*"]]}) is N


@pytest.mark.parametrize(
    "actions,expected",
    [
        # S3 replication (DR-1) copies the whole bucket as S3 itself: not a tenant's access.
        pytest.param(["s3:GetObjectVersionForReplication", "s3:GetObjectVersionTagging"], "NA", id="replication-only"),
        pytest.param(["s3:ReplicateObject", "s3:ReplicateDelete"], "NA", id="replicate-writes"),
        pytest.param(["s3:GetObjectVersionForReplication", "s3:GetObject"], "N", id="replication-plus-read"),
    ],
)
def test_host5_replication_grants_are_not_tenant_access(actions: list[str], expected: str) -> None:
    bucket = res("B", "AWS::S3::Bucket", {"Tags": [{"Key": "data-classification", "Value": "customer"}]})
    everything = {"Fn::Join": ["", [{"Fn::GetAtt": ["B", "Arn"]}, "/*"]]}
    doc = {"Statement": [{"Effect": "Allow", "Action": actions, "Resource": everything}]}
    view = stack(bucket, res("P", "AWS::IAM::ManagedPolicy", {"PolicyDocument": doc}))
    assert check(s3.tenant_scoped_access, view.resources["P"], view) is {"NA": NA, "N": N}[expected]

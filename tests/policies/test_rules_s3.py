"""Tests of policies/rules/s3.py (S3 rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from typing import Any

import pytest

from config.policy import retention_minimum
from policies.rules import s3
from tests.policies.rulekit import NA, C, N, check, deployment, res, stack

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


def test_enc1_enc3_bak6_acc3_s3_rules() -> None:
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


PARTITION_JOINED_ROOT = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::652711504416:root"]]}


@pytest.mark.parametrize(
    "principal",
    [
        pytest.param("arn:aws:iam::783225319266:root", id="partition-literal"),
        # Issue 17 item 13: without @aws-cdk/core:enablePartitionLiterals CDK joins the partition in.
        pytest.param(PARTITION_JOINED_ROOT, id="partition-fn-join"),
        pytest.param([PARTITION_JOINED_ROOT], id="partition-fn-join-in-a-list"),
    ],
)
def test_enc1_alb_log_bucket_may_use_sse_s3(principal: object) -> None:
    elb = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::b/alb/AWSLogs/1/*",
            }
        ]
    }
    sse_s3 = {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    assert check(s3.s3_kms, *_bucket({"BucketEncryption": sse_s3}, policy=elb)) is NA


def test_enc1_other_aws_principals_are_no_log_delivery() -> None:
    role = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::652711504416:role/writer"]]}
    policy = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": role}, "Action": "s3:PutObject", "Resource": "x/AWSLogs/1/*"}
        ]
    }
    sse_s3 = {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    assert check(s3.s3_kms, *_bucket({"BucketEncryption": sse_s3}, policy=policy)) is N


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


def test_bak6_bak7_noncurrent_retention_and_log_lifecycle() -> None:
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


def test_host5_tenant_scoped_access() -> None:
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


def _encryption(algorithm: str, key: Any = None) -> dict[str, Any]:
    default: dict[str, Any] = {"SSEAlgorithm": algorithm}
    if key is not None:
        default["KMSMasterKeyID"] = key
    return {"BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": default}]}}


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param(_encryption("aws:kms", {"Ref": "K"}), C, id="ENC1-S3Kms-customer-key"),
        pytest.param(_encryption("aws:kms:dsse", "arn:aws:kms:k"), C, id="ENC1-S3Kms-dsse-customer-key"),
        pytest.param(_encryption("aws:kms", "alias/aws/s3"), N, id="ENC1-S3Kms-aws-managed-alias"),
        pytest.param(_encryption("aws:kms"), N, id="ENC1-S3Kms-no-key"),
        pytest.param(_encryption("AES256"), N, id="ENC1-S3Kms-sse-s3"),
        pytest.param({}, N, id="ENC1-S3Kms-no-default-encryption"),
    ],
)
def test_enc1_s3_kms(props: dict[str, Any], expected: object) -> None:
    assert check(s3.s3_kms, *_bucket(props)) is expected


@pytest.mark.parametrize(
    ("effect", "secure_transport", "expected"),
    [
        pytest.param("Deny", "false", C, id="ENC3-S3DenyNonTls-deny-insecure"),
        pytest.param("Allow", "false", N, id="ENC3-S3DenyNonTls-allow-insecure"),
        pytest.param("Deny", "true", N, id="ENC3-S3DenyNonTls-deny-secure"),
    ],
)
def test_enc3_s3_deny_non_tls(effect: str, secure_transport: str, expected: object) -> None:
    condition = {"Bool": {"aws:SecureTransport": secure_transport}}
    statement = {"Effect": effect, "Principal": "*", "Action": "s3:*", "Condition": condition}
    assert check(s3.s3_deny_non_tls, *_bucket({}, policy={"Statement": [statement]})) is expected


NONCURRENT = deployment().retention.noncurrent_version_days


def _noncurrent(days: int, status: str = "Enabled") -> dict[str, Any]:
    rule = {"Status": status, "NoncurrentVersionExpiration": {"NoncurrentDays": days}}
    return {"LifecycleConfiguration": {"Rules": [rule]}}


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param(_noncurrent(NONCURRENT), C, id="BAK6-NoncurrentRetention-exactly-the-configured-days"),
        pytest.param(_noncurrent(NONCURRENT - 1), N, id="BAK6-NoncurrentRetention-one-below"),
        pytest.param(_noncurrent(1, status="Disabled"), C, id="BAK6-NoncurrentRetention-disabled-rule-ignored"),
        pytest.param(
            {"LifecycleConfiguration": {"Rules": [{"NoncurrentVersionExpirationInDays": NONCURRENT - 1}]}},
            N,
            id="BAK6-NoncurrentRetention-legacy-field-status-defaults-to-enabled",
        ),
    ],
)
def test_bak6_noncurrent_retention(props: dict[str, Any], expected: object) -> None:
    assert check(s3.noncurrent_retention, *_bucket(props)) is expected


def test_bak6_noncurrent_retention_without_deployment_uses_the_policy_minimum() -> None:
    minimum = retention_minimum("noncurrent_version_days")
    for days, expected in ((minimum, C), (minimum - 1, N)):
        bucket = res("B", "AWS::S3::Bucket", _noncurrent(days))
        assert check(s3.noncurrent_retention, bucket, stack(bucket, deployment=None)) is expected


TRANSITION = deployment().retention.log_archive_transition_days
EXPIRY = deployment().retention.log_archive_expiry_days


def _log_rule(
    transition: int | None = TRANSITION, expiry: int | None = EXPIRY, storage: str = "GLACIER", status: str = "Enabled"
) -> dict[str, Any]:
    rule: dict[str, Any] = {"Status": status}
    if transition is not None:
        rule["Transitions"] = [{"StorageClass": storage, "TransitionInDays": transition}]
    if expiry is not None:
        rule["ExpirationInDays"] = expiry
    return {
        "LifecycleConfiguration": {"Rules": [rule], "TransitionDefaultMinimumObjectSize": "varies_by_storage_class"}
    }


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param(_log_rule(), C, id="BAK7-LogBucketLifecycle-exactly-the-configured-days"),
        pytest.param(_log_rule(transition=TRANSITION - 1), N, id="BAK7-LogBucketLifecycle-transition-one-below"),
        pytest.param(_log_rule(expiry=EXPIRY - 1), N, id="BAK7-LogBucketLifecycle-expiry-one-below"),
        pytest.param(_log_rule(expiry=None), N, id="BAK7-LogBucketLifecycle-no-expiry"),
        pytest.param(_log_rule(transition=None), N, id="BAK7-LogBucketLifecycle-no-transition"),
        pytest.param(_log_rule(storage="STANDARD_IA"), N, id="BAK7-LogBucketLifecycle-not-glacier"),
        pytest.param(_log_rule(storage="DEEP_ARCHIVE"), C, id="BAK7-LogBucketLifecycle-deep-archive"),
        pytest.param(_log_rule(status="Disabled"), N, id="BAK7-LogBucketLifecycle-disabled-rule"),
    ],
)
def test_bak7_log_bucket_lifecycle(props: dict[str, Any], expected: object) -> None:
    assert check(s3.log_bucket_lifecycle, *_bucket(props, data_classification="logs")) is expected


def test_bak7_log_bucket_lifecycle_transition_without_days_is_day_zero() -> None:
    props = _log_rule()
    del props["LifecycleConfiguration"]["Rules"][0]["Transitions"][0]["TransitionInDays"]
    bucket, view = _bucket(props, data_classification="logs")
    detail = s3.log_bucket_lifecycle.check(bucket, view).detail
    assert detail == f"moves to Glacier after 0 days, before the {TRANSITION}-day hot window ends"


CUSTOMER = res("B", "AWS::S3::Bucket", {"Tags": [{"Key": "data-classification", "Value": "customer"}]})
OTHER = res("O", "AWS::S3::Bucket", {"Tags": [{"Key": "data-classification", "Value": "system"}]})
EVERY_OBJECT = {"Fn::Join": ["", [{"Fn::GetAtt": ["B", "Arn"]}, "/*"]]}
TENANT_PREFIX = {"Fn::Join": ["", [{"Fn::GetAtt": ["B", "Arn"]}, "/tenants/t1/*"]]}
TENANT_TAG = {"StringEquals": {"s3:ExistingObjectTag/tenant-id": "${aws:PrincipalTag/tenant-id}"}}


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        pytest.param({"Action": "s3:GetObject", "Resource": TENANT_PREFIX}, C, id="HOST5-TenantScopedAccess-prefix"),
        pytest.param(
            {
                "Action": "s3:PutObject",
                "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["B", "Arn"]}, "/${aws:PrincipalTag/tenant-id}/*"]]},
            },
            C,
            id="HOST5-TenantScopedAccess-tenant-id-in-the-resource",
        ),
        # Pins today's behaviour: the rule reads a Condition only through flatten(), which renders a plain
        # condition object as "{intrinsic}", so a tenant-id tag condition alone is not recognised (reported).
        pytest.param(
            {"Action": "s3:PutObject", "Resource": EVERY_OBJECT, "Condition": TENANT_TAG},
            N,
            id="HOST5-TenantScopedAccess-tenant-id-condition-object-not-read",
        ),
        pytest.param({"Action": "s3:GetObject", "Resource": EVERY_OBJECT}, N, id="HOST5-TenantScopedAccess-unscoped"),
        pytest.param({"Action": "*", "Resource": EVERY_OBJECT}, N, id="HOST5-TenantScopedAccess-star"),
        pytest.param({"Action": "s3:*", "Resource": EVERY_OBJECT}, N, id="HOST5-TenantScopedAccess-s3-star"),
        pytest.param(
            {"Action": "s3:ListBucket", "Resource": {"Fn::GetAtt": ["B", "Arn"]}},
            NA,
            id="HOST5-TenantScopedAccess-no-object-action",
        ),
        pytest.param(
            {"Action": "kms:DecryptObject", "Resource": EVERY_OBJECT},
            NA,
            id="HOST5-TenantScopedAccess-object-word-outside-s3",
        ),
        pytest.param(
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": EVERY_OBJECT},
            NA,
            id="HOST5-TenantScopedAccess-deny-ignored",
        ),
        pytest.param(
            {"Action": "s3:GetObject", "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["O", "Arn"]}, "/*"]]}},
            NA,
            id="HOST5-TenantScopedAccess-not-a-customer-bucket",
        ),
    ],
)
def test_host5_tenant_scoped_access_conditions(statement: dict[str, Any], expected: object) -> None:
    doc = {"Statement": [{"Effect": "Allow", **statement}]}
    policy = res("P", "AWS::IAM::ManagedPolicy", {"PolicyDocument": doc})
    assert check(s3.tenant_scoped_access, policy, stack(CUSTOMER, OTHER, policy)) is expected


def test_host5_tenant_scoped_access_counts_the_grants() -> None:
    grant = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": TENANT_PREFIX}
    policy = res("P", "AWS::IAM::ManagedPolicy", {"PolicyDocument": {"Statement": [grant, grant]}})
    assert s3.tenant_scoped_access.check(policy, stack(CUSTOMER, policy)).detail == "2 tenant-scoped grant(s)"


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param({"VersioningConfiguration": {"Status": "Enabled"}}, C, id="BAK6-Versioning-enabled"),
        pytest.param({"VersioningConfiguration": {"Status": "Suspended"}}, N, id="BAK6-Versioning-suspended"),
        pytest.param({}, N, id="BAK6-Versioning-never-enabled"),
    ],
)
def test_bak6_versioning(props: dict[str, Any], expected: object) -> None:
    assert check(s3.versioning, *_bucket(props)) is expected


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param({"LoggingConfiguration": {"DestinationBucketName": "l"}}, C, id="ACC3-S3AccessLogs-logging-on"),
        pytest.param({}, N, id="ACC3-S3AccessLogs-logging-off"),
    ],
)
def test_acc3_s3_access_logs(props: dict[str, Any], expected: object) -> None:
    assert check(s3.s3_access_logs, *_bucket(props)) is expected


def test_acc3_s3_access_logs_log_destination_not_applicable() -> None:
    logs = res("L", "AWS::S3::Bucket", {})
    source = res("B", "AWS::S3::Bucket", {"LoggingConfiguration": {"DestinationBucketName": {"Ref": "L"}}})
    assert check(s3.s3_access_logs, logs, stack(logs, source)) is NA

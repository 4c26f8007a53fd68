"""Tests of policies/rules/kms.py (KMS rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from policies.rules import kms
from tests.policies.rulekit import NA, C, N, check, res, stack


def test_enc2_kms_rules() -> None:
    root = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
    }
    key = res(
        "K",
        "AWS::KMS::Key",
        {"EnableKeyRotation": True, "KeyPolicy": root, "Tags": [{"Key": "data-classification", "Value": "logs"}]},
    )
    for r in (r for r in kms.RULES if r.applies_to(key.type)):
        if r is not kms.every_class_in_region:  # anchored on the customer key (tested below)
            assert check(r, key) is C, r.id
    assert check(kms.key_rotation, res("K", "AWS::KMS::Key", {"EnableKeyRotation": False})) is N
    assert check(kms.key_per_data_class, res("K", "AWS::KMS::Key")) is N
    twin = stack(key, res("K2", "AWS::KMS::Key", {"Tags": [{"Key": "data-classification", "Value": "logs"}]}))
    assert check(kms.key_per_data_class, key, twin) is N
    open_policy = {
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}]
    }
    assert check(kms.key_policy, res("K", "AWS::KMS::Key", {"KeyPolicy": open_policy})) is N
    service_star = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "kms:*", "Resource": "*"}
        ]
    }
    assert check(kms.key_policy, res("K", "AWS::KMS::Key", {"KeyPolicy": service_star})) is N


ROOT = {"AWS": "arn:aws:iam::111111111111:root"}
ROLE = {"AWS": "arn:aws:iam::111111111111:role/app"}


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        pytest.param({"Principal": ROOT, "Action": "kms:*"}, C, id="ENC2-KeyPolicyLeastPrivilege-root-kms-star"),
        pytest.param(
            {"Principal": {"AWS": "111111111111"}, "Action": "*"}, C, id="ENC2-KeyPolicyLeastPrivilege-root-id"
        ),
        pytest.param({"Principal": ROLE, "Action": "kms:Decrypt"}, C, id="ENC2-KeyPolicyLeastPrivilege-role-decrypt"),
        pytest.param({"Principal": ROLE, "Action": "kms:*"}, N, id="ENC2-KeyPolicyLeastPrivilege-role-kms-star"),
        pytest.param({"Principal": ROLE, "Action": "*"}, N, id="ENC2-KeyPolicyLeastPrivilege-role-star"),
        pytest.param({"Principal": "*", "Action": "kms:Decrypt"}, N, id="ENC2-KeyPolicyLeastPrivilege-everyone"),
        pytest.param(
            {"Principal": {"AWS": "*"}, "Action": "kms:Decrypt"}, N, id="ENC2-KeyPolicyLeastPrivilege-aws-star"
        ),
        pytest.param(
            {"Principal": {"AWS": [ROLE["AWS"], "*"]}, "Action": "kms:Decrypt"},
            N,
            id="ENC2-KeyPolicyLeastPrivilege-star-in-a-list",
        ),
        pytest.param(
            {"Principal": "*", "Action": "kms:Decrypt", "Condition": {"StringEquals": {"kms:CallerAccount": "1"}}},
            C,
            id="ENC2-KeyPolicyLeastPrivilege-everyone-with-a-condition",
        ),
        pytest.param(
            {"Effect": "Deny", "Principal": ROLE, "Action": "kms:*"}, C, id="ENC2-KeyPolicyLeastPrivilege-deny-ignored"
        ),
    ],
)
def test_enc2_key_policy(statement: dict[str, Any], expected: object) -> None:
    policy = {"Statement": [{"Effect": "Allow", "Resource": "*", **statement}]}
    assert check(kms.key_policy, res("K", "AWS::KMS::Key", {"KeyPolicy": policy})) is expected


def test_enc2_key_policy_finding_quotes_the_principal_up_to_80_characters() -> None:
    principal = {"AWS": "arn:aws:iam::111111111111:role/" + "r" * 100}
    policy = {"Statement": [{"Sid": "Wide", "Effect": "Allow", "Principal": principal, "Action": "kms:*"}]}
    key = res("K", "AWS::KMS::Key", {"KeyPolicy": policy})
    quoted = json.dumps(principal)[:80]
    assert kms.key_policy.check(key, stack(key)).detail == f"statement Wide gives {quoted} kms:*"


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param({"EnableKeyRotation": True}, C, id="ENC1-KeyRotation-on"),
        pytest.param({"EnableKeyRotation": False}, N, id="ENC1-KeyRotation-off"),
        pytest.param({"KeySpec": "RSA_2048"}, NA, id="ENC1-KeyRotation-asymmetric"),
    ],
)
def test_enc1_key_rotation(props: dict[str, Any], expected: object) -> None:
    assert check(kms.key_rotation, res("K", "AWS::KMS::Key", props)) is expected


def _key(logical_id: str, data_class: str | None) -> Any:
    tags = [] if data_class is None else [{"Key": "data-classification", "Value": data_class}]
    return res(logical_id, "AWS::KMS::Key", {"Tags": tags})


@pytest.mark.parametrize(
    ("data_class", "sibling", "expected"),
    [
        pytest.param("customer", "logs", C, id="ENC2-KeyPerDataClass-one-key-per-class"),
        pytest.param("customer", "customer", N, id="ENC2-KeyPerDataClass-class-shared"),
        pytest.param("secret", "logs", N, id="ENC2-KeyPerDataClass-unknown-class"),
        pytest.param(None, "logs", N, id="ENC2-KeyPerDataClass-untagged"),
    ],
)
def test_enc2_key_per_data_class(data_class: str | None, sibling: str, expected: object) -> None:
    key = _key("K", data_class)
    assert check(kms.key_per_data_class, key, stack(key, _key("Other", sibling))) is expected


@pytest.mark.parametrize(
    ("classes", "expected"),
    [
        pytest.param(("customer", "system", "logs", "backup", "codebase"), C, id="ENC2-EveryClassInRegion-all-five"),
        pytest.param(("customer", "system", "logs", "backup"), N, id="ENC2-EveryClassInRegion-no-codebase-key"),
        pytest.param(("customer", "logs", "backup", "codebase"), N, id="ENC2-EveryClassInRegion-no-system-key"),
    ],
)
def test_enc2_every_class_in_region(classes: tuple[str, ...], expected: object) -> None:
    keys = [_key(f"K{c}", c) for c in classes]
    view = stack(*keys)
    assert check(kms.every_class_in_region, keys[0], view) is expected
    assert check(kms.every_class_in_region, _key("Other", "logs"), view) is NA


def _weak_reference(stack_name: str, output: str, region: str | None = None) -> dict[str, Any]:
    spec = {"StackName": stack_name, "OutputName": output, **({"Region": region} if region else {})}
    return {"Fn::GetStackOutput": spec}


def _world(**topic_props: Any) -> tuple[Any, Any]:
    """A Keys stack exporting its keys (weak references and an export) and an Alerts stack using one."""
    keys = stack(_key("SystemKey", "system"), _key("LogsKey", "logs"), role="dr")
    keys.name = "au-production-dr-keys"
    keys.outputs = {
        "SystemArn": {"Fn::GetAtt": ["SystemKey", "Arn"]},
        "LogsArn": {"Fn::GetAtt": ["LogsKey", "Arn"]},
        "Chained": _weak_reference("au-production-dr-keys", "SystemArn"),
    }
    keys.exports = {"au-production-dr-keys:SystemArn": {"Fn::GetAtt": ["SystemKey", "Arn"]}}
    topic = res("Topic", "AWS::SNS::Topic", topic_props)
    alerts = stack(topic, role="dr")
    alerts.assembly = keys.assembly = [keys, alerts]
    return topic, alerts


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        pytest.param(
            _weak_reference("au-production-dr-keys", "SystemArn"),
            C,
            id="ENC2-KeyOfDataClass-weak-reference-to-the-system-key",
        ),
        pytest.param(_weak_reference("au-production-dr-keys", "Chained"), C, id="output-of-an-output"),
        pytest.param({"Fn::ImportValue": "au-production-dr-keys:SystemArn"}, C, id="import-of-an-export"),
        pytest.param(_weak_reference("au-production-dr-keys", "LogsArn"), N, id="another-classs-key"),
        pytest.param(_weak_reference("au-production-dr-keys", "SystemArn", "ap-southeast-2"), N, id="other-region"),
        pytest.param(_weak_reference("au-production-dr-gone", "SystemArn"), N, id="stack-not-in-the-synth"),
        pytest.param(_weak_reference("au-production-dr-keys", "Missing"), N, id="no-such-output"),
        pytest.param("alias/aws/sns", N, id="aws-managed-alias"),
    ],
)
def test_enc2_key_of_data_class_follows_references_across_stacks(key: Any, expected: Any) -> None:
    topic, alerts = _world(KmsMasterKeyId=key)
    assert check(kms.key_of_data_class, topic, alerts) is expected


def test_enc2_key_of_data_class_in_one_stack_through_an_alias() -> None:
    key, other = _key("CustomerKey", "customer"), _key("LogsKey", "logs")
    alias = res("Alias", "AWS::KMS::Alias", {"TargetKeyId": {"Ref": "CustomerKey"}})
    db = res(
        "Db",
        "AWS::RDS::DBInstance",
        {"KmsKeyId": {"Ref": "Alias"}, "PerformanceInsightsKMSKeyId": {"Ref": "CustomerKey"}},
    )
    assert check(kms.key_of_data_class, db, stack(db, key, other, alias)) is C
    insights_on_logs = res(
        "Db",
        "AWS::RDS::DBInstance",
        {"KmsKeyId": {"Ref": "CustomerKey"}, "PerformanceInsightsKMSKeyId": {"Ref": "LogsKey"}},
    )
    assert check(kms.key_of_data_class, insights_on_logs, stack(insights_on_logs, key, other)) is N
    on_a_bucket = res("Db", "AWS::RDS::DBInstance", {"KmsKeyId": {"Ref": "Bucket"}})
    assert check(kms.key_of_data_class, on_a_bucket, stack(on_a_bucket, res("Bucket", "AWS::S3::Bucket"))) is N
    assert check(kms.key_of_data_class, res("Db", "AWS::RDS::DBInstance")) is NA


def test_enc2_a_buckets_key_is_the_key_of_its_data_classification_tag() -> None:
    encryption = {
        "ServerSideEncryptionConfiguration": [
            {
                "ServerSideEncryptionByDefault": {
                    "SSEAlgorithm": "aws:kms",
                    "KMSMasterKeyID": {"Fn::GetAtt": ["LogsKey", "Arn"]},
                }
            }
        ]
    }

    def bucket(data_class: str | None) -> Any:
        tags = [{"Key": "data-classification", "Value": data_class}] if data_class else []
        return res("Bucket", "AWS::S3::Bucket", {"BucketEncryption": encryption, "Tags": tags})

    for data_class, expected in (("logs", C), ("customer", N), (None, N)):
        assert (
            check(kms.key_of_data_class, bucket(data_class), stack(bucket(data_class), _key("LogsKey", "logs")))
            is expected
        )
    sse_s3 = res(
        "Bucket",
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            }
        },
    )
    assert check(kms.key_of_data_class, sse_s3) is NA

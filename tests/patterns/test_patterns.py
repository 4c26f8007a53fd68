"""Pattern tests on a bare `cdk.Stack()`: one construct, its own props, no deployment and no pack.

They pin what a pattern promises whatever the configuration (tests/unit/ checks the deployed stacks).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from config.policy import DATA_CLASSES
from patterns.iam import ManagedPolicyRole
from patterns.keys import DataClassKeyRing, KeyRingProps
from patterns.network import closed_security_group
from patterns.secure_bucket import SecureBucket, SecureBucketProps
from tests.patterns.bare import bare_stack
from tests.patterns.bare import tags as _tags


def test_key_ring_has_one_rotating_retained_key_per_data_class() -> None:
    stack = bare_stack()
    DataClassKeyRing(stack, "Keys", props=KeyRingProps(alias_prefix="unit"))
    template = Template.from_stack(stack)
    keys = template.find_resources("AWS::KMS::Key")
    assert sorted(_tags(k)["data-classification"] for k in keys.values()) == sorted(DATA_CLASSES)
    for key in keys.values():
        assert key["Properties"]["EnableKeyRotation"] is True
        assert (key["DeletionPolicy"], key["Properties"]["PendingWindowInDays"]) == ("Retain", 30)
    aliases = {a["Properties"]["AliasName"] for a in template.find_resources("AWS::KMS::Alias").values()}
    assert aliases == {f"alias/unit/{c}" for c in DATA_CLASSES}


def test_only_the_logs_key_admits_cloudwatch_logs_of_its_own_account_and_region() -> None:
    stack = bare_stack()
    DataClassKeyRing(stack, "Keys", props=KeyRingProps(alias_prefix="unit"))
    template = Template.from_stack(stack)
    admitting = [
        _tags(key)["data-classification"]
        for key in template.find_resources("AWS::KMS::Key").values()
        if "logs.eu-west-2.amazonaws.com" in str(key["Properties"]["KeyPolicy"])
    ]
    assert admitting == ["logs"]
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "AllowCloudWatchLogsInThisAccount",
                                "Condition": {
                                    "ArnLike": {
                                        "kms:EncryptionContext:aws:logs:arn": {
                                            "Fn::Join": [
                                                "",
                                                Match.array_with([":logs:eu-west-2:123456789012:log-group:*"]),
                                            ]
                                        }
                                    }
                                },
                            }
                        )
                    ]
                )
            }
        },
    )


def test_a_ring_of_some_classes_builds_only_those() -> None:
    stack = bare_stack()
    ring = DataClassKeyRing(stack, "Keys", props=KeyRingProps(alias_prefix="unit", data_classes=("codebase", "logs")))
    assert sorted(ring.keys) == ["codebase", "logs"]
    Template.from_stack(stack).resource_count_is("AWS::KMS::Key", 2)
    with pytest.raises(KeyError):
        _ = ring.system


def _bucket(stack: cdk.Stack, **changes: Any) -> SecureBucket:
    key = kms.Key(stack, "Key")
    logs = s3.Bucket(stack, "Logs")
    props = SecureBucketProps(
        encryption_key=key,
        access_log_bucket=logs,
        access_log_prefix="unit/",
        noncurrent_version_days=30,
        data_class="customer",
        no_replication_reason="a unit test's bucket",
    )
    return SecureBucket(stack, "Secure", props=SecureBucketProps(**{**props.__dict__, **changes}))


def test_secure_bucket_is_kms_encrypted_versioned_private_logged_retained_and_tagged() -> None:
    stack = bare_stack()
    _bucket(stack)
    template = Template.from_stack(stack)
    template.has_resource(
        "AWS::S3::Bucket",
        {
            "DeletionPolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            {
                                "BucketKeyEnabled": True,
                                "ServerSideEncryptionByDefault": {
                                    "SSEAlgorithm": "aws:kms",
                                    "KMSMasterKeyID": {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]},
                                },
                            }
                        ]
                    },
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "LoggingConfiguration": {"DestinationBucketName": Match.any_value(), "LogFilePrefix": "unit/"},
                    "Tags": Match.array_with([{"Key": "data-classification", "Value": "customer"}]),
                }
            ),
        },
    )
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


def test_secure_bucket_refuses_to_be_neither_replicated_nor_explained() -> None:
    with pytest.raises(ValueError, match="replicate the bucket or give no_replication_reason"):
        _bucket(bare_stack(), no_replication_reason=None)


def test_managed_policy_role_puts_every_grant_in_one_customer_managed_policy() -> None:
    stack = bare_stack()
    role = ManagedPolicyRole(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    bucket = s3.Bucket(stack, "Data")
    bucket.grant_read(role)
    kms.Key(stack, "Key").grant_decrypt(role)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::IAM::Policy", 0)
    (policy,) = template.find_resources("AWS::IAM::ManagedPolicy").values()
    actions = {a for s in policy["Properties"]["PolicyDocument"]["Statement"] for a in _as_list(s["Action"])}
    assert {"s3:GetObject*", "kms:Decrypt"} <= actions
    assert (
        policy["Properties"]["Roles"] == [{"Ref": Match.string_like_regexp("^Role")}]
        or len(policy["Properties"]["Roles"]) == 1
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _closed_group(*, egress_to: str | None = None) -> dict[str, Any]:
    stack = bare_stack()
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0, subnet_configuration=[])
    group = closed_security_group(stack, "Closed", vpc=vpc, description="unit")
    if egress_to is not None:
        group.add_egress_rule(ec2.Peer.ipv4(egress_to), ec2.Port.tcp(5432))
    (declared,) = Template.from_stack(stack).find_resources("AWS::EC2::SecurityGroup").values()
    return dict(declared["Properties"])


def test_closed_security_group_admits_and_sends_nothing_until_asked() -> None:
    closed = _closed_group()
    assert "SecurityGroupIngress" not in closed
    (egress,) = closed["SecurityGroupEgress"]
    assert (egress["CidrIp"], egress["IpProtocol"]) == ("255.255.255.255/32", "icmp")  # CDK's "no egress" marker
    opened = _closed_group(egress_to="10.0.0.0/16")
    assert [(e["CidrIp"], e["FromPort"]) for e in opened["SecurityGroupEgress"]] == [("10.0.0.0/16", 5432)]

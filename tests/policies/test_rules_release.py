"""Tests of policies/rules/release.py (OPS-7): compliant and non-compliant cases per rule."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from config import Release
from config.topology import DR, PRIMARY, FailoverTopology
from patterns.release_boot import boot_commands
from policies.rules import release
from policies.rules.model import Resource, StackView
from tests.policies.rulekit import NA, C, N, deployment, linked, res, stack

V2 = Release("2.0.0", "b" * 64)
T = FailoverTopology.of(deployment("au-production"))


def _boot(pin: Release | None) -> dict[str, Any]:
    script = "\n".join(
        boot_commands(app_port=8080, health_check_path="/health", release_bucket="b", region="r", release=pin)
    )
    return {"Fn::Base64": {"Fn::Join": ["", ["#!/bin/bash\n", script]]}}


def _web(pin: Release | None, *, version: object = None, role: str = PRIMARY, config: Release | None = V2) -> StackView:
    template = res("Lt", "AWS::EC2::LaunchTemplate", {"LaunchTemplateData": {"UserData": _boot(pin)}})
    spec = {"LaunchTemplateId": {"Ref": "Lt"}, "Version": version or {"Fn::GetAtt": ["Lt", "LatestVersionNumber"]}}
    group = res("Asg", "AWS::AutoScaling::AutoScalingGroup", {"LaunchTemplate": spec})
    return stack(template, group, role=role, deployment=deployment("au-production", release=config))


def _status(view: StackView, rule: Any = release.pinned) -> object:
    return rule.check(view.resources["Asg"], view).status


@pytest.mark.parametrize(
    ("pin", "version", "config", "expected"),
    [
        pytest.param(V2, None, V2, C, id="OPS7-PinnedRelease-config-release-digest-checked"),
        pytest.param(None, None, None, C, id="OPS7-PinnedRelease-first-boot-placeholder-before-any-release"),
        pytest.param(V2, "$Latest", V2, N, id="OPS7-PinnedRelease-latest-launch-template-version"),
        pytest.param(V2, "$Default", V2, N, id="OPS7-PinnedRelease-default-launch-template-version"),
        pytest.param(Release("1.0.0", "b" * 64), None, V2, N, id="OPS7-PinnedRelease-boots-another-version"),
        pytest.param(Release("2.0.0", "c" * 64), None, V2, N, id="OPS7-PinnedRelease-boots-another-digest"),
        pytest.param(None, None, V2, N, id="OPS7-PinnedRelease-placeholder-while-config-pins-a-release"),
        pytest.param(V2, None, None, N, id="OPS7-PinnedRelease-pin-config-does-not-know"),
    ],
)
def test_ops7_pinned_release(pin: Release | None, version: object, config: Release | None, expected: object) -> None:
    assert _status(_web(pin, version=version, config=config)) == expected


def test_ops7_pinned_release_needs_the_digest_check_and_a_launch_template() -> None:
    view = _web(V2)
    lt = view.resources["Lt"]
    text = lt.properties["LaunchTemplateData"]["UserData"]["Fn::Base64"]["Fn::Join"][1][1]
    unchecked = text.replace("sha256sum --check --strict -", "true")
    view.resources["Lt"] = Resource.from_template(
        "Lt", {"Type": lt.type, "Properties": {"LaunchTemplateData": {"UserData": {"Fn::Base64": unchecked}}}}
    )
    assert _status(view) == N
    bare = stack(res("Asg", "AWS::AutoScaling::AutoScalingGroup", {"LaunchConfigurationName": "x"}))
    assert _status(bare) == N


@pytest.mark.parametrize(
    ("primary_pin", "dr_pin", "expected"),
    [
        pytest.param(V2, V2, C, id="OPS7-SameReleaseBothStages-same-release"),
        pytest.param(None, None, C, id="OPS7-SameReleaseBothStages-both-placeholder"),
        pytest.param(V2, Release("1.0.0", "a" * 64), N, id="OPS7-SameReleaseBothStages-dr-runs-another-release"),
        pytest.param(V2, None, N, id="OPS7-SameReleaseBothStages-dr-still-placeholder"),
    ],
)
def test_ops7_same_release_both_stages(primary_pin: Release | None, dr_pin: Release | None, expected: object) -> None:
    primary, dr = _web(primary_pin), _web(dr_pin, role=DR)
    linked(primary, dr)
    assert _status(primary, release.same_release) == expected
    assert _status(dr, release.same_release) == NA


def test_ops7_same_release_fails_without_a_dr_web_tier_and_is_na_without_standby() -> None:
    primary = _web(V2)
    linked(primary, stack(res("Vpc", "AWS::EC2::VPC"), role=DR))
    assert _status(primary, release.same_release) == N
    no_standby = deployment("au-development")
    alone = _web(V2)
    alone.deployment = dataclasses.replace(no_standby, release=V2)
    assert _status(alone, release.same_release) == NA


def _bucket(role: str = PRIMARY, **props: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "BucketName": T.release_bucket(role),
        "Tags": [{"Key": "data-classification", "Value": "codebase"}],
        "VersioningConfiguration": {"Status": "Enabled"},
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {
                    "ServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": {
                            "Fn::GetStackOutput": {"OutputName": "PublishOutputFnGetAttKeyRingCodebaseKey12B4Arn"}
                        },
                    }
                }
            ]
        },
    }
    base.update(props)
    return {k: v for k, v in base.items() if v is not None}


def _policy(*, drop: str = "") -> Resource:
    statements: list[dict[str, Any]] = [
        {"Sid": "Tls", "Effect": "Deny", "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {
            "Sid": "Overwrite",
            "Effect": "Deny",
            "Action": "s3:PutObject",
            "Condition": {"Null": {"s3:if-none-match": "true"}, "Bool": {"s3:ObjectCreationOperation": "true"}},
        },
        {"Sid": "Delete", "Effect": "Deny", "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"]},
    ]
    document = {"Statement": [s for s in statements if s["Sid"] != drop]}
    return res("Policy", "AWS::S3::BucketPolicy", {"Bucket": {"Ref": "Releases"}, "PolicyDocument": document})


def _release_world(bucket: dict[str, Any], *, key_class: str = "codebase", drop: str = "") -> StackView:
    key = res("KeyRingCodebaseKey12B4", "AWS::KMS::Key", {"Tags": [{"Key": "data-classification", "Value": key_class}]})
    return stack(res("Releases", "AWS::S3::Bucket", bucket), _policy(drop=drop), key)


@pytest.mark.parametrize(
    ("bucket", "key_class", "drop", "expected"),
    [
        pytest.param(_bucket(), "codebase", "", C, id="OPS7-ArtifactEncryption-codebase-key-write-once"),
        pytest.param(_bucket(), "customer", "", N, id="OPS7-ArtifactEncryption-another-class-of-key"),
        pytest.param(
            _bucket(
                BucketEncryption={
                    "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                }
            ),
            "codebase",
            "",
            N,
            id="OPS7-ArtifactEncryption-sse-s3",
        ),
        pytest.param(
            _bucket(VersioningConfiguration=None), "codebase", "", N, id="OPS7-ArtifactEncryption-unversioned"
        ),
        pytest.param(_bucket(), "codebase", "Overwrite", N, id="OPS7-ArtifactEncryption-overwrites-allowed"),
        pytest.param(_bucket(), "codebase", "Delete", N, id="OPS7-ArtifactEncryption-deletes-allowed"),
        pytest.param(_bucket(), "codebase", "Tls", N, id="OPS7-ArtifactEncryption-plain-http-allowed"),
    ],
)
def test_ops7_artifact_encryption(bucket: dict[str, Any], key_class: str, drop: str, expected: object) -> None:
    view = _release_world(bucket, key_class=key_class, drop=drop)
    assert release.artifact_encryption.check(view.resources["Releases"], view).status == expected


def test_ops7_rules_ignore_other_buckets() -> None:
    view = stack(res("Releases", "AWS::S3::Bucket", {"Tags": [{"Key": "data-classification", "Value": "customer"}]}))
    for rule in (release.artifact_encryption, release.artifact_residency):
        assert rule.check(view.resources["Releases"], view).status == NA


@pytest.mark.parametrize(
    ("role", "bucket", "region", "expected"),
    [
        pytest.param(PRIMARY, _bucket(), None, C, id="OPS7-ArtifactResidency-primary-bucket-in-primary-region"),
        pytest.param(DR, _bucket(DR), None, C, id="OPS7-ArtifactResidency-dr-bucket-in-dr-region"),
        pytest.param(PRIMARY, _bucket(), "us-east-1", N, id="OPS7-ArtifactResidency-outside-the-jurisdiction"),
        pytest.param(DR, _bucket(DR), "ap-southeast-2", N, id="OPS7-ArtifactResidency-dr-bucket-in-the-primary-region"),
        pytest.param(PRIMARY, _bucket(DR), None, N, id="OPS7-ArtifactResidency-another-regions-bucket-name"),
        pytest.param(
            PRIMARY,
            _bucket(ReplicationConfiguration={"Rules": [{"Status": "Enabled", "Destination": {"Bucket": "x"}}]}),
            None,
            N,
            id="OPS7-ArtifactResidency-replicates",
        ),
    ],
)
def test_ops7_artifact_residency(role: str, bucket: dict[str, Any], region: str | None, expected: object) -> None:
    extra = {"region": region} if region else {}
    view = stack(res("Releases", "AWS::S3::Bucket", bucket), role=role, **extra)
    assert release.artifact_residency.check(view.resources["Releases"], view).status == expected

"""The release store of each region (OPS-7, ENC-2, HOST-2, ACC-2) and the web tier's boot script."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from config import Release
from config.topology import FailoverTopology
from patterns.release_boot import boot_commands, pin_release, pinned_release
from tests.conftest import Stages, TemplateOf, au_production_stack

ROLES = (("primary", "Web"), ("dr", "StandbyWeb"))


def _release_bucket(template: Template) -> tuple[str, Mapping[str, Any]]:
    found = template.find_resources(
        "AWS::S3::Bucket",
        {"Properties": {"Tags": Match.array_with([{"Key": "data-classification", "Value": "codebase"}])}},
    )
    assert len(found) == 1
    return next(iter(found.items()))


@pytest.mark.parametrize(("role", "stack_id"), ROLES)
def test_release_bucket_is_the_regions_own_versioned_kms_bucket(
    au_production: Stages, template_of: TemplateOf, role: str, stack_id: str
) -> None:
    template = template_of(au_production, role, stack_id)
    topology = FailoverTopology.of(au_production[role].deployment)
    _, bucket = _release_bucket(template)
    props = bucket["Properties"]
    assert props["BucketName"] == topology.release_bucket(role)
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["DeletionPolicy"] in ("Retain", "RetainExceptOnCreate")
    default = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert default["SSEAlgorithm"] == "aws:kms"
    assert "CodebaseKey" in json.dumps(default["KMSMasterKeyID"])
    assert props["LoggingConfiguration"]["LogFilePrefix"] == "releases/"
    assert "ReplicationConfiguration" not in props


def test_release_bucket_is_write_once_and_only_the_release_role_marks_releases(web_template: Template) -> None:
    logical_id, _ = _release_bucket(web_template)
    policy = web_template.find_resources("AWS::S3::BucketPolicy", {"Properties": {"Bucket": {"Ref": logical_id}}})
    statements = {s.get("Sid"): s for s in next(iter(policy.values()))["Properties"]["PolicyDocument"]["Statement"]}
    overwrite = statements["DenyOverwritingARelease"]
    assert overwrite["Effect"] == "Deny" and overwrite["Action"] == "s3:PutObject"
    assert overwrite["Condition"] == {
        "Null": {"s3:if-none-match": "true"},
        "Bool": {"s3:ObjectCreationOperation": "true"},
    }
    deletes = statements["DenyDeletingReleases"]
    assert deletes["Effect"] == "Deny" and "Condition" not in deletes
    assert {"s3:DeleteObject", "s3:DeleteObjectVersion"} <= set(deletes["Action"])
    marks = statements["OnlyTheReleaseRoleMarksReleases"]
    assert "s3:PutObjectTagging" in marks["Action"] and "ArnNotEquals" in marks["Condition"]


web_template = au_production_stack("primary", "Web")


def _role_actions(template: Template, role_name: str) -> set[str]:
    roles = template.find_resources("AWS::IAM::Role", {"Properties": {"RoleName": role_name}})
    assert len(roles) == 1
    role_id = next(iter(roles))
    actions: set[str] = set()
    for policy in template.find_resources("AWS::IAM::ManagedPolicy").values():
        if {"Ref": role_id} in policy["Properties"].get("Roles", []):
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                found = statement["Action"]
                actions |= set(found if isinstance(found, list) else [found])
    return actions


def test_release_role_can_ship_a_release_and_nothing_else(web_template: Template) -> None:
    """ACC-2 / OPS-7: no shell, no SSM command or session, no data; a boundary of the same actions."""
    actions = _role_actions(web_template, "au-production-primary-release")
    assert actions == {
        "s3:PutObject",
        "s3:GetObject",
        "s3:GetObjectTagging",
        "s3:PutObjectTagging",
        "kms:GenerateDataKey",
        "kms:Decrypt",
        "ssm:GetParameter",
        "ssm:PutParameter",
        "ec2:CreateLaunchTemplateVersion",
        "iam:PassRole",
        "autoscaling:StartInstanceRefresh",
        "autoscaling:CancelInstanceRefresh",
        "autoscaling:RollbackInstanceRefresh",
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeInstanceRefreshes",
        "ec2:DescribeLaunchTemplateVersions",
    }
    web_template.has_resource_properties(
        "AWS::IAM::Role", {"RoleName": "au-production-primary-release", "PermissionsBoundary": Match.any_value()}
    )


def test_web_instances_read_released_artifacts_only(web_template: Template) -> None:
    web_template.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "ReadReleasedArtifactsOnly",
                                "Action": "s3:GetObject",
                                "Condition": {"StringEquals": {"s3:ExistingObjectTag/release-state": "released"}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_release_record_parameter_per_region(au_production: Stages, template_of: TemplateOf) -> None:
    topology = FailoverTopology.of(au_production["primary"].deployment)
    for role, stack_id in ROLES:
        template_of(au_production, role, stack_id).has_resource_properties(
            "AWS::SSM::Parameter", {"Name": topology.release_parameter(role)}
        )


def _script(release: Release | None) -> str:
    return "\n".join(
        boot_commands(app_port=8080, health_check_path="/health", release_bucket="b", region="r", release=release)
    )


def test_boot_script_placeholder_until_the_first_release_then_digest_checked() -> None:
    placeholder = _script(None)
    assert pinned_release(placeholder) == ("", "")
    assert "http.server 8080" in placeholder
    v2 = Release("2.0.0", "d" * 64)
    pinned = pin_release(placeholder, v2)
    assert pinned == _script(v2)
    assert pinned_release(pinned) == ("2.0.0", "d" * 64)
    check = pinned.index("sha256sum --check --strict")
    assert check < pinned.index("tar -xzf") < pinned.index("systemctl enable --now app.service")
    with pytest.raises(ValueError, match="release pin"):
        pin_release("#!/bin/bash\necho hi", v2)


def test_web_tier_boots_the_configured_release(web_template: Template) -> None:
    """The shipped configuration pins no release yet: the launch template boots the placeholder."""
    lt = next(iter(web_template.find_resources("AWS::EC2::LaunchTemplate").values()))
    text = json.dumps(lt["Properties"]["LaunchTemplateData"]["UserData"])
    assert "RELEASE_VERSION=''" in text and "sha256sum --check" in text

"""tooling/pipeline_bootstrap.py: the tooling account's policies and the trust bootstrap (issue 21)."""

from __future__ import annotations

import dataclasses
import json

import boto3
import pytest
from moto import mock_aws

from config import PlatformConfig
from tests.tooling.iam_eval import Request, evaluate
from tooling import pipeline_bootstrap as pb


def test_the_boundary_denies_every_region_outside_the_jurisdiction(platform_config: PlatformConfig) -> None:
    au = platform_config.pipeline("au")
    document = pb.pipeline_boundary_document(au)
    (region_deny,) = [s for s in document["Statement"] if s["Sid"] == "DenyOutsideTheJurisdiction"]
    assert region_deny["Condition"] == {
        "StringNotEquals": {"aws:RequestedRegion": ["ap-southeast-2", "ap-southeast-4"]}
    }
    assert "iam:*" in region_deny["NotAction"]


@pytest.mark.parametrize(
    ("action", "region", "expected"),
    [
        ("s3:PutObject", "ap-southeast-2", "Allow"),
        ("codebuild:StartBuild", "ap-southeast-4", "Allow"),
        ("s3:PutObject", "eu-west-2", "Deny"),
        ("kms:Decrypt", "us-east-1", "Deny"),
        ("sts:AssumeRole", "us-east-1", "Allow"),  # a global service answers in us-east-1
    ],
)
def test_a_pipeline_role_acts_only_inside_the_jurisdiction(
    platform_config: PlatformConfig, action: str, region: str, expected: str
) -> None:
    document = pb.pipeline_boundary_document(platform_config.pipeline("au"))
    assert evaluate(document, Request(action, "*", {"aws:RequestedRegion": region})) == expected


def test_roles_may_only_be_created_with_the_pipeline_boundary(platform_config: PlatformConfig) -> None:
    au = platform_config.pipeline("au")
    (statement,) = [
        s for s in pb.pipeline_boundary_document(au)["Statement"] if s["Sid"] == "DenyRolesWithAnotherBoundary"
    ]
    assert statement["Condition"]["StringNotEquals"]["iam:PermissionsBoundary"].endswith(":policy/au-pipeline-boundary")


def test_target_accounts_trust_the_tooling_account_for_deploy_and_lookup(platform_config: PlatformConfig) -> None:
    au = platform_config.pipeline("au")
    command = pb.target_bootstrap_command("cdk", "cdk.out", platform_config.get("au-production"), au)
    assert command[command.index("--trust") + 1] == au.account
    assert command[command.index("--trust-for-lookup") + 1] == au.account
    assert "--custom-permissions-boundary" in command
    with pytest.raises(ValueError, match="uk-production is not of jurisdiction au"):
        pb.target_bootstrap_command("cdk", "cdk.out", platform_config.get("uk-production"), au)


def test_the_tooling_bootstrap_covers_every_region_of_an_artifact_store(platform_config: PlatformConfig) -> None:
    au = platform_config.pipeline("au")
    command = pb.tooling_bootstrap_command("cdk", "cdk.out", au, platform_config.deployments_of("au"))
    assert command[-2:] == ["aws://111111111110/ap-southeast-2", "aws://111111111110/ap-southeast-4"]


@mock_aws
def test_policies_are_created_once_and_updated_in_place(platform_config: PlatformConfig) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    au = dataclasses.replace(platform_config.pipeline("au"), account="123456789012")  # moto's account
    first = pb.ensure_pipeline_policies(iam, au)
    assert pb.ensure_pipeline_policies(iam, au) == first
    names = {p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]}
    assert names == {"au-pipeline-boundary", "au-pipeline-execution"}
    version = iam.get_policy(PolicyArn=first[0])["Policy"]["DefaultVersionId"]
    stored = iam.get_policy_version(PolicyArn=first[0], VersionId=version)["PolicyVersion"]["Document"]
    document = json.loads(stored) if isinstance(stored, str) else stored
    assert document == pb.pipeline_boundary_document(au)


def test_print_shows_documents_and_commands_and_calls_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert pb.main(["--jurisdiction", "au", "--print"]) == 0
    out = capsys.readouterr().out
    assert "au-pipeline-boundary" in out and "--trust 111111111110" in out

"""Issue 9 item 6 / BAK-8: retained on update and delete, cleaned up after a failed first create."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_backup as backup
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from patterns.retention import RetainExceptOnCreate
from tests.conftest import Stages


def test_retained_resources_are_retained_except_on_a_failed_first_create(au_production: Stages) -> None:
    seen: dict[str, set[str]] = {}
    for stage in au_production.values():
        for stack in stage.stacks:
            for resource in Template.from_stack(stack).to_json()["Resources"].values():
                policy = resource.get("DeletionPolicy")
                if policy is not None:
                    seen.setdefault(policy, set()).add(resource["Type"])
    assert seen["Retain"] == {"AWS::Backup::BackupVault"}
    assert {"AWS::S3::Bucket", "AWS::Logs::LogGroup", "AWS::SecretsManager::Secret"} <= seen["RetainExceptOnCreate"]
    assert "AWS::Route53::HostedZone" in seen["RetainExceptOnCreate"]


def test_aspect_changes_retain_only() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    kept = s3.CfnBucket(stack, "Kept")
    kept.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    snapshot = s3.CfnBucket(stack, "Deleted")
    snapshot.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
    vault = backup.CfnBackupVault(stack, "Vault", backup_vault_name="v")
    vault.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    cdk.Aspects.of(stack).add(RetainExceptOnCreate())
    resources = Template.from_stack(stack).to_json()["Resources"]
    assert resources["Kept"]["DeletionPolicy"] == "RetainExceptOnCreate"
    assert resources["Kept"]["UpdateReplacePolicy"] == "Retain"
    assert resources["Deleted"]["DeletionPolicy"] == "Delete"
    assert resources["Vault"]["DeletionPolicy"] == "Retain"

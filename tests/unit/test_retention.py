"""Issue 9 item 6 / BAK-8: retained on update and delete, cleaned up after a failed first create."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_backup as backup
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from patterns.retention import RETAINED_TYPES, retain_except_on_create
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


def test_retained_types_get_retain_except_on_create_whatever_their_construct_chose() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    kept = s3.CfnBucket(stack, "Kept")
    kept.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    destroyed = s3.CfnBucket(stack, "Destroyed")
    destroyed.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
    vault = backup.CfnBackupVault(stack, "Vault", backup_vault_name="v")
    vault.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    group = ec2.CfnSecurityGroup(stack, "Group", group_description="stateless")
    group.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
    retain_except_on_create(stack)
    resources = Template.from_stack(stack).to_json()["Resources"]
    for bucket in ("Kept", "Destroyed"):  # a stateful type never loses data (BAK-8)
        assert resources[bucket]["DeletionPolicy"] == "RetainExceptOnCreate"
        assert resources[bucket]["UpdateReplacePolicy"] == "Retain"
    assert resources["Vault"]["DeletionPolicy"] == "Retain"
    assert resources["Group"]["DeletionPolicy"] == "Delete"


def test_backup_vaults_are_not_among_the_retained_types() -> None:
    # A vault's policy denies DeleteBackupVault: a rolled-back create could not delete it.
    assert "AWS::Backup::BackupVault" not in RETAINED_TYPES

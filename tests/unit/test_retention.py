"""BAK-8 and issue 17 item 3: retained on update and delete; a failed first create's rollback completes.

CloudFormation's rollback of a failed first create deletes what the create made, except what has
`DeletionPolicy: Retain` (skipped). A delete that the service or the execution role's boundary
refuses turns the rollback into ROLLBACK_FAILED, so every such resource must be `Retain`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_backup as backup
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from config import load_config
from patterns.retention import IN_USE_TYPES, KEPT_ON_ROLLBACK, RETAINED_TYPES, keep_with, retain_except_on_create
from tests.conftest import Stages
from tooling.bootstrap_policy import deny_statements
from tooling.preflight import GENERATED_NAME_KEPT_TYPES, NAME_PROPERTIES, TAGGED_KEPT_TYPES, named_resources

# The API call CloudFormation's delete handler of each type makes (the resource providers'
# `delete` handler permissions, https://github.com/aws-cloudformation, and the services' API references).
DELETE_ACTION: dict[str, str] = {
    "AWS::KMS::Key": "kms:ScheduleKeyDeletion",
    "AWS::CloudTrail::Trail": "cloudtrail:DeleteTrail",
    "AWS::Backup::BackupVault": "backup:DeleteBackupVault",
    "AWS::Backup::BackupPlan": "backup:DeleteBackupPlan",
    "AWS::Config::ConfigurationRecorder": "config:DeleteConfigurationRecorder",
    "AWS::Config::DeliveryChannel": "config:DeleteDeliveryChannel",
    "AWS::IAM::ManagedPolicy": "iam:DeletePolicy",
    "AWS::IAM::Role": "iam:DeleteRole",
    "AWS::S3::Bucket": "s3:DeleteBucket",
    "AWS::Logs::LogGroup": "logs:DeleteLogGroup",
    "AWS::SecretsManager::Secret": "secretsmanager:DeleteSecret",
    "AWS::RDS::DBInstance": "rds:DeleteDBInstance",
}
IAM_ARN_KINDS = {"AWS::IAM::ManagedPolicy": ("policy", "ManagedPolicyName"), "AWS::IAM::Role": ("role", "RoleName")}


def _templates(stages: Stages) -> Iterator[tuple[str, dict[str, Any]]]:
    for stage in stages.values():
        for stack in stage.stacks:
            yield stack.stack_name, dict(Template.from_stack(stack).to_json())


def _refs(value: Any) -> Iterator[str]:
    """Logical ids that `value` references with Ref or Fn::GetAtt."""
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            yield value["Ref"]
        if "Fn::GetAtt" in value:
            yield value["Fn::GetAtt"][0]
        for inner in value.values():
            yield from _refs(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _refs(inner)


def _protected(resource: dict[str, Any]) -> bool:
    props = resource.get("Properties", {})
    if props.get("DeletionProtection") in (True, "true", "ACTIVE") or props.get("DeletionProtectionEnabled") is True:
        return True
    return any(
        a.get("Key") == "deletion_protection.enabled" and str(a.get("Value")).lower() == "true"
        for a in props.get("LoadBalancerAttributes", [])
    )


def _denied_delete(resource: dict[str, Any], account: str, statements: list[dict[str, Any]]) -> str | None:
    """The boundary statement that denies this resource's delete, if any."""
    action = DELETE_ACTION.get(resource["Type"])
    if action is None:
        return None
    arn = None
    if resource["Type"] in IAM_ARN_KINDS:
        kind, name_property = IAM_ARN_KINDS[resource["Type"]]
        name = resource.get("Properties", {}).get(name_property)
        arn = f"arn:aws:iam::{account}:{kind}/{name}" if isinstance(name, str) else None
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if not any(fnmatch.fnmatch(action, pattern) for pattern in actions) or "Condition" in statement:
            continue
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if "*" in targets or (arn is not None and any(fnmatch.fnmatch(arn, t) for t in targets)):
            return str(statement.get("Sid", action))
    return None


def test_a_failed_first_create_never_calls_a_refused_delete(au_production: Stages) -> None:
    deployment = load_config().get("au-production")
    statements = deny_statements(deployment)
    refused: list[str] = []
    for stack_name, template in _templates(au_production):
        resources = template["Resources"]
        for logical_id, resource in resources.items():
            kept = resource.get("DeletionPolicy") == "Retain"
            why = (
                "deletion protection"
                if _protected(resource)
                else _denied_delete(resource, deployment.account, statements)
            )
            if why and not kept:
                refused.append(f"{stack_name}/{logical_id} ({resource['Type']}): {why}")
            if kept and resource["Type"] in KEPT_ON_ROLLBACK:
                for used in set(_refs(resource.get("Properties", {}))):
                    target = resources.get(used)
                    if target and target["Type"] in IN_USE_TYPES and target.get("DeletionPolicy") != "Retain":
                        refused.append(f"{stack_name}/{used} ({target['Type']}): in use by kept {logical_id}")
    assert refused == []


def test_the_kept_and_retained_types_are_what_the_templates_carry(au_production: Stages) -> None:
    seen: dict[str, set[str]] = {}
    for _, template in _templates(au_production):
        for resource in template["Resources"].values():
            policy = resource.get("DeletionPolicy")
            if policy is not None:
                seen.setdefault(policy, set()).add(resource["Type"])
    assert seen["RetainExceptOnCreate"] <= set(RETAINED_TYPES)
    assert {"AWS::Logs::LogGroup", "AWS::SecretsManager::Secret", "AWS::Route53::HostedZone"} <= seen[
        "RetainExceptOnCreate"
    ]
    # Every kept type the stacks declare is kept, plus what kept resources use and the team boundary.
    assert seen["Retain"] == {
        *KEPT_ON_ROLLBACK,
        *IN_USE_TYPES,
        "AWS::IAM::ManagedPolicy",
    }
    assert "AWS::RDS::DBInstance" not in seen.get("Snapshot", set())  # deletion protection refuses the delete


def test_kept_types_get_retain_and_retained_types_retain_except_on_create_whatever_their_construct_chose() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    destroyed = s3.CfnBucket(stack, "Destroyed")
    destroyed.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
    vault = backup.CfnBackupVault(stack, "Vault", backup_vault_name="v")
    vault.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
    logs_group = cdk.CfnResource(stack, "Logs", type="AWS::Logs::LogGroup")
    logs_group.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    group = ec2.CfnSecurityGroup(stack, "Group", group_description="stateless")
    group.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
    retain_except_on_create(stack)
    resources = Template.from_stack(stack).to_json()["Resources"]
    for kept in ("Destroyed", "Vault"):
        assert resources[kept]["DeletionPolicy"] == "Retain"
        assert resources[kept]["UpdateReplacePolicy"] == "Retain"
    assert resources["Logs"]["DeletionPolicy"] == "RetainExceptOnCreate"
    assert resources["Group"]["DeletionPolicy"] == "Delete"


def test_keep_with_retains_what_is_in_use_and_refuses_a_construct_without_it() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0)
    group = ec2.SecurityGroup(stack, "Group", vpc=vpc)
    keep_with(group)
    assert (
        Template.from_stack(stack).to_json()["Resources"][stack.get_logical_id(group.node.default_child)][  # type: ignore[arg-type]
            "DeletionPolicy"
        ]
        == "Retain"
    )
    with pytest.raises(AssertionError, match="holds no"):
        keep_with(s3.Bucket(stack, "Bucket"))


def test_every_kept_type_names_why_a_rollback_could_not_delete_it() -> None:
    assert all(reason for reason in KEPT_ON_ROLLBACK.values())
    assert not set(KEPT_ON_ROLLBACK) & set(RETAINED_TYPES)


def test_the_preflight_lists_a_leftover_of_every_type_a_rollback_keeps(au_production: Stages) -> None:
    listed = {*NAME_PROPERTIES, *TAGGED_KEPT_TYPES, *GENERATED_NAME_KEPT_TYPES}
    listed.add("AWS::Route53::HostedZone")  # check_delegation fails on two zones of the domain
    kept = {
        resource["Type"]
        for _, template in _templates(au_production)
        for resource in template["Resources"].values()
        if resource.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate")
    }
    assert kept - listed == set()
    assembly = Path(au_production["primary"].outdir).parent
    names = {(r.resource_type, r.name) for r in named_resources(assembly, load_config().get("au-production"))}
    assert {
        ("AWS::RDS::DBInstance", "au-production-primary-postgres"),
        ("AWS::RDS::DBInstance", "au-production-dr-postgres"),
        ("AWS::CloudTrail::Trail", "au-production-audit"),
        ("AWS::IAM::ManagedPolicy", "au-production-team-boundary"),
        ("AWS::Cognito::UserPool", "au-production-users"),
    } <= names

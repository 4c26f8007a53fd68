"""Retain stateful resources on update and delete, and keep a failed first create's rollback clean.

Two policies, chosen per resource type by what CloudFormation's rollback of a failed first
create would do with it (issue 17 item 3):

* `RetainExceptOnCreate` (CDK `RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE`) retains on every update
  and on stack deletion, like `Retain` (BAK-8), and deletes what a failed first create made. Only
  for types whose delete then always succeeds: log groups (deleted with their events), secrets,
  and the hosted zone (its records are deleted before it).
* `Retain` for every type whose delete the rollback could not complete: the execution role's
  boundary denies it, deletion protection refuses it, or it is not empty yet (`KEPT_ON_ROLLBACK`
  names the reason per type). A delete that fails turns the rollback into `ROLLBACK_FAILED`;
  `Retain` makes CloudFormation skip the delete (`DELETE_SKIPPED`), so the rollback completes and
  the preflight (`tooling/preflight/orphans.py`) lists what it left with the command to remove or adopt it.
  What such a resource uses and cannot be deleted while in use (its security groups, DB subnet
  and parameter groups) is kept with it (`keep_with`).

`DeletionPolicy`: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html
"""

from __future__ import annotations

from typing import Final

import aws_cdk as cdk
from constructs import IConstruct

# Deleted by the rollback of a failed first create, retained otherwise (BAK-8).
RETAINED_TYPES: Final = (
    "AWS::Logs::LogGroup",
    "AWS::SecretsManager::Secret",
    "AWS::Route53::HostedZone",
)
# Never deleted by CloudFormation, and why a rollback could not delete them.
KEPT_ON_ROLLBACK: Final[dict[str, str]] = {
    "AWS::S3::Bucket": (
        "not empty at rollback: the load balancer writes a test object when access logging is enabled, "
        "CloudTrail, S3 access logs and flow logs deliver within minutes; DeleteBucket refuses a non-empty bucket"
    ),
    "AWS::KMS::Key": "the boundary's DenyKeyDeletion denies kms:ScheduleKeyDeletion",
    "AWS::CloudTrail::Trail": "the boundary's DenyAuditStop denies cloudtrail:DeleteTrail",
    "AWS::Backup::BackupVault": "the boundary's DenyBackupDeletion and the vault policy deny DeleteBackupVault (ACC-4)",
    "AWS::RDS::DBInstance": "DeletionProtection (BAK-8) refuses DeleteDBInstance",
    "AWS::Cognito::UserPool": "DeletionProtection ACTIVE refuses DeleteUserPool",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "deletion_protection.enabled refuses DeleteLoadBalancer",
}
# Types the services refuse to delete while a kept resource still uses them.
IN_USE_TYPES: Final = ("AWS::EC2::SecurityGroup", "AWS::RDS::DBSubnetGroup", "AWS::RDS::DBParameterGroup")


def retain_except_on_create(scope: IConstruct) -> None:
    """`RetainExceptOnCreate` on `RETAINED_TYPES`, `Retain` on `KEPT_ON_ROLLBACK`, under `scope`.

    CDK's own `RemovalPolicies` aspect runs inside the jsii runtime: a Python aspect would be
    called back once per construct of the stack (thousands per deployment) on every synth.
    """
    policies = cdk.RemovalPolicies.of(scope)
    policies.retain_on_update_or_delete(apply_to_resource_types=list(RETAINED_TYPES))
    policies.retain(apply_to_resource_types=list(KEPT_ON_ROLLBACK))


def keep_with(*constructs: IConstruct) -> None:
    """`Retain` on what a kept resource uses: every security group, DB subnet and parameter group
    under `constructs`.

    The rollback skips the kept resource, which still uses them, so their deletes would fail
    (DependencyViolation, InvalidDBSubnetGroupStateFault, InvalidDBParameterGroupState)."""
    for construct in constructs:
        found = [
            child
            for child in construct.node.find_all()
            if isinstance(child, cdk.CfnResource) and child.cfn_resource_type in IN_USE_TYPES
        ]
        assert found, f"{construct.node.path} holds no {' or '.join(IN_USE_TYPES)}"
        for resource in found:
            resource.apply_removal_policy(cdk.RemovalPolicy.RETAIN)

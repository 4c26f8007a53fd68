"""The base every platform stack shares: explicit env, tags, description, names."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from config import Deployment
from config.names import DeploymentNames
from patterns.retention import retain_except_on_create


class PlatformStack(cdk.Stack):
    """A stack of one deployment in one region.

    `role` is "primary" or "dr". Stack names are deterministic
    (`<jurisdiction>-<environment>-<role>-<name>`) so that runbooks and the other
    region can find resources without a deploy-time lookup. Production stacks have
    termination protection (BAK-8).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        deployment: Deployment,
        role: str,
        summary: str,
    ) -> None:
        names = DeploymentNames.of(deployment)
        region = names.region(role)
        stack_tags = {**deployment.tags, "deployment-role": role}
        super().__init__(
            scope,
            id,
            env=cdk.Environment(account=deployment.account, region=region),
            stack_name=names.stack_name(role, id),
            description=f"{deployment.name} {role} ({region}): {summary}",
            termination_protection=deployment.is_production,
            tags=stack_tags,
        )
        self.deployment = deployment
        self.role = role
        self.names = names
        # Stack tags (explicitStackTags) and the same tags on every taggable resource in
        # the template, so auditors read them in the synthesized JSON too.
        for key, value in stack_tags.items():
            cdk.Tags.of(self).add(key, value)
        # A failed first create can be retried: named retained resources clean up (issue 9, BAK-8).
        retain_except_on_create(self)
        # ACC-1: every role of the stack, CDK's own custom resource provider and singleton roles too
        # (the aspect sets PermissionsBoundary on every AWS::IAM::Role, L1 or raw CfnResource), is
        # capped by the workload boundary, which the execution policy requires (tooling/bootstrap_policy.py).
        # The team roles apply their own boundary nearer to them, which wins (patterns/team_roles.py).
        iam.PermissionsBoundary.of(self).apply(
            iam.ManagedPolicy.from_managed_policy_name(self, "WorkloadBoundary", deployment.workload_boundary_name)
        )

    @property
    def name_prefix(self) -> str:
        """`au-production-primary`: the prefix for physical names in this region."""
        return self.names.prefix(self.role)


def vpc_cidr(deployment: Deployment, role: str) -> str:
    """A distinct /16 per deployment and region, so any two VPCs can be peered later.

    The jurisdiction's `cidr_index` (config, unique per jurisdiction, 0..CIDR_INDEX_MAX) picks
    a block of 32 /16s; the environment and the region pick one /16 inside it."""
    jurisdiction_index = deployment.cidr_index
    environment_index = ("production", "staging", "development").index(deployment.environment.value)
    second_octet = 16 + jurisdiction_index * 32 + environment_index * 8 + (0 if role == "primary" else 1)
    return f"10.{second_octet}.0.0/16"

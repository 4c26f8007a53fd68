"""ACC-1 (issue 18 item 1): every role a deploy creates is capped by a boundary no deploy can change.

The whole app's templates are checked in tests/unit/test_synth.py; here, on the shared in-process synths,
the roles CDK itself adds (custom resource providers, emitted as raw `CfnResource`s) and the team roles.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Match, Template

from tests.conftest import Stages, TemplateOf

UNBOUNDED_ROTATION_ROLES = "arn:aws:iam::111111111111:role/au-production-primary-data-*SecretsManager*"


def _roles(stages: Stages) -> list[tuple[str, iam.CfnRole | cdk.CfnResource]]:
    """Every construct of the stages that synthesizes an AWS::IAM::Role, with its stack's name."""
    found = []
    for stage in stages.values():
        for stack in stage.stacks:
            for node in stack.node.find_all():
                if isinstance(node, cdk.CfnResource) and node.cfn_resource_type == "AWS::IAM::Role":
                    found.append((stack.stack_name, node))
    return found


def test_cdk_provider_roles_carry_the_workload_boundary(au_production: Stages, au_development: Stages) -> None:
    """The restrict-default-security-group provider role is a raw CfnResource (no iam.CfnRole), and so
    is every CustomResourceProvider's role: the aspect still sets its PermissionsBoundary."""
    for stages in (au_production, au_development):
        _assert_provider_roles_bounded(stages)


def _assert_provider_roles_bounded(stages: Stages) -> None:
    deployment = stages["primary"].deployment
    raw = [(name, node) for name, node in _roles(stages) if not isinstance(node, iam.CfnRole)]
    assert raw, "no CDK provider role found: the test would prove nothing"
    workload = f"arn:aws:iam::{deployment.account}:policy/{deployment.workload_boundary_name}"
    templates: dict[str, dict[str, object]] = {}
    for stack_name, node in raw:
        stack = cdk.Stack.of(node)
        if stack_name not in templates:
            templates[stack_name] = Template.from_stack(stack).to_json()["Resources"]
        role = templates[stack_name][stack.resolve(node.logical_id)]
        assert role["Properties"]["PermissionsBoundary"] == workload, stack_name  # type: ignore[index]


def test_team_roles_keep_the_team_boundary(au_production: Stages, template_of: TemplateOf) -> None:
    access = template_of(au_production, "primary", "Access")
    (boundary_id,) = access.find_resources(
        "AWS::IAM::ManagedPolicy", {"Properties": {"ManagedPolicyName": "au-production-team-boundary"}}
    )
    roles = access.find_resources("AWS::IAM::Role")
    assert len(roles) == 5
    for logical_id, role in roles.items():
        assert role["Properties"]["PermissionsBoundary"] == {"Ref": boundary_id}, logical_id


def test_the_team_boundary_denies_admin_policies_and_assuming_unbounded_roles(
    au_production: Stages, template_of: TemplateOf
) -> None:
    """Not even break-glass attaches AdministratorAccess to another principal; and no team role assumes the one
    role a deploy creates without a boundary (the hosted rotation's), whatever that role's trust says."""
    access = template_of(au_production, "primary", "Access")
    access.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {
            "ManagedPolicyName": "au-production-team-boundary",
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "DenyAttachingAdministratorPolicies",
                                "Effect": "Deny",
                                "Condition": {
                                    "ArnLike": {
                                        "iam:PolicyARN": Match.array_with(
                                            ["arn:aws:iam::aws:policy/AdministratorAccess*"]
                                        )
                                    }
                                },
                            }
                        ),
                        Match.object_like(
                            {
                                "Sid": "DenyAssumingUnboundedRoles",
                                "Effect": "Deny",
                                "Action": "sts:AssumeRole",
                                "Resource": UNBOUNDED_ROTATION_ROLES,
                            }
                        ),
                    ]
                )
            },
        },
    )


def test_the_release_role_has_no_boundary_of_its_own(au_production: Stages, template_of: TemplateOf) -> None:
    """A stack-made boundary could be rewritten by the next deploy: the release role has the workload one."""
    web = template_of(au_production, "primary", "Web")
    web.has_resource_properties(
        "AWS::IAM::Role",
        {
            "RoleName": "au-production-primary-release",
            "PermissionsBoundary": "arn:aws:iam::111111111111:policy/au-production-workload-boundary",
        },
    )
    names = [
        p["Properties"].get("ManagedPolicyName", "") for p in web.find_resources("AWS::IAM::ManagedPolicy").values()
    ]
    assert not [n for n in names if str(n).endswith("-boundary")]

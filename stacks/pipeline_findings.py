"""The public packs' findings on what CDK Pipelines generates, acknowledged per resource and finding.

`aws_cdk.pipelines` creates the CodeBuild projects of the self-mutation, asset and permissions-check
steps, the source and action roles, and the permissions-broadening check's Lambda function; none of
them takes a role, a policy class or a Lambda setting from the caller, so their grant policies stay
inline. What this project could fix, it fixed: the roles it can hand to CDK Pipelines (the
pipeline's, the synth step's and each post-deploy step's) are `ManagedPolicyRole`s, whose grants
are customer-managed policies; every role carries the pipeline boundary (ACC-1, HOST-2: nothing
outside the jurisdiction's regions), the check's function logs into a retained, KMS-encrypted log
group, the artifact stores are the project's own buckets.
What is left is acknowledged here, each finding on each resource, with its compensating control.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from config import DeliveryPipeline
from patterns.nag_findings import PUBLIC_PACK_PREFIXES, iam5_findings
from policies.acknowledgments import acknowledge

_BOUNDARY = (
    "Compensating control: the role carries the {boundary} permissions boundary (no region outside the "
    "jurisdiction, no IAM users, no administrator policy, no boundary removal; tooling/pipeline_bootstrap.py) "
    "and CloudTrail in the tooling account records every call."
)
_GRANTS = (
    "CDK Pipelines' grant methods write these statements, scoped to the pipeline's own artifact stores, keys, "
    "log groups and report groups (wildcards are object keys, log streams, the projects' own report groups and "
    "the KMS data-key action families those grants need). "
)
_GENERATED_POLICY = _GRANTS + "The policy is inline because the construct that owns this role takes no role from us. "
_CODEPIPELINE_SOURCE = (
    "The project's source is CODEPIPELINE: it has no repository URL and no credential. The repository is "
    "reached only by the pipeline's CodeConnections source action (an OAuth app installation that AWS holds). "
)
_CHECK_FUNCTION = (
    "CDK Pipelines' permissions-broadening check function: CodePipeline invokes it once per production "
    "release to approve or reject the check; it calls only the CodePipeline API. "
)


def acknowledge_pipeline_findings(stack: cdk.Stack, pipeline: DeliveryPipeline) -> None:
    boundary = _BOUNDARY.format(boundary=pipeline.boundary_name)
    for construct in stack.node.find_all():
        if isinstance(construct, iam.CfnPolicy):
            _generated_policy(stack, construct, boundary)
        elif isinstance(construct, iam.CfnManagedPolicy) and isinstance(construct.node.scope, iam.ManagedPolicy):
            _managed_grants(stack, construct, boundary)
        elif isinstance(construct, codebuild.CfnProject):
            acknowledge(
                construct,
                [f"{pack}-CodeBuildProjectSourceRepoUrl" for pack in ("HIPAA.Security", "PCI.DSS.321")],
                _CODEPIPELINE_SOURCE + "Compensating control: the connection is scoped to one repository and branch.",
            )
        elif isinstance(construct, lambda_.CfnFunction):
            _check_function(construct, boundary)
            _check_function_role(construct, boundary)


def _generated_policy(stack: cdk.Stack, policy: iam.CfnPolicy, boundary: str) -> None:
    reason = _GENERATED_POLICY + boundary
    acknowledge(policy, [f"{pack}-IAMNoInlinePolicy" for pack in PUBLIC_PACK_PREFIXES], reason)
    findings = iam5_findings(stack.resolve(policy.policy_document))
    if findings:
        acknowledge(policy, findings, reason)


def _managed_grants(stack: cdk.Stack, policy: iam.CfnManagedPolicy, boundary: str) -> None:
    """A `ManagedPolicyRole`'s grants policy: customer-managed, only its wildcards are acknowledged."""
    findings = iam5_findings(stack.resolve(policy.policy_document))
    if findings:
        acknowledge(policy, findings, _GRANTS + boundary)


def _check_function(function: lambda_.CfnFunction, boundary: str) -> None:
    reason = (
        _CHECK_FUNCTION
        + (
            "It holds no data and reaches no VPC resource, so it runs outside a VPC; a failed invocation fails the "
            "pipeline's production action visibly (the dead-letter queue's role); CodePipeline's one invocation per "
            "execution bounds its concurrency. "
        )
        + boundary
    )
    acknowledge(
        function,
        [
            *(f"{pack}-LambdaInsideVPC" for pack in PUBLIC_PACK_PREFIXES),
            *(
                f"{pack}-{rule}"
                for pack in ("NIST.800.53.R5", "HIPAA.Security")
                for rule in ("LambdaConcurrency", "LambdaDLQ")
            ),
        ],
        reason,
    )


def _check_function_role(function: lambda_.CfnFunction, boundary: str) -> None:
    """The role CDK gives the function (its `ServiceRole` sibling), found through the construct tree."""
    role = function.node.scope.node.try_find_child("ServiceRole") if function.node.scope else None
    if not isinstance(role, iam.Role):
        raise ValueError(f"{function.node.path}: a pipeline function without the ServiceRole CDK gives it")
    acknowledge(
        role.node.default_child,  # type: ignore[arg-type]
        ["AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]"],
        _CHECK_FUNCTION + "The AWS managed policy grants writing its own logs only. " + boundary,
    )

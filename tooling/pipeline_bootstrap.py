"""Bootstrap and trust for a jurisdiction's pipeline (issue 21, docs/REAL_ACCOUNT.md "Pipelines").

The tooling account (`[jurisdictions.<j>.pipeline].account`) runs the pipeline; every target account
trusts it. Two customer-managed policies in the tooling account, created before its bootstrap:

* `<j>-pipeline-boundary`: the permissions boundary of every role of the pipeline stacks (CodePipeline,
  CodeBuild, the permissions-broadening check; stacks/pipeline.py applies it) and of the tooling
  account's CDK execution role. A ceiling: nothing outside the jurisdiction's regions but global
  services (HOST-2), no IAM users or keys, no removing a boundary, no administrator policy, no key
  deletion, and this policy cannot be changed by what it bounds (ACC-1).
* `<j>-pipeline-execution`: the tooling account's CloudFormation execution role: the services the
  pipeline stacks use (`service:*`, never `*:*`).

In each target account, `cdk bootstrap --trust <tooling account> --trust-for-lookup <tooling account>`
with the deployment's scoped execution policy and boundary (tooling/bootstrap_policy.py): the
pipeline deploys with exactly the rights `./scripts/run --target aws` has, and its post-deploy
checks read with the lookup role (read-only).

    python -m tooling.pipeline_bootstrap --jurisdiction au --print   # documents and commands only
    python -m tooling.pipeline_bootstrap --jurisdiction au --profile tooling   # create/update the policies
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from config import DeliveryPipeline, Deployment, PlatformConfig, load_config
from patterns.team_actions import ADMINISTRATOR_ATTACH_ACTIONS, ADMINISTRATOR_POLICY_ARNS, KMS_DESTRUCTIVE_ACTIONS
from tooling.bootstrap_policy import (
    POLICY_WRITE_ACTIONS,
    USER_AND_GROUP_ESCALATION,
    PolicyDocument,
    bootstrap_command,
    boundary_document,
    cdk_bootstrap_command,
    ensure_policy,
)

# Global services answer in us-east-1 whatever the caller's region (IAM, STS's global endpoint,
# Organizations, Route 53); the region condition must not deny them.
GLOBAL_SERVICE_ACTIONS: Final[tuple[str, ...]] = ("iam:*", "sts:*", "organizations:*", "route53:*", "support:*")
# What the pipeline stacks declare (stacks/pipeline.py, stacks/pipeline_artifacts.py).
PIPELINE_SERVICES: Final[tuple[str, ...]] = (
    "cloudformation",
    "codebuild",
    "codeconnections",
    "codepipeline",
    "codestar-connections",
    "events",
    "iam",
    "kms",
    "lambda",
    "logs",
    "s3",
    "sns",
    "ssm",
)


def boundary_name(pipeline: DeliveryPipeline) -> str:
    return pipeline.boundary_name


def execution_policy_name(pipeline: DeliveryPipeline) -> str:
    return f"{pipeline.name}-execution"


def tooling_policy_arn(pipeline: DeliveryPipeline, name: str) -> str:
    return f"arn:aws:iam::{pipeline.account}:policy/{name}"


def pipeline_boundary_document(pipeline: DeliveryPipeline) -> PolicyDocument:
    """Caps, never grants: attached only as a permissions boundary."""
    own = [
        tooling_policy_arn(pipeline, boundary_name(pipeline)),
        tooling_policy_arn(pipeline, execution_policy_name(pipeline)),
    ]
    return boundary_document(
        {
            "Sid": "DenyOutsideTheJurisdiction",
            "Effect": "Deny",
            "NotAction": list(GLOBAL_SERVICE_ACTIONS),
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": list(pipeline.allowed_regions)}},
        },
        {
            "Sid": "DenyIamUsersGroupsAndKeys",
            "Effect": "Deny",
            "Action": list(USER_AND_GROUP_ESCALATION),
            "Resource": "*",
        },
        {
            "Sid": "DenyChangingThePipelinePolicies",
            "Effect": "Deny",
            "Action": list(POLICY_WRITE_ACTIONS),
            "Resource": own,
        },
        {
            "Sid": "DenyRemovingBoundaries",
            "Effect": "Deny",
            "Action": ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"],
            "Resource": "*",
        },
        {
            "Sid": "DenyRolesWithAnotherBoundary",
            "Effect": "Deny",
            "Action": ["iam:CreateRole", "iam:PutRolePermissionsBoundary"],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": own[0]}},
        },
        {
            "Sid": "DenyAttachingAdministratorPolicies",
            "Effect": "Deny",
            "Action": list(ADMINISTRATOR_ATTACH_ACTIONS),
            "Resource": "*",
            "Condition": {"ArnLike": {"iam:PolicyARN": list(ADMINISTRATOR_POLICY_ARNS)}},
        },
        {"Sid": "DenyKeyDeletion", "Effect": "Deny", "Action": list(KMS_DESTRUCTIVE_ACTIONS), "Resource": "*"},
    )


def execution_policy_document(pipeline: DeliveryPipeline) -> PolicyDocument:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PipelineServices",
                "Effect": "Allow",
                "Action": [f"{service}:*" for service in PIPELINE_SERVICES],
                "Resource": "*",
            },
            *pipeline_boundary_document(pipeline)["Statement"][1:],
        ],
    }


def tooling_regions(pipeline: DeliveryPipeline, deployments: Sequence[Deployment]) -> list[str]:
    """The pipeline's region first, then every region it deploys into (each holds an artifact store)."""
    return [pipeline.region, *pipeline.other_regions(deployments)]


def tooling_bootstrap_command(
    cdk: Path | str, assembly: Path | str, pipeline: DeliveryPipeline, deployments: Sequence[Deployment]
) -> list[str]:
    return cdk_bootstrap_command(
        cdk,
        assembly,
        execution_policy_arn=tooling_policy_arn(pipeline, execution_policy_name(pipeline)),
        boundary_name=boundary_name(pipeline),
        environments=(f"aws://{pipeline.account}/{region}" for region in tooling_regions(pipeline, deployments)),
    )


def target_bootstrap_command(
    cdk: Path | str, assembly: Path | str, deployment: Deployment, pipeline: DeliveryPipeline
) -> list[str]:
    """The deployment's scoped bootstrap (tooling/bootstrap_policy.py), trusting the tooling account."""
    if deployment.jurisdiction != pipeline.jurisdiction:
        raise ValueError(f"{deployment.name} is not of jurisdiction {pipeline.jurisdiction} (HOST-2)")
    return [
        *bootstrap_command(cdk, assembly, deployment),
        "--trust",
        pipeline.account,
        "--trust-for-lookup",
        pipeline.account,
    ]


def ensure_pipeline_policies(iam: Any, pipeline: DeliveryPipeline) -> tuple[str, str]:
    """Create or update both policies in the tooling account (idempotent); returns their ARNs."""
    boundary = ensure_policy(
        iam,
        tooling_policy_arn(pipeline, boundary_name(pipeline)),
        pipeline_boundary_document(pipeline),
        f"{pipeline.name}: boundary of every pipeline role (issue 21, ACC-1, HOST-2)",
    )
    execution = ensure_policy(
        iam,
        tooling_policy_arn(pipeline, execution_policy_name(pipeline)),
        execution_policy_document(pipeline),
        f"{pipeline.name}: CloudFormation execution role of the tooling account",
    )
    return boundary, execution


def _commands(config: PlatformConfig, pipeline: DeliveryPipeline) -> list[str]:
    deployments = config.deployments_of(pipeline.jurisdiction)
    lines = [" ".join(tooling_bootstrap_command("npx cdk", "cdk.out", pipeline, deployments))]
    lines += [" ".join(target_bootstrap_command("npx cdk", "cdk.out", d, pipeline)) for d in deployments]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jurisdiction", required=True, help="a jurisdiction with [jurisdictions.<j>.pipeline]")
    parser.add_argument("--profile", help="AWS profile of the tooling account")
    parser.add_argument("--print", action="store_true", help="print the documents and bootstrap commands, call nothing")
    args = parser.parse_args(argv)
    config = load_config()
    try:
        pipeline = config.pipeline(args.jurisdiction)
    except KeyError as error:
        parser.error(str(error))
    if args.print:
        documents = {
            boundary_name(pipeline): pipeline_boundary_document(pipeline),
            execution_policy_name(pipeline): execution_policy_document(pipeline),
        }
        print(json.dumps(documents, indent=2))
        print("\n".join(_commands(config, pipeline)))
        return 0
    import boto3

    iam = boto3.Session(profile_name=args.profile).client("iam")
    boundary, execution = ensure_pipeline_policies(iam, pipeline)
    print(f"pipeline boundary {boundary}\nexecution policy {execution}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

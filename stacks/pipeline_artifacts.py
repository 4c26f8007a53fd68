"""A pipeline's artifact stores: its own buckets, in its jurisdiction only (HOST-2, issue 21).

CodePipeline keeps an artifact store in every region where an action runs: the pipeline's region
and each region a stage deploys into. CDK would create default support stacks for the others
(`<pipeline>-support-<region>`) with buckets that are neither access-logged nor retained. This
project creates them itself:

- `PipelineArtifacts`: the buckets of one region of the tooling account, a codebase key (ENC-2:
  templates and assets are the codebase), versioned, TLS-only, access-logged, retained (BAK-8);
- `ArtifactReplicationStack`: one per region other than the pipeline's, holding those buckets.

The pipeline refers to a replication bucket by its deterministic name and key alias, never by a
cross-region reference, and the bucket and key policies name the only roles that use them: the
pipeline's role (it copies artifacts in) and the CDK bootstrap roles of the target accounts that
deploy in that region (they read the templates).
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from config import DeliveryPipeline, Deployment, Retention
from patterns.keys import DataClassKeyRing, KeyRingProps
from patterns.secure_bucket import LoggedBuckets

# CDK's default bootstrap qualifier: the roles `cdk bootstrap --trust <tooling account>` creates.
BOOTSTRAP_QUALIFIER = "hnb659fds"
ARTIFACT_CLASSES = ("codebase",)
PIPELINE_CLASSES = ("codebase", "logs")


def bootstrap_role_arn(account: str, region: str, purpose: str) -> str:
    """`purpose`: deploy, cfn-exec, lookup, file-publishing (CDK's bootstrap template role names)."""
    return f"arn:aws:iam::{account}:role/cdk-{BOOTSTRAP_QUALIFIER}-{purpose}-role-{account}-{region}"


def pipeline_role_arn(pipeline: DeliveryPipeline) -> str:
    return f"arn:aws:iam::{pipeline.account}:role/{pipeline_role_name(pipeline)}"


def pipeline_role_name(pipeline: DeliveryPipeline) -> str:
    return f"{pipeline.name}-role"


def artifact_key_alias(pipeline: DeliveryPipeline) -> str:
    return f"alias/{pipeline.name}/codebase"


def artifact_readers(pipeline: DeliveryPipeline, deployments: Sequence[Deployment], region: str) -> list[str]:
    """The target accounts' roles that read templates from the store of `region`."""
    return [
        bootstrap_role_arn(d.account, region, purpose)
        for d in deployments
        if region in d.regions
        for purpose in ("deploy", "cfn-exec")
    ]


class PipelineArtifacts(Construct):
    """The artifact bucket of one region of a pipeline, with its access logs and codebase key."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        pipeline: DeliveryPipeline,
        retention: Retention,
        deployments: Sequence[Deployment],
        data_classes: tuple[str, ...] = ARTIFACT_CLASSES,
    ) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        region = stack.region
        self.key_ring = DataClassKeyRing(
            self, "Keys", props=KeyRingProps(alias_prefix=pipeline.name, data_classes=data_classes)
        )
        self.key: kms.Key = self.key_ring.codebase
        buckets = LoggedBuckets(
            self,
            "AccessLogs",
            retention=retention,
            bucket_name=f"{pipeline.name}-access-logs-{pipeline.account}-{region}",
        )
        self.access_logs = buckets.access_logs
        self.bucket: s3.Bucket = buckets.secure(
            "Artifacts",
            key=self.key,
            data_class="codebase",
            bucket_name=pipeline.artifact_bucket(region),
            no_replication_reason=(
                "Pipeline artifacts are rebuilt from the repository by the next run; each region's store "
                "holds only what that region's deploy actions read."
            ),
        )
        self._allow(pipeline, deployments, region)

    def _allow(self, pipeline: DeliveryPipeline, deployments: Sequence[Deployment], region: str) -> None:
        readers = [iam.ArnPrincipal(arn) for arn in artifact_readers(pipeline, deployments, region)]
        writer = iam.ArnPrincipal(pipeline_role_arn(pipeline))
        if readers:
            self.bucket.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="TargetAccountsReadTemplates",
                    principals=readers,
                    actions=["s3:GetObject*", "s3:GetBucket*", "s3:List*"],
                    resources=[self.bucket.bucket_arn, self.bucket.arn_for_objects("*")],
                )
            )
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="TargetAccountsDecryptTemplates",
                    principals=readers,
                    actions=["kms:Decrypt", "kms:DescribeKey"],
                    resources=["*"],
                    conditions={"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
                )
            )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PipelineCopiesArtifacts",
                principals=[writer],
                actions=["s3:GetObject*", "s3:GetBucket*", "s3:List*", "s3:PutObject", "s3:Abort*"],
                resources=[self.bucket.bucket_arn, self.bucket.arn_for_objects("*")],
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PipelineEncryptsArtifacts",
                principals=[writer],
                actions=["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            )
        )


def bound_roles(stack: cdk.Stack, pipeline: DeliveryPipeline) -> None:
    """ACC-1: every role of a pipeline stack, CDK Pipelines' own included, is capped by the pipeline boundary."""
    iam.PermissionsBoundary.of(stack).apply(
        iam.ManagedPolicy.from_managed_policy_name(stack, "PipelineBoundary", pipeline.boundary_name)
    )


def stack_tags(pipeline: DeliveryPipeline) -> dict[str, str]:
    return {"service": "saas-platform-delivery", "jurisdiction": pipeline.jurisdiction}


class ArtifactReplicationStack(cdk.Stack):
    """`<j>-pipeline-artifacts-<region>`: the pipeline's artifact store in a region it deploys into."""

    def __init__(
        self,
        scope: Construct,
        *,
        pipeline: DeliveryPipeline,
        region: str,
        retention: Retention,
        deployments: Sequence[Deployment],
    ) -> None:
        name = pipeline.artifact_stack(region)
        super().__init__(
            scope,
            name,
            stack_name=name,
            env=cdk.Environment(account=pipeline.account, region=region),
            description=f"{pipeline.name} artifact store in {region} (HOST-2: inside {pipeline.jurisdiction})",
            termination_protection=True,
            tags=stack_tags(pipeline),
        )
        bound_roles(self, pipeline)
        self.artifacts = PipelineArtifacts(
            self, "Store", pipeline=pipeline, retention=retention, deployments=deployments
        )


def imported_store(scope: Construct, pipeline: DeliveryPipeline, region: str) -> s3.IBucket:
    """A replication store as the pipeline stack sees it: by name and key alias ARN (no cross-region reference)."""
    alias_arn = f"arn:aws:kms:{region}:{pipeline.account}:{artifact_key_alias(pipeline)}"
    return s3.Bucket.from_bucket_attributes(
        scope,
        f"ArtifactStore-{region}",
        bucket_name=pipeline.artifact_bucket(region),
        region=region,
        account=pipeline.account,
        encryption_key=kms.Key.from_key_arn(scope, f"ArtifactKey-{region}", alias_arn),
    )

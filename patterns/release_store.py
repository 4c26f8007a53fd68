"""A region's release store and release role (OPS-7, ENC-2, HOST-2, ACC-2).

- **Release bucket**: SSE-KMS under the region's `codebase` key, versioned, TLS-only,
  private, access-logged, retained. Write-once per version: the bucket policy denies
  every `PutObject` without `If-None-Match` (S3 conditional writes: a key that exists
  cannot be written again, https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes-enforce.html),
  denies deleting any object or version, and lets only the release role change the
  `release-state` tag that marks a version released. It is not replicated: the release
  uploads the artifact into each region of the deployment itself, so a copy never leaves
  the jurisdiction (HOST-2).
- **Release role**: writes artifacts, marks them released, records what runs where (the
  region's SSM parameter), creates launch template versions of the web tier and starts,
  cancels or rolls back its instance refresh. Nothing else: no shell, no SSM command or
  session, no data (ACC-2). Like every role of the stacks it is capped by the deployment's
  workload boundary (stacks/base.py, ACC-1), which no deploy can change: a boundary of its
  own would be a stack resource, and the execution policy accepts no such boundary.
- **Web instances** read an artifact only when it is tagged `release-state=released`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from patterns.iam import ManagedPolicyRole, deny_anyone
from patterns.nag_findings import iam5_resource_finding
from patterns.tagging import tag_data_classification
from policies.acknowledgments import acknowledge, acknowledge_in_public_packs

_WILDCARDS_REASON: Final = (
    "Describe calls of EC2 and Auto Scaling support no resource-level permissions, and a release writes any new "
    "version under releases/; compensating controls: the write-once bucket policy, only this region's launch "
    "template and group, the workload permissions boundary, CloudTrail records every call."
)
RELEASE_PREFIX: Final = "releases/"
RELEASE_STATE_TAG: Final = "release-state"
RELEASED: Final = "released"


@dataclass(frozen=True)
class ReleaseStoreProps:
    bucket_name: str
    role_name: str
    codebase_key: kms.IKey
    release_parameter_name: str  # what runs in this region (runbooks/release.py writes it)
    launch_template_id: str
    auto_scaling_group_name: str
    instance_role: iam.IRole  # passed to the launch template versions the role creates
    access_log_bucket: s3.IBucket | None = None
    access_log_prefix: str = "releases/"


class ReleaseStore(Construct):
    def __init__(self, scope: Construct, id: str, *, props: ReleaseStoreProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self.bucket = self._bucket()
        self.role = self._role()
        self._bucket_policy()

    @property
    def artifacts_arn(self) -> str:
        return self.bucket.arn_for_objects(f"{RELEASE_PREFIX}*")

    def _bucket(self) -> s3.Bucket:
        props = self.props
        bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=props.bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=props.codebase_key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        tag_data_classification(bucket, "codebase")
        cfn = bucket.node.default_child
        assert isinstance(cfn, s3.CfnBucket)
        if props.access_log_bucket is not None:
            # L1 on purpose: the L2 property would edit the target's policy in another stack (a cycle);
            # the caller grants log delivery on the target (stacks/web.py).
            cfn.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
                destination_bucket_name=props.access_log_bucket.bucket_name, log_file_prefix=props.access_log_prefix
            )
        acknowledge_in_public_packs(
            cfn,
            "S3BucketReplicationEnabled",
            "Release artifacts are not replicated on purpose: the release uploads the same digest-checked "
            "artifact into each region of the deployment (runbooks/release.py), so nothing leaves the "
            "jurisdiction (HOST-2). Compensating controls: write-once policy, no deletes, versioning, RETAIN.",
        )
        return bucket

    def _bucket_policy(self) -> None:
        bucket, role_arn = self.bucket, self.role.role_arn
        bucket.add_to_resource_policy(
            deny_anyone(
                "DenyOverwritingARelease",
                ["s3:PutObject"],
                [bucket.arn_for_objects("*")],
                conditions={"Null": {"s3:if-none-match": "true"}, "Bool": {"s3:ObjectCreationOperation": "true"}},
            )
        )
        bucket.add_to_resource_policy(
            deny_anyone(
                "DenyDeletingReleases",
                ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutLifecycleConfiguration"],
                [bucket.bucket_arn, bucket.arn_for_objects("*")],
            )
        )
        bucket.add_to_resource_policy(
            deny_anyone(
                "OnlyTheReleaseRoleMarksReleases",
                ["s3:PutObjectTagging", "s3:DeleteObjectTagging", "s3:PutObjectVersionTagging"],
                [bucket.arn_for_objects("*")],
                conditions={"ArnNotEquals": {"aws:PrincipalArn": role_arn}},
            )
        )

    def _role(self) -> ManagedPolicyRole:
        props = self.props
        stack = cdk.Stack.of(self)
        statements = self._release_statements(stack)
        role = ManagedPolicyRole(
            self,
            "Role",
            role_name=props.role_name,
            assumed_by=iam.AccountRootPrincipal(),
            description="Ships releases: artifacts, the release marker and record, the web tier's instance refresh",
            max_session_duration=cdk.Duration.hours(2),
        )
        for statement in statements:
            role.add_to_principal_policy(statement)
        findings = [
            "AwsSolutions-IAM5[Resource::*]",
            iam5_resource_finding(stack, self.artifacts_arn),
            iam5_resource_finding(stack, self._asg_arn(stack)),
        ]
        acknowledge(role.grants_policy, findings, _WILDCARDS_REASON)
        return role

    def _asg_arn(self, stack: cdk.Stack) -> str:
        """The group's ARN with its id as a wildcard (the id is a UUID AWS assigns)."""
        return (
            f"arn:{stack.partition}:autoscaling:{stack.region}:{stack.account}:autoScalingGroup:*:"
            f"autoScalingGroupName/{self.props.auto_scaling_group_name}"
        )

    def _release_statements(self, stack: cdk.Stack) -> list[iam.PolicyStatement]:
        props = self.props
        asg_arn = self._asg_arn(stack)
        return [
            iam.PolicyStatement(
                sid="WriteAndMarkArtifacts",
                actions=["s3:PutObject", "s3:GetObject", "s3:GetObjectTagging", "s3:PutObjectTagging"],
                resources=[self.artifacts_arn],
            ),
            iam.PolicyStatement(
                sid="CodebaseKeyThroughS3",
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[props.codebase_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                sid="RecordWhatRuns",
                actions=["ssm:GetParameter", "ssm:PutParameter"],
                resources=[
                    stack.format_arn(
                        service="ssm", resource="parameter", resource_name=props.release_parameter_name.lstrip("/")
                    )
                ],
            ),
            iam.PolicyStatement(
                sid="NewLaunchTemplateVersion",
                actions=["ec2:CreateLaunchTemplateVersion"],
                resources=[
                    stack.format_arn(service="ec2", resource="launch-template", resource_name=props.launch_template_id)
                ],
            ),
            iam.PolicyStatement(
                sid="PassTheInstanceRole",
                actions=["iam:PassRole"],
                resources=[props.instance_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                sid="RollOutByInstanceRefresh",
                actions=[
                    "autoscaling:StartInstanceRefresh",
                    "autoscaling:CancelInstanceRefresh",
                    "autoscaling:RollbackInstanceRefresh",
                ],
                resources=[asg_arn],
            ),
            iam.PolicyStatement(
                sid="ReadRolloutState",
                actions=[
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeInstanceRefreshes",
                    "ec2:DescribeLaunchTemplateVersions",
                ],
                resources=["*"],
            ),
        ]

    def grant_read_released(self, role: iam.IRole) -> None:
        """Web instances read an artifact only once the release role has tagged it released."""
        stack = cdk.Stack.of(self)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadReleasedArtifactsOnly",
                actions=["s3:GetObject"],
                resources=[self.artifacts_arn],
                conditions={"StringEquals": {f"s3:ExistingObjectTag/{RELEASE_STATE_TAG}": RELEASED}},
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="DecryptReleasesThroughS3",
                actions=["kms:Decrypt"],
                resources=[self.props.codebase_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
            )
        )

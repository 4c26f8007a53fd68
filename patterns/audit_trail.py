"""The account's audit trail (ACC-3): multi-region CloudTrail, validated, encrypted, locked down.

- one multi-region trail with global service events and log file validation
  (digest files let an auditor prove nothing was altered or removed);
- encrypted with the `logs` key; the key policy admits CloudTrail only for trails
  of this account and only with this trail as the source: GenerateDataKey*, and
  Decrypt, which CloudTrail needs because the bucket uses an S3 Bucket Key;
- delivered to a `SecureBucket` (logs key, versioned, access-logged, TLS-only,
  archived and expired per BAK-7, RETAIN) that is an immutable audit bucket
  (patterns/audit_lock.py): S3 Object Lock (COMPLIANCE in production) for as long as
  a record is kept, a policy that lets only CloudTrail write, denies every principal
  the deletion of a record and every principal but CloudFormation's execution role a
  change of the bucket's policy, lifecycle, versioning, lock or replication;
- replicated into the locked audit archive of the DR region (same jurisdiction,
  stacks/audit_archive.py) with Replication Time Control, delete markers not copied;
- records every management event and the S3 **data events** (object reads and writes)
  of the buckets that hold customer data (`data_event_bucket_names`), with advanced
  event selectors: with advanced selectors a trail logs only what a selector names,
  so management events have their own selector (CloudTrail user guide, "Logging data
  events with advanced event selectors");
- also delivered to a KMS-encrypted CloudWatch Logs group with explicit retention,
  for alarms and daily review (OPS-2), through a role of ours (no inline policy). The
  group is retained; CloudWatch Logs resource policies cannot deny IAM principals
  (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutResourcePolicy.html),
  so its deletion, stream deletion and retention changes are denied by IAM: the team
  boundary (patterns/team_roles.py) and the CloudFormation execution policy
  (tooling/bootstrap_policy.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from config.topology import AUDIT_LOG_GROUP_PREFIX
from patterns.audit_lock import ObjectLock
from patterns.bucket_replication import ReplicationTarget
from patterns.iam import ManagedPolicyRole, deny_anyone
from patterns.secure_bucket import LogArchive, SecureBucket, SecureBucketProps

CLOUDTRAIL = "cloudtrail.amazonaws.com"


@dataclass(frozen=True)
class AuditTrailProps:
    trail_name: str
    bucket_name: str
    logs_key: kms.Key  # a key of ours: its policy gets the CloudTrail statements
    access_log_bucket: s3.IBucket
    noncurrent_version_days: int
    archive: LogArchive
    log_retention: logs.RetentionDays
    object_lock: ObjectLock  # ACC-3: how long, and how strictly, every record version is locked
    replication: ReplicationTarget  # the DR region's locked audit archive (object_lock=True)
    # Buckets holding customer data, by literal name (any region: the trail is multi-region).
    data_event_bucket_names: Sequence[str] = ()


def advanced_event_selectors(
    partition: str, data_event_bucket_names: Sequence[str]
) -> list[cloudtrail.CfnTrail.AdvancedEventSelectorProperty]:
    """All management events, plus S3 object-level data events on the named buckets (ACC-3)."""
    selectors = [
        cloudtrail.CfnTrail.AdvancedEventSelectorProperty(
            name="All management events",
            field_selectors=[
                cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(field="eventCategory", equal_to=["Management"])
            ],
        )
    ]
    if data_event_bucket_names:
        selectors.append(
            cloudtrail.CfnTrail.AdvancedEventSelectorProperty(
                name="S3 data events on customer content",
                field_selectors=[
                    cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(field="eventCategory", equal_to=["Data"]),
                    cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(
                        field="resources.type", equal_to=["AWS::S3::Object"]
                    ),
                    cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(
                        field="resources.ARN",
                        starts_with=[f"arn:{partition}:s3:::{name}/" for name in data_event_bucket_names],
                    ),
                ],
            )
        )
    return selectors


class AuditTrail(Construct):
    """Build in order: the locked trail bucket and its policy, the key policy's CloudTrail grants, the
    CloudWatch Logs delivery, the multi-region trail (ACC-3)."""

    def __init__(self, scope: Construct, id: str, *, props: AuditTrailProps) -> None:
        super().__init__(scope, id)
        self.props = props
        stack = cdk.Stack.of(self)
        self.trail_arn = stack.format_arn(service="cloudtrail", resource="trail", resource_name=props.trail_name)
        self._source_is_trail = {"StringEquals": {"aws:SourceArn": self.trail_arn}}
        self.bucket = self._bucket()
        self._admit_only_cloudtrail(self.bucket)
        self._let_cloudtrail_use_key()
        self.log_group, self.logs_role = self._log_delivery()
        self.trail = self._trail()

    def _bucket(self) -> s3.Bucket:
        props = self.props
        return SecureBucket(
            self,
            "Bucket",
            props=SecureBucketProps(
                encryption_key=props.logs_key,
                access_log_bucket=props.access_log_bucket,
                access_log_prefix="cloudtrail/",
                noncurrent_version_days=props.noncurrent_version_days,
                data_class="logs",
                archive=props.archive,
                bucket_name=props.bucket_name,
                replication=props.replication,
                object_lock=props.object_lock,
            ),
        ).bucket

    def _admit_only_cloudtrail(self, bucket: s3.Bucket) -> None:
        """CloudTrail may check the ACL and write this account's logs; nobody else may write."""
        stack = cdk.Stack.of(self)
        source_is_trail = self._source_is_trail
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AWSCloudTrailAclCheck",
                principals=[iam.ServicePrincipal(CLOUDTRAIL)],
                actions=["s3:GetBucketAcl"],
                resources=[bucket.bucket_arn],
                conditions=source_is_trail,
            )
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AWSCloudTrailWrite",
                principals=[iam.ServicePrincipal(CLOUDTRAIL)],
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"AWSLogs/{stack.account}/*")],
                conditions={
                    "StringEquals": {
                        "aws:SourceArn": self.trail_arn,
                        "s3:x-amz-acl": "bucket-owner-full-control",
                    }
                },
            )
        )
        bucket.add_to_resource_policy(
            deny_anyone(
                "DenyWritesByAnyoneButCloudTrail",
                ["s3:PutObject"],
                [bucket.arn_for_objects("*")],
                conditions={"StringNotEqualsIfExists": {"aws:PrincipalServiceName": CLOUDTRAIL}},
            )
        )

    def _let_cloudtrail_use_key(self) -> None:
        props = self.props
        stack = cdk.Stack.of(self)
        source_is_trail = self._source_is_trail
        # Lands in the Keys stack's key policy: this trail as the source and, for encrypt and the
        # trail-context decrypt, CloudTrail's own encryption context.
        trails = f"arn:{stack.partition}:cloudtrail:*:{stack.account}:trail/*"
        trail_context = {**source_is_trail, "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trails}}

        def allow_cloudtrail(sid: str, action: str, conditions: dict[str, Any]) -> None:
            props.logs_key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=sid,
                    principals=[iam.ServicePrincipal(CLOUDTRAIL)],
                    actions=[action],
                    resources=["*"],
                    conditions=conditions,
                )
            )

        allow_cloudtrail("AllowCloudTrailToEncryptTheAuditTrail", "kms:GenerateDataKey*", trail_context)
        # The trail bucket uses an S3 Bucket Key (SecureBucket): CloudTrail then also needs kms:Decrypt
        # to create or update an SSE-KMS trail (CloudTrail user guide, "Configure AWS KMS key policies
        # for CloudTrail", required element 2). Scoped like the encrypt grant: this trail as the source,
        # and an encryption context that is either CloudTrail's (trail ARN) or S3's for this bucket.
        allow_cloudtrail("AllowCloudTrailToDecryptTrailContext", "kms:Decrypt", trail_context)
        bucket_context = {"kms:EncryptionContext:aws:s3:arn": f"arn:{stack.partition}:s3:::{props.bucket_name}"}
        allow_cloudtrail(
            "AllowCloudTrailToDecryptWithTheBucketKey",
            "kms:Decrypt",
            {"StringEquals": {**source_is_trail["StringEquals"], **bucket_context}},
        )
        allow_cloudtrail("AllowCloudTrailToDescribeTheKey", "kms:DescribeKey", source_is_trail)

    def _log_delivery(self) -> tuple[logs.LogGroup, ManagedPolicyRole]:
        """The trail's CloudWatch Logs group and the role CloudTrail writes it with."""
        props = self.props
        source_is_trail = self._source_is_trail
        log_group = logs.LogGroup(
            self,
            "LogGroup",
            log_group_name=f"{AUDIT_LOG_GROUP_PREFIX}{props.trail_name}",
            encryption_key=props.logs_key,
            retention=props.log_retention,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        logs_role = ManagedPolicyRole(
            self,
            "LogsRole",
            assumed_by=iam.ServicePrincipal(CLOUDTRAIL, conditions=source_is_trail),
            description=f"Delivers {props.trail_name} to CloudWatch Logs",
        )
        log_group.grant_write(logs_role)
        return log_group, logs_role

    def _trail(self) -> cloudtrail.CfnTrail:
        """Multi-region, log-file validation on, created after the policies that let it deliver."""
        props = self.props
        trail = cloudtrail.CfnTrail(
            self,
            "Trail",
            trail_name=props.trail_name,
            is_logging=True,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            kms_key_id=props.logs_key.key_arn,
            s3_bucket_name=self.bucket.bucket_name,
            cloud_watch_logs_log_group_arn=self.log_group.log_group_arn,
            cloud_watch_logs_role_arn=self.logs_role.role_arn,
            # A literal partition: every jurisdiction's region is commercial, and the policy pack reads it.
            advanced_event_selectors=advanced_event_selectors("aws", props.data_event_bucket_names),
        )
        assert self.bucket.policy is not None
        trail.node.add_dependency(self.bucket.policy)
        trail.node.add_dependency(self.logs_role.grants_policy)  # the role itself: via GetAtt
        return trail

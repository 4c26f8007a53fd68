"""The S3 bucket that receives Application Load Balancer access logs (ACC-3, BAK-7).

Elastic Load Balancing delivers access logs only to buckets encrypted with
S3-managed keys (SSE-S3); a bucket whose default encryption is SSE-KMS receives
nothing. This bucket is therefore the one place where the platform stores data
without a customer-managed key, and it holds only load-balancer request logs (no
customer content). Everything else matches the log buckets: versioned, TLS only,
public access blocked, owner-enforced objects, retained on stack deletion, and a
lifecycle that moves logs to Glacier after the policy's 30 days and expires them
per configuration.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from patterns.secure_bucket import LOG_ARCHIVE_MINIMUM_SIZE
from patterns.tagging import tag_data_classification


@dataclass(frozen=True)
class AlbLogBucketProps:
    transition_days: int  # to Glacier Flexible Retrieval (BAK-7: 30 days)
    expiry_days: int
    noncurrent_version_days: int  # BAK-6: noncurrent versions expire only after the window
    bucket_name: str | None = None
    # S3 server access logs of this bucket go there (an SSE-S3 access-log bucket); the caller
    # grants logging.s3.amazonaws.com the write into it, scoped to this bucket's ARN.
    server_access_logs_bucket: s3.IBucket | None = None
    server_access_logs_prefix: str = "alb-logs/"


class AlbLogBucket(Construct):
    def __init__(self, scope: Construct, id: str, *, props: AlbLogBucketProps) -> None:
        super().__init__(scope, id)
        if props.expiry_days <= props.transition_days:
            raise ValueError(
                f"ALB log expiry ({props.expiry_days} d) must come after the Glacier transition "
                f"({props.transition_days} d) (BAK-7)"
            )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=props.bucket_name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            # BAK-7: ALB log files are often under 128 KB, which S3's default never transitions.
            transition_default_minimum_object_size=LOG_ARCHIVE_MINIMUM_SIZE,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="archive-then-expire",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.GLACIER,
                            transition_after=cdk.Duration.days(props.transition_days),
                        )
                    ],
                    expiration=cdk.Duration.days(props.expiry_days),
                    noncurrent_version_expiration=cdk.Duration.days(props.noncurrent_version_days),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
        )
        tag_data_classification(self.bucket, "logs")
        if props.server_access_logs_bucket is not None:
            # Set on the L1 resource: the L2 property would try to edit the target's bucket policy,
            # which belongs to the caller (see `AlbLogBucketProps.server_access_logs_bucket`).
            cfn_bucket = self.bucket.node.default_child
            assert isinstance(cfn_bucket, s3.CfnBucket)
            cfn_bucket.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
                destination_bucket_name=props.server_access_logs_bucket.bucket_name,
                log_file_prefix=props.server_access_logs_prefix,
            )

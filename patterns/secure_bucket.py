"""S3 buckets with the platform's defaults: encrypted, versioned, TLS-only, private, logged, retained.

Two constructs:

- `AccessLogBucket`: a log-delivery bucket, the target of S3 server access logs
  (ACC-3) or of Application Load Balancer access logs (`LogDelivery`). Both
  delivery services write only to buckets whose default encryption is SSE-S3
  (SSE-KMS targets are not supported), so these buckets - and only these - use
  S3-managed AES-256 keys. They hold request metadata, never customer objects;
  they are TLS-only, private, versioned, archived and expired like every log
  bucket (BAK-7) and retained.
- `SecureBucket`: every other bucket. SSE-KMS with a given customer-managed key
  and bucket keys (ENC-1), versioning with noncurrent versions kept for the
  retention window (BAK-6), access logs to an `AccessLogBucket`, RETAIN (BAK-8).
  With `archive` set it is a log bucket: Glacier after N days, expiry after M
  (BAK-7), objects of every size (`varies_by_storage_class`: S3's default would
  never move an object under 128 KB).
  With `object_lock` set it is an audit bucket (ACC-3, patterns/audit_lock.py): S3 Object Lock with
  a default retention, and a policy that denies deleting records to everyone and changing the
  bucket's settings to everyone but CloudFormation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from config import Retention
from patterns.audit_lock import ObjectLock, deny_tampering
from patterns.bucket_replication import BucketReplication, ReplicationTarget
from patterns.tagging import tag_data_classification
from policies.acknowledgments import acknowledge, acknowledge_in_public_packs

INCOMPLETE_UPLOAD_DAYS = 7

# BAK-7: since September 2024 S3's default (`all_storage_classes_128K`) keeps objects under
# 128 KB out of every lifecycle transition, and most log objects (access logs, digests,
# small CloudTrail files) are that small. `varies_by_storage_class` lets objects of any
# size transition to Glacier Flexible Retrieval / Deep Archive (S3 API reference,
# `TransitionDefaultMinimumObjectSize`), so every log object is archived.
LOG_ARCHIVE_MINIMUM_SIZE = s3.TransitionDefaultMinimumObjectSize.VARIES_BY_STORAGE_CLASS


def _transition_minimum(archive: LogArchive | None) -> s3.TransitionDefaultMinimumObjectSize | None:
    return LOG_ARCHIVE_MINIMUM_SIZE if archive is not None else None


S3_LOG_DELIVERY_BY_POLICY = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"


@dataclass(frozen=True)
class LogArchive:
    """BAK-7: move to a Glacier storage class after `transition_days`, delete after `expiry_days`."""

    transition_days: int
    expiry_days: int

    def __post_init__(self) -> None:
        if self.expiry_days <= self.transition_days:
            raise ValueError(
                f"log archive expiry ({self.expiry_days} d) must come after the transition ({self.transition_days} d)"
            )

    @classmethod
    def from_retention(cls, retention: Retention) -> LogArchive:
        return cls(retention.log_archive_transition_days, retention.log_archive_expiry_days)


def _no_replication_reason(why: str) -> str:
    return (
        f"{why} Compensating controls: versioning with noncurrent versions kept for the retention window "
        "(BAK-6), RETAIN removal policy, S3's multi-AZ durability, TLS-only policy."
    )


@dataclass(frozen=True)
class LogDelivery:
    """Which AWS service delivers into an `AccessLogBucket`, and so why it is SSE-S3 and not replicated."""

    encryption_reason: str  # acknowledges S3DefaultEncryptionKMS
    no_replication_reason: str  # acknowledges S3BucketReplicationEnabled
    # A target of S3 server access logs: log delivery is granted by bucket policy, and cdk-nag does not
    # ask a log target to log its own access. Any other log bucket either logs its access or says why not.
    server_access_log_target: bool


S3_SERVER_ACCESS_LOGS: Final = LogDelivery(
    encryption_reason=(
        "S3 server access log delivery supports only SSE-S3 on the target bucket (SSE-KMS targets "
        "are rejected). Compensating controls: SSE-S3 AES-256 at rest, TLS-only bucket policy, only "
        "logging.s3.amazonaws.com of this account may write, all public access blocked, versioned, "
        "retained; it holds request metadata only, never customer objects."
    ),
    no_replication_reason=_no_replication_reason(
        "Access logs are operational records of this region, not customer data; each region keeps its own."
    ),
    server_access_log_target=True,
)
ALB_ACCESS_LOGS: Final = LogDelivery(
    encryption_reason=(
        "Elastic Load Balancing delivers access logs only to SSE-S3 buckets; compensating controls: the "
        "bucket holds request logs only (no customer content), is TLS-only, private, versioned, retained, "
        "and moves logs to Glacier after 30 days."
    ),
    no_replication_reason=(
        "Load-balancer request logs of this region are operational records, not customer data; "
        "compensating controls: versioning, RETAIN, Glacier lifecycle, and the DR region keeps its own "
        "load-balancer logs."
    ),
    server_access_log_target=False,
)


@dataclass(frozen=True)
class AccessLogBucketProps:
    noncurrent_version_days: int
    archive: LogArchive
    bucket_name: str | None = None
    delivery: LogDelivery = S3_SERVER_ACCESS_LOGS
    # S3 server access logs of this bucket go to `server_access_logs_bucket` (an SSE-S3 access-log
    # bucket, referenced by name); the caller grants logging.s3.amazonaws.com the write into it.
    server_access_logs_bucket: s3.IBucket | None = None
    server_access_logs_prefix: str | None = None
    # The ALB log bucket was deployed with one combined lifecycle rule under this id; a changed
    # rule layout would rewrite a retained bucket's lifecycle, so it keeps it.
    combined_lifecycle_rule_id: str | None = None

    @classmethod
    def from_retention(cls, retention: Retention, bucket_name: str) -> AccessLogBucketProps:
        return cls(retention.noncurrent_version_days, LogArchive.from_retention(retention), bucket_name)


@dataclass(frozen=True)
class SecureBucketProps:
    encryption_key: kms.IKey
    access_log_bucket: s3.IBucket
    access_log_prefix: str  # e.g. "content/"; one prefix per source bucket
    noncurrent_version_days: int
    data_class: str  # the `data-classification` tag value (customer, system, logs, backup)
    archive: LogArchive | None = None  # set for log buckets (BAK-7)
    bucket_name: str | None = None
    replication: ReplicationTarget | None = None  # DR-1: replicate into the DR region
    no_replication_reason: str | None = None  # why a bucket without `replication` needs none
    object_lock: ObjectLock | None = None  # ACC-3: an immutable audit bucket


def _lifecycle_rules(
    noncurrent_version_days: int, archive: LogArchive | None, combined_rule_id: str | None = None
) -> list[s3.LifecycleRule]:
    """Noncurrent versions live for the whole retention window (BAK-6); log archives move to Glacier (BAK-7).
    With `combined_rule_id` both live in one rule of that id."""
    noncurrent = cdk.Duration.days(noncurrent_version_days)
    abort_uploads = cdk.Duration.days(INCOMPLETE_UPLOAD_DAYS)
    keep_noncurrent = s3.LifecycleRule(
        id="NoncurrentVersionsAfterRetentionWindow",
        noncurrent_version_expiration=noncurrent,
        abort_incomplete_multipart_upload_after=abort_uploads,
    )
    if archive is None:
        return [keep_noncurrent]
    glacier = [
        s3.Transition(
            storage_class=s3.StorageClass.GLACIER, transition_after=cdk.Duration.days(archive.transition_days)
        )
    ]
    expiry = cdk.Duration.days(archive.expiry_days)
    if combined_rule_id is not None:
        return [
            s3.LifecycleRule(
                id=combined_rule_id,
                transitions=glacier,
                expiration=expiry,
                noncurrent_version_expiration=noncurrent,
                abort_incomplete_multipart_upload_after=abort_uploads,
            )
        ]
    return [keep_noncurrent, s3.LifecycleRule(id="ArchiveToGlacierThenExpire", transitions=glacier, expiration=expiry)]


class AccessLogBucket(Construct):
    """A log-delivery bucket of one stack (SSE-S3: see the module docstring)."""

    def __init__(self, scope: Construct, id: str, *, props: AccessLogBucketProps) -> None:
        super().__init__(scope, id)
        delivery = props.delivery
        if delivery.server_access_log_target:
            # Grant log delivery by bucket policy (the only way with BUCKET_OWNER_ENFORCED), whether or
            # not the app carries cdk.json's feature flags (the test fixtures do not).
            self.node.set_context(S3_LOG_DELIVERY_BY_POLICY, True)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=props.bucket_name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=_lifecycle_rules(
                props.noncurrent_version_days, props.archive, props.combined_lifecycle_rule_id
            ),
            transition_default_minimum_object_size=_transition_minimum(props.archive),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        tag_data_classification(self.bucket, "logs")
        cfn_bucket = self.bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        if props.server_access_logs_bucket is not None:
            # Set on the L1 resource: the L2 property would try to edit the target's bucket policy,
            # which belongs to the caller (see `AccessLogBucketProps.server_access_logs_bucket`).
            cfn_bucket.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
                destination_bucket_name=props.server_access_logs_bucket.bucket_name,
                log_file_prefix=props.server_access_logs_prefix,
            )
        acknowledge_in_public_packs(cfn_bucket, "S3DefaultEncryptionKMS", delivery.encryption_reason)
        acknowledge_in_public_packs(cfn_bucket, "S3BucketReplicationEnabled", delivery.no_replication_reason)
        if props.server_access_logs_bucket is None and not delivery.server_access_log_target:
            reason = (
                "This bucket is itself a log destination; logging its access into itself would loop; "
                "compensating control: CloudTrail records every management call on it."
            )
            acknowledge_in_public_packs(cfn_bucket, "S3BucketLoggingEnabled", reason)
            acknowledge(cfn_bucket, ["AwsSolutions-S1"], reason)


class SecureBucket(Construct):
    """A KMS-encrypted, versioned, TLS-only, private, access-logged, retained bucket."""

    def __init__(self, scope: Construct, id: str, *, props: SecureBucketProps) -> None:
        super().__init__(scope, id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=props.bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=props.encryption_key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=props.access_log_bucket,
            server_access_logs_prefix=props.access_log_prefix,
            lifecycle_rules=_lifecycle_rules(props.noncurrent_version_days, props.archive),
            transition_default_minimum_object_size=_transition_minimum(props.archive),
            removal_policy=cdk.RemovalPolicy.RETAIN,
            object_lock_enabled=True if props.object_lock is not None else None,
            object_lock_default_retention=props.object_lock.default_retention() if props.object_lock else None,
        )
        tag_data_classification(self.bucket, props.data_class)
        if props.object_lock is not None:
            deny_tampering(self.bucket)
        self.replication: BucketReplication | None = None
        if props.replication is not None:
            self.replication = BucketReplication(
                self, "Replication", bucket=self.bucket, source_key=props.encryption_key, target=props.replication
            )
        elif props.no_replication_reason is not None:
            acknowledge_in_public_packs(
                self.bucket.node.default_child,  # type: ignore[arg-type]
                "S3BucketReplicationEnabled",
                _no_replication_reason(props.no_replication_reason),
            )
        else:
            raise ValueError(f"{id}: replicate the bucket or give no_replication_reason")


class LoggedBuckets:
    """One stack's access-log bucket and the secure buckets that log into it.

    Every stack that keeps data in S3 has the same shape: an SSE-S3 access-log bucket
    (`<id>` of the caller's choosing, usually `AccessLogs`) and KMS buckets whose server
    access logs land in it under `<bucket id lower-cased>/`. Construct ids are the
    caller's, at the stack's scope, so logical ids do not depend on this helper.
    """

    def __init__(self, scope: Construct, id: str, *, retention: Retention, bucket_name: str) -> None:
        self.scope = scope
        self.retention = retention
        self.access_logs = AccessLogBucket(
            scope, id, props=AccessLogBucketProps.from_retention(retention, bucket_name)
        ).bucket

    def secure(
        self,
        id: str,
        *,
        key: kms.IKey,
        data_class: str,
        bucket_name: str,
        archive: bool = False,
        replication: ReplicationTarget | None = None,
        no_replication_reason: str | None = None,
        log_prefix: str | None = None,
        object_lock: ObjectLock | None = None,
    ) -> s3.Bucket:
        """A `SecureBucket`; `archive=True` makes it a log bucket (Glacier, then expiry: BAK-7)."""
        return SecureBucket(
            self.scope,
            id,
            props=SecureBucketProps(
                encryption_key=key,
                access_log_bucket=self.access_logs,
                access_log_prefix=log_prefix or f"{id.lower()}/",
                noncurrent_version_days=self.retention.noncurrent_version_days,
                data_class=data_class,
                archive=LogArchive.from_retention(self.retention) if archive else None,
                bucket_name=bucket_name,
                replication=replication,
                no_replication_reason=no_replication_reason,
                object_lock=object_lock,
            ),
        ).bucket

"""Cross-region replication of a KMS-encrypted bucket with Replication Time Control (DR-1).

- Every new object version and delete marker is replicated into the destination
  bucket in the DR region, re-encrypted with the DR region's customer key (ENC-1);
- S3 Replication Time Control: 99.99 % of objects within 15 minutes (the design object
  RPO), with replication metrics, Sev2 alarms on failed and late replication
  (`replication_alarms`) and S3's per-object missed-threshold event queued for on-call
  (`missed_threshold_watch`);
- the replication role may read only the source's versions and write only replicas
  into the destination, decrypting with the source key and encrypting with the
  destination key, each only through S3 in its region.

Objects that existed before replication was switched on are not replicated by a
rule: copy them once with S3 Batch Replication (see runbooks/failover.md).

With `ReplicationTarget.object_lock` (audit records, ACC-3: patterns/audit_lock.py) both buckets
have S3 Object Lock: S3 refuses to replicate locked objects into a bucket without it
(`DstBucketObjectLockConfigMissing`,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-failure-codes.html), the role also
reads each version's retention and legal hold (`s3:GetObjectRetention`, `s3:GetObjectLegalHold`: the
extra permissions S3 needs to replicate Object Lock versions, "Using Object Lock with S3 Replication",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html), and delete markers are
not replicated: the copy keeps every record whatever happens to the source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from patterns.alerting import severity_alarm
from patterns.iam import ManagedPolicyRole
from patterns.nag_findings import iam5_resource_finding
from policies.acknowledgments import acknowledge

RTC_MINUTES = 15
RULE_ID = "ToDisasterRecoveryRegion"
# Sent per object that Replication Time Control did not replicate within RTC_MINUTES
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html#rtc-notifications);
# S3 delivers replication events to SNS, SQS or Lambda only, never to EventBridge
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html).
MISSED_THRESHOLD_EVENT = "s3:Replication:OperationMissedThreshold"
MISSED_THRESHOLD_QUEUE_RETENTION = cdk.Duration.days(14)  # SQS's maximum: time to read which objects were late


@dataclass(frozen=True)
class ReplicationTarget:
    bucket_name: str  # deterministic (config/topology.py): the DR stage created it first
    region: str
    key_alias: str  # the DR customer key, by alias: its id is not known to the primary region
    role_name: str
    object_lock: bool = False  # both buckets are Object Lock audit buckets (see the module docstring)


def replication_role(
    scope: Construct, id: str, *, bucket: s3.IBucket, source_key: kms.IKey, target: ReplicationTarget, description: str
) -> ManagedPolicyRole:
    """The role S3 assumes to replicate `bucket` (SSE-KMS, `source_key`) into `target`, with exactly the grants
    of https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html."""
    stack = cdk.Stack.of(scope)
    destination_arn = f"arn:{stack.partition}:s3:::{target.bucket_name}"
    destination_keys = f"arn:{stack.partition}:kms:{target.region}:{stack.account}:key/*"
    role = ManagedPolicyRole(
        scope,
        id,
        role_name=target.role_name,
        assumed_by=iam.ServicePrincipal("s3.amazonaws.com"),
        description=description,
    )
    for statement in _replication_statements(
        stack,
        bucket=bucket,
        source_key=source_key,
        target=target,
        destination_arn=destination_arn,
        destination_keys=destination_keys,
    ):
        role.add_to_principal_policy(statement)
    acknowledge(
        role.grants_policy,
        [
            iam5_resource_finding(stack, bucket.arn_for_objects("*")),
            iam5_resource_finding(stack, f"{destination_arn}/*"),
            iam5_resource_finding(stack, destination_keys),
        ],
        "Replication covers every object of the bucket, so the object grants name all keys of the source "
        "and destination bucket; the destination key lives in the other region and is known by alias only, so "
        "the KMS grant is every key of that region narrowed by kms:ResourceAliases and kms:ViaService. "
        "Compensating controls: replication actions only (no reads of current objects, no deletes), S3 as the "
        "only principal.",
    )
    return role


def _replication_statements(
    stack: cdk.Stack,
    *,
    bucket: s3.IBucket,
    source_key: kms.IKey,
    target: ReplicationTarget,
    destination_arn: str,
    destination_keys: str,
) -> tuple[iam.PolicyStatement, ...]:
    """The replication role's grants, a declarative table: read the source, write replicas, each key via S3."""
    return (
        iam.PolicyStatement(
            sid="ReadSourceConfiguration",
            actions=["s3:GetReplicationConfiguration", "s3:ListBucket"],
            resources=[bucket.bucket_arn],
        ),
        iam.PolicyStatement(
            sid="ReadSourceVersions",
            actions=[
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
                *(("s3:GetObjectRetention", "s3:GetObjectLegalHold") if target.object_lock else ()),
            ],
            resources=[bucket.arn_for_objects("*")],
        ),
        iam.PolicyStatement(
            sid="WriteReplicas",
            actions=[
                "s3:ReplicateObject",
                *(() if target.object_lock else ("s3:ReplicateDelete",)),
                "s3:ReplicateTags",
            ],
            resources=[f"{destination_arn}/*"],
        ),
        iam.PolicyStatement(
            sid="DecryptSourceThroughS3",
            actions=["kms:Decrypt"],
            resources=[source_key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
        ),
        iam.PolicyStatement(
            sid="EncryptReplicasThroughS3",
            actions=["kms:Encrypt", "kms:GenerateDataKey"],
            resources=[destination_keys],
            conditions={
                "StringEquals": {"kms:ViaService": f"s3.{target.region}.amazonaws.com"},
                "ForAnyValue:StringEquals": {"kms:ResourceAliases": target.key_alias},
            },
        ),
    )


class BucketReplication(Construct):
    def __init__(
        self, scope: Construct, id: str, *, bucket: s3.Bucket, source_key: kms.IKey, target: ReplicationTarget
    ) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        destination_arn = f"arn:{stack.partition}:s3:::{target.bucket_name}"
        self.role = replication_role(
            self,
            "Role",
            bucket=bucket,
            source_key=source_key,
            target=target,
            description=f"S3 replication into {target.bucket_name} (DR-1)",
        )

        cfn_bucket = bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        minutes = s3.CfnBucket.ReplicationTimeValueProperty(minutes=RTC_MINUTES)
        cfn_bucket.replication_configuration = s3.CfnBucket.ReplicationConfigurationProperty(
            role=self.role.role_arn,
            rules=[
                s3.CfnBucket.ReplicationRuleProperty(
                    id=RULE_ID,
                    status="Enabled",
                    priority=1,
                    filter=s3.CfnBucket.ReplicationRuleFilterProperty(prefix=""),
                    delete_marker_replication=s3.CfnBucket.DeleteMarkerReplicationProperty(
                        status="Disabled" if target.object_lock else "Enabled"
                    ),
                    source_selection_criteria=s3.CfnBucket.SourceSelectionCriteriaProperty(
                        sse_kms_encrypted_objects=s3.CfnBucket.SseKmsEncryptedObjectsProperty(status="Enabled"),
                        replica_modifications=s3.CfnBucket.ReplicaModificationsProperty(status="Enabled"),
                    ),
                    destination=s3.CfnBucket.ReplicationDestinationProperty(
                        bucket=destination_arn,
                        encryption_configuration=s3.CfnBucket.EncryptionConfigurationProperty(
                            replica_kms_key_id=f"arn:{stack.partition}:kms:{target.region}:{stack.account}:"
                            f"{target.key_alias}"
                        ),
                        replication_time=s3.CfnBucket.ReplicationTimeProperty(status="Enabled", time=minutes),
                        metrics=s3.CfnBucket.MetricsProperty(status="Enabled", event_threshold=minutes),
                    ),
                )
            ],
        )


def replication_alarms(
    scope: Construct,
    *,
    source_bucket_name: str,
    target: ReplicationTarget,
    topics: Mapping[int, sns.ITopic],
    name_prefix: str,
) -> dict[str, cloudwatch.Alarm]:
    """Sev2 when the object RPO (DR-1) is at risk: an object S3 failed to replicate, or replication
    running later than the RTC threshold. Both metrics exist because the rule enables replication
    metrics (https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html); S3 publishes
    them per source bucket, destination bucket and rule, and only while there is something to report,
    so missing data is the quiet state."""
    dimensions = {"SourceBucket": source_bucket_name, "DestinationBucket": target.bucket_name, "RuleId": RULE_ID}
    five_minutes = cdk.Duration.minutes(5)

    def metric(name: str, statistic: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="AWS/S3", metric_name=name, dimensions_map=dimensions, statistic=statistic, period=five_minutes
        )

    return {
        "FailedReplication": severity_alarm(
            scope,
            "ReplicationFailedAlarm",
            topics=topics,
            severity=2,
            summary=f"objects of {source_bucket_name} failed to replicate to the DR region (DR-1)",
            metric=metric("OperationsFailedReplication", "Sum"),
            threshold=1,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_name=f"{name_prefix}-content-replication-failed",
        ),
        "ReplicationLate": severity_alarm(
            scope,
            "ReplicationLatencyAlarm",
            topics=topics,
            severity=2,
            summary=(
                f"replication of {source_bucket_name} to the DR region is later than the "
                f"{RTC_MINUTES}-minute object RPO (DR-1)"
            ),
            metric=metric("ReplicationLatency", "Maximum"),
            threshold=RTC_MINUTES * 60,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_name=f"{name_prefix}-content-replication-late",
        ),
    }


def missed_threshold_watch(
    scope: Construct,
    *,
    bucket: s3.Bucket,
    bucket_name: str,
    queue_key: kms.IKey,
    topics: Mapping[int, sns.ITopic],
    name_prefix: str,
) -> tuple[sqs.Queue, cloudwatch.Alarm]:
    """DR-1: every object that missed the RTC threshold is queued (its key and version in the message), and
    the queue's first message pages Sev2 once, instead of one page per late object.

    The queue is encrypted with `queue_key` (the `system` key, whose policy admits S3 event notifications:
    patterns/keys.py); only S3, for this bucket of this account, may send to it. `bucket_name` is the
    bucket's literal name: the queue policy must not refer to the bucket, which refers to the queue."""
    queue = _missed_threshold_queue(scope, bucket_name=bucket_name, queue_key=queue_key, name_prefix=name_prefix)
    _notify_missed_threshold(bucket, queue)
    alarm = severity_alarm(
        scope,
        "ReplicationMissedThresholdAlarm",
        topics=topics,
        severity=2,
        summary=(
            f"objects of {bucket_name} took longer than the {RTC_MINUTES}-minute object RPO to replicate "
            f"(DR-1); the queue {name_prefix}-content-replication-missed-threshold names them"
        ),
        metric=queue.metric_approximate_number_of_messages_visible(period=cdk.Duration.minutes(5), statistic="Maximum"),
        threshold=1,
        comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_name=f"{name_prefix}-content-replication-missed-threshold",
    )
    return queue, alarm


def _missed_threshold_queue(scope: Construct, *, bucket_name: str, queue_key: kms.IKey, name_prefix: str) -> sqs.Queue:
    """The encrypted queue only S3, for this bucket of this account, may send to."""
    stack = cdk.Stack.of(scope)
    bucket_arn = f"arn:{stack.partition}:s3:::{bucket_name}"
    queue = sqs.Queue(
        scope,
        "ReplicationMissedThresholdQueue",
        queue_name=f"{name_prefix}-content-replication-missed-threshold",
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=queue_key,
        enforce_ssl=True,
        retention_period=MISSED_THRESHOLD_QUEUE_RETENTION,
    )
    queue.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowReplicationEventsOfTheContentBucket",
            principals=[iam.ServicePrincipal("s3.amazonaws.com")],
            actions=["sqs:SendMessage"],
            resources=[queue.queue_arn],
            conditions={
                "ArnEquals": {"aws:SourceArn": bucket_arn},
                "StringEquals": {"aws:SourceAccount": stack.account},
            },
        )
    )
    acknowledge(
        queue.node.default_child,  # type: ignore[arg-type]
        ["AwsSolutions-SQS3"],
        "This queue is the record of late replications for on-call, read by people, never consumed by a program, "
        "so no message can fail processing and need a dead-letter queue. Compensating controls: its first "
        "message pages Sev2 (the missed-threshold alarm), messages are kept 14 days, only S3 for this bucket "
        "may send, KMS-encrypted and TLS-only.",
    )
    return queue


def _notify_missed_threshold(bucket: s3.Bucket, queue: sqs.Queue) -> None:
    cfn_bucket = bucket.node.default_child
    assert isinstance(cfn_bucket, s3.CfnBucket)
    cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
        queue_configurations=[
            s3.CfnBucket.QueueConfigurationProperty(event=MISSED_THRESHOLD_EVENT, queue=queue.queue_arn)
        ]
    )
    # S3 checks that it may send to the queue when the configuration is put: the policy must exist first.
    policy = queue.node.find_child("Policy")
    cfn_bucket.node.add_dependency(policy)

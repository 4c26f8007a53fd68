"""AuditStack: the multi-region CloudTrail of the deployment's account (ACC-3).

Built in the primary region only: the trail is multi-region, so it records the
DR region too. Its bucket is an Object Lock audit bucket replicated into the DR
region's locked audit archive (stacks/audit_archive.py, part of the DR foundation).
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from config import Deployment
from config.topology import DR, PRIMARY, FailoverTopology
from patterns.audit_lock import ObjectLock
from patterns.audit_trail import AuditTrail, AuditTrailProps
from patterns.bucket_replication import ReplicationTarget
from patterns.keys import DataClassKeyRing
from patterns.log_retention import retention_days
from patterns.secure_bucket import AccessLogBucket, AccessLogBucketProps, LogArchive
from patterns.security_alerts import GlobalSecurityFilters, GlobalSecurityFiltersProps
from stacks.base import PlatformStack


def audit_archive_target(topology: FailoverTopology, source: str) -> ReplicationTarget:
    """The DR region's locked audit archive (stacks/audit_archive.py) as the replication target of the
    primary's `source` bucket (`audit`: the trail's, `evidence`: OPS-6), re-encrypted with the DR logs key."""
    return ReplicationTarget(
        bucket_name=topology.audit_bucket(DR),
        region=topology.dr_region,
        key_alias=topology.logs_key_alias(),
        role_name=topology.audit_replication_role_name(source),
        object_lock=True,
    )


class AuditStack(PlatformStack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        deployment: Deployment,
        role: str,
        key_ring: DataClassKeyRing,
        topics: Mapping[int, sns.ITopic],
    ) -> None:
        super().__init__(
            scope,
            id,
            deployment=deployment,
            role=role,
            summary="multi-region CloudTrail, validated and encrypted, to an Object Lock bucket copied to DR (ACC-3)",
        )
        self.access_log_bucket = self._access_log_bucket(deployment)
        self.audit_trail = self._audit_trail(deployment, key_ring)
        cdk.CfnOutput(self, "TrailArn", value=self.audit_trail.trail_arn)
        cdk.CfnOutput(self, "TrailBucketName", value=self.audit_trail.bucket.bucket_name)
        cdk.CfnOutput(self, "TrailLogGroup", value=self.audit_trail.log_group.log_group_name)
        # Global services' events reach only this trail's log group, never a regional EventBridge bus.
        self.security_filters = self._global_security_filters(deployment, topics)

    def _access_log_bucket(self, deployment: Deployment) -> s3.Bucket:
        return AccessLogBucket(
            self,
            "AccessLogs",
            props=AccessLogBucketProps.from_retention(
                deployment.retention, f"{self.name_prefix}-audit-access-logs-{self.account}"
            ),
        ).bucket

    def _audit_trail(self, deployment: Deployment, key_ring: DataClassKeyRing) -> AuditTrail:
        """The multi-region trail into the primary's Object Lock bucket, copied to DR (ACC-3)."""
        retention = deployment.retention
        topology = FailoverTopology.of(deployment)
        return AuditTrail(
            self,
            "AuditTrail",
            props=AuditTrailProps(
                trail_name=f"{deployment.name}-audit",
                bucket_name=topology.audit_bucket(PRIMARY),
                logs_key=key_ring.logs,
                access_log_bucket=self.access_log_bucket,
                noncurrent_version_days=retention.noncurrent_version_days,
                archive=LogArchive.from_retention(retention),
                log_retention=retention_days(retention.log_retention_days),
                object_lock=ObjectLock.from_retention(retention),
                replication=audit_archive_target(topology, "audit"),
                # The customer content buckets of both regions (deterministic names, config/topology.py),
                # and the DATA-2 export bucket (stacks/operations.py), whose
                # downloads must be auditable.
                data_event_bucket_names=(
                    *(topology.content_bucket(r) for r in (PRIMARY, DR)),
                    topology.export_bucket(),
                ),
            ),
        )

    def _global_security_filters(
        self, deployment: Deployment, topics: Mapping[int, sns.ITopic]
    ) -> GlobalSecurityFilters:
        topology = FailoverTopology.of(deployment)
        return GlobalSecurityFilters(
            self,
            "GlobalSecurityEvents",
            props=GlobalSecurityFiltersProps(
                name_prefix=self.name_prefix,
                log_group=self.audit_trail.log_group,
                break_glass_role_name=deployment.break_glass_role_name,
                boundary_policy_names=deployment.boundary_policy_names,
                platform_regions=(topology.primary_region, topology.dr_region),
                topics=topics,
            ),
        )

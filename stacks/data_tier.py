"""The data tier's interface, defined once for both data stacks of a deployment.

`DataStack` (the primary) and `StandbyDataStack` (the DR standby, DR-1) each build a
PostgreSQL database and a Redis and offer them to the web tier of their region as a
`DataTier`; the web tier reaches them through `DataStoreAccess`, which adds the
region's content bucket (DataStack's own, or StandbyStorageStack's replica).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns

from patterns.alerting import secret_replication_failed_rule
from patterns.encrypted_postgres import window_before
from patterns.keys import DataClassKeyRing
from patterns.redis import EncryptedRedis, RedisProps
from stacks.base import PlatformStack


@dataclass(frozen=True)
class DataTier:
    """What a region's data stack offers the web tier of that region."""

    database_security_group: ec2.ISecurityGroup
    database_port: int
    database_secret: secretsmanager.ISecret
    database_endpoint: str
    cache: EncryptedRedis  # IAM-authenticated Redis: the web role gets elasticache:Connect

    @property
    def cache_security_group(self) -> ec2.ISecurityGroup:
        return self.cache.security_group

    @property
    def cache_port(self) -> int:
        return self.cache.port

    @property
    def cache_endpoint(self) -> str:
        return self.cache.replication_group.attr_primary_end_point_address


class ContentBuckets(Protocol):
    """A region's content bucket by its literal name, and the access-log bucket beside it."""

    @property
    def content_bucket_name(self) -> str: ...

    @property
    def access_log_bucket(self) -> s3.IBucket: ...


@dataclass(frozen=True)
class DataStoreAccess:
    """What the web tier may reach in its own region: the data tier and the content bucket."""

    tier: DataTier
    content_bucket_name: str  # literal name (see AccessStack): readable, no extra dependency
    content_key: kms.IKey
    server_access_logs_bucket: s3.IBucket

    @classmethod
    def of(cls, tier: DataTier, *, content: ContentBuckets, content_key: kms.IKey) -> DataStoreAccess:
        return cls(
            tier=tier,
            content_bucket_name=content.content_bucket_name,
            content_key=content_key,
            server_access_logs_bucket=content.access_log_bucket,
        )


def data_tier_redis(
    stack: PlatformStack, *, key_ring: DataClassKeyRing, vpc: ec2.IVpc, replicas: int
) -> EncryptedRedis:
    """The Redis of a region's data tier, sized, windowed and retained from the stack's deployment;
    the data stacks differ only in how many replicas they run."""
    deployment = stack.deployment
    window = deployment.maintenance
    return EncryptedRedis(
        stack,
        "Redis",
        props=RedisProps(
            vpc=vpc,
            replication_group_id=f"{stack.name_prefix}-redis",
            node_type=deployment.sizing.cache_node_type,
            replicas=replicas,
            storage_key=key_ring.customer,
            maintenance_window=window.rds_window,
            snapshot_window=window_before(window.start_utc, hours_before=4),
            snapshot_retention_days=deployment.retention.rds_automated_backup_days,
        ),
    )


def master_secret_replication_watch(stack: PlatformStack, topics: Mapping[int, sns.ITopic]) -> events.CfnRule:
    """Sev2 when Secrets Manager fails to replicate a secret (DR-1), in both regions of a deployment with a
    standby: the primary's master secret and its replica in the DR region."""
    return secret_replication_failed_rule(
        stack,
        "SecretReplicationFailedRule",
        topics=topics,
        rule_name=f"{stack.name_prefix}-secret-replication-failed",
    )

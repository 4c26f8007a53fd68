"""DataStack: PostgreSQL, Redis, the content and log buckets, and their alarms.

HOST-4, HOST-5, ENC-1, ENC-3, ENC-4, BAK-3, BAK-6, BAK-7, BAK-8, OPS-2, OPS-4, OPS-5.

The web tier (another stack) reaches the data tier by adding ingress to
`db_security_group` / `cache_security_group` on `database_port` / `cache_port`. With a
warm standby (DR-1) the content bucket replicates into the DR region and the master
secret is replicated there by Secrets Manager.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from config import Deployment
from config.topology import DR, FailoverTopology
from patterns.alerting import severity_alarm
from patterns.bucket_replication import ReplicationTarget, missed_threshold_watch, replication_alarms
from patterns.encrypted_postgres import (
    EncryptedPostgres,
    EncryptedPostgresProps,
    HostedRotationInputs,
)
from patterns.keys import DataClassKeyRing
from patterns.log_retention import retention_days
from patterns.secure_bucket import LoggedBuckets
from stacks.base import PlatformStack
from stacks.data_tier import DataTier, data_tier_redis, master_secret_replication_watch

GIB = 1024**3
# RDS PostgreSQL default max_connections = LEAST(DBInstanceClassMemory / 9531392, 5000).
_MEMORY_GIB_PER_VCPU = {"r": 8, "m": 4, "x": 16}
_VCPUS = {"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32, "12xlarge": 48, "16xlarge": 64}
_BURSTABLE_MEMORY_GIB = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}


# No backup plan selects S3 (patterns/backup_plan.py: databases and compute only), so the files of a
# deployment without a standby are recovered from their own noncurrent versions, never from the DR vault.
NO_STANDBY_REASON = (
    "This deployment has no warm standby (config standby.enabled = false; DR-1 requires one in production): "
    "its files are not copied out of the region and are recovered from their noncurrent versions in this "
    "bucket; only its database and instance backups are copied to the DR vault."
)


def _content_replication(deployment: Deployment) -> ReplicationTarget | None:
    """DR-1: with a warm standby, customer files replicate into the DR region's bucket."""
    if not deployment.standby.enabled:
        return None
    topology = FailoverTopology.of(deployment)
    return ReplicationTarget(
        bucket_name=topology.content_bucket(DR),
        region=deployment.dr_region,
        key_alias=topology.customer_key_alias(),
        role_name=topology.replication_role_name(),
    )


def _rotation_inputs(stack: cdk.Stack, topology: FailoverTopology) -> HostedRotationInputs:
    """SSM-typed parameters of this stack, resolved when its change set is created (issue 17 item 4)."""
    return HostedRotationInputs(
        key_arn=ssm.StringParameter.value_for_string_parameter(stack, topology.rotation_key_parameter()),
        subnet_ids=ssm.StringParameter.value_for_string_parameter(stack, topology.rotation_subnets_parameter()),
    )


def estimated_max_connections(instance_class: str) -> int:
    """PostgreSQL's default connection limit for an RDS class such as `db.r7g.large`."""
    _, family, size = instance_class.split(".", 2)
    if family.startswith("t"):
        memory_gib = _BURSTABLE_MEMORY_GIB.get(size, 1)
    else:
        memory_gib = _MEMORY_GIB_PER_VCPU.get(family[0], 4) * _VCPUS.get(size, 2)
    return min(memory_gib * GIB // 9531392, 5000)


class DataStack(PlatformStack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        deployment: Deployment,
        role: str,
        key_ring: DataClassKeyRing,
        vpc: ec2.IVpc,
        topics: Mapping[int, sns.ITopic],
    ) -> None:
        super().__init__(
            scope,
            id,
            deployment=deployment,
            role=role,
            summary="PostgreSQL, Redis, content and log buckets, data-tier alarms",
        )
        # Deterministic, so the Access and Web stacks can scope IAM to it without a reference.
        self.content_bucket_name = self.names.content_bucket(role)
        self.access_log_bucket, self.log_bucket, self.content_bucket = self._buckets(deployment, key_ring)
        self.postgres = self._postgres(deployment, key_ring, vpc)
        self.database = self.postgres.instance
        self.redis = data_tier_redis(self, key_ring=key_ring, vpc=vpc, replicas=deployment.sizing.cache_replicas)
        self.cache = self.redis.replication_group
        self.tier = DataTier(
            database_security_group=self.postgres.security_group,
            database_port=self.postgres.port,
            database_secret=self.postgres.secret,
            database_endpoint=self.database.db_instance_endpoint_address,
            cache=self.redis,
        )
        sizing = deployment.sizing
        self._alarms(topics, sizing.db_allocated_storage_gib, sizing.db_instance_class)
        self._replication_watch(deployment, key_ring, topics)
        if deployment.standby.enabled:
            self.secret_replication_rule = master_secret_replication_watch(self, topics)
        self._outputs()

    def _buckets(self, deployment: Deployment, key_ring: DataClassKeyRing) -> tuple[s3.Bucket, s3.Bucket, s3.Bucket]:
        """The access-log bucket, the logs bucket and the content bucket (HOST-5), in that order."""
        retention = deployment.retention
        buckets = LoggedBuckets(
            self, "AccessLogs", retention=retention, bucket_name=f"{self.name_prefix}-access-logs-{self.account}"
        )
        log_bucket = buckets.secure(
            "Logs",
            key=key_ring.logs,
            data_class="logs",
            archive=True,
            bucket_name=f"{self.name_prefix}-logs-{self.account}",
            no_replication_reason="Application and platform logs of this region; each region keeps its own.",
        )
        # HOST-5: objects of tenant T live under `tenants/<T>/` (patterns.tagging.TENANT_PREFIX_TEMPLATE)
        # and carry the object tag tenant-id=T, so IAM conditions and DATA-1 removal can scope by tenant.
        content_bucket = buckets.secure(
            "Content",
            key=key_ring.customer,
            data_class="customer",
            bucket_name=self.content_bucket_name,
            replication=_content_replication(deployment),
            no_replication_reason=None if deployment.standby.enabled else NO_STANDBY_REASON,
        )
        return buckets.access_logs, log_bucket, content_bucket

    def _postgres(self, deployment: Deployment, key_ring: DataClassKeyRing, vpc: ec2.IVpc) -> EncryptedPostgres:
        retention = deployment.retention
        sizing = deployment.sizing
        window = deployment.maintenance
        return EncryptedPostgres(
            self,
            "Postgres",
            props=EncryptedPostgresProps(
                vpc=vpc,
                instance_identifier=self.names.db_instance_id(self.role),
                instance_class=sizing.db_instance_class,
                allocated_storage_gib=sizing.db_allocated_storage_gib,
                max_allocated_storage_gib=sizing.db_max_allocated_storage_gib,
                multi_az=sizing.db_multi_az,
                storage_key=key_ring.customer,
                secret_key=key_ring.system,
                logs_key=key_ring.logs,
                backup_retention_days=retention.rds_automated_backup_days,
                maintenance_window=window.rds_window,
                maintenance_start_utc=window.start_utc,
                log_retention=retention_days(retention.log_retention_days),
                secret_replica=(deployment.dr_region, self.names.key_alias("system"))
                if deployment.standby.enabled
                else None,
                rotation_inputs=_rotation_inputs(self, FailoverTopology.of(deployment)),
            ),
        )

    def _replication_watch(
        self, deployment: Deployment, key_ring: DataClassKeyRing, topics: Mapping[int, sns.ITopic]
    ) -> None:
        """With a standby: alarms on failed and late content replication, and the missed-threshold queue (DR-1)."""
        replication = _content_replication(deployment)
        if replication is None:
            return
        self.alarms.update(
            replication_alarms(
                self,
                source_bucket_name=self.content_bucket_name,
                target=replication,
                topics=topics,
                name_prefix=self.name_prefix,
            )
        )
        self.missed_threshold_queue, self.alarms["ReplicationMissedThreshold"] = missed_threshold_watch(
            self,
            bucket=self.content_bucket,
            bucket_name=self.content_bucket_name,
            queue_key=key_ring.system,
            topics=topics,
            name_prefix=self.name_prefix,
        )

    def _outputs(self) -> None:
        cdk.CfnOutput(self, "DatabaseEndpoint", value=self.database.db_instance_endpoint_address)
        cdk.CfnOutput(self, "DatabaseSecretArn", value=self.postgres.secret.secret_arn)
        cdk.CfnOutput(self, "CacheEndpoint", value=self.cache.attr_primary_end_point_address)
        cdk.CfnOutput(self, "ContentBucketName", value=self.content_bucket.bucket_name)
        cdk.CfnOutput(self, "LogBucketName", value=self.log_bucket.bucket_name)

    def _alarms(self, topics: Mapping[int, sns.ITopic], allocated_gib: int, instance_class: str) -> None:
        five_minutes = cdk.Duration.minutes(5)
        db = self.database
        max_connections = estimated_max_connections(instance_class)
        self.alarms = {
            "DbCpu": severity_alarm(
                self,
                "DbCpuAlarm",
                topics=topics,
                severity=2,
                summary="PostgreSQL CPU above 80% for 15 minutes",
                metric=db.metric_cpu_utilization(period=five_minutes),
                threshold=80,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            ),
            "DbFreeStorage": severity_alarm(
                self,
                "DbFreeStorageAlarm",
                topics=topics,
                severity=1,
                summary="PostgreSQL free storage below 10% of the allocated storage",
                metric=db.metric_free_storage_space(period=five_minutes, statistic="Minimum"),
                threshold=allocated_gib * GIB // 10,
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=2,
            ),
            "DbConnections": severity_alarm(
                self,
                "DbConnectionsAlarm",
                topics=topics,
                severity=3,
                summary=f"PostgreSQL connections above 80% of about {max_connections}",
                metric=db.metric_database_connections(period=five_minutes, statistic="Maximum"),
                threshold=max_connections * 8 // 10,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            ),
            "CacheCpu": severity_alarm(
                self,
                "CacheCpuAlarm",
                topics=topics,
                severity=2,
                summary="Redis engine CPU above 80% on any node for 15 minutes",
                metric=self.cache_metric("EngineCPUUtilization", "Maximum"),
                threshold=80,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            ),
            "CacheEvictions": severity_alarm(
                self,
                "CacheEvictionsAlarm",
                topics=topics,
                severity=3,
                summary="Redis evicting keys (more than 100 in 5 minutes on any node): memory pressure",
                metric=self.cache_metric("Evictions", "Sum"),
                threshold=100,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
            ),
        }

    def cache_metric(self, name: str, statistic: str) -> cloudwatch.IMetric:
        """The worst value of `name` over every node of the replication group."""
        members = {
            f"m{index}": cloudwatch.Metric(
                namespace="AWS/ElastiCache",
                metric_name=name,
                dimensions_map={"CacheClusterId": cluster_id},
                statistic=statistic,
                period=cdk.Duration.minutes(5),
            )
            for index, cluster_id in enumerate(self.redis.member_cluster_ids)
        }
        return cloudwatch.MathExpression(
            expression=f"MAX([{','.join(members)}])",
            using_metrics=members,
            label=f"Redis {name} (worst node)",
            period=cdk.Duration.minutes(5),
        )

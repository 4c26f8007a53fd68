"""The DR region's warm standby (DR-1): the replica bucket (foundation) and the data tier
that the standby web tier serves from after a promotion.

Everything about the primary comes from configuration (`config/topology.py`): the
source database's ARN, the secret's name. Nothing here reads the primary region.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct

from config import Deployment
from config.topology import DR, PRIMARY, FailoverTopology
from patterns.alerting import severity_alarm
from patterns.bucket_replication import ReplicationTarget, replication_role
from patterns.encrypted_postgres import DEFAULT_PORT
from patterns.keys import DataClassKeyRing
from patterns.log_retention import retention_days
from patterns.postgres_replica import EncryptedPostgresReplica, PostgresReplicaProps
from patterns.secure_bucket import LoggedBuckets
from stacks.base import PlatformStack
from stacks.data_tier import DataTier, data_tier_redis, master_secret_replication_watch


class StandbyStorageStack(PlatformStack):
    """The bucket the primary's content bucket replicates into (foundation: it must exist
    before the primary's replication rule names it)."""

    def __init__(self, scope: Construct, id: str, *, deployment: Deployment, key_ring: DataClassKeyRing) -> None:
        super().__init__(
            scope,
            id,
            deployment=deployment,
            role=DR,
            summary="replica of the content bucket (versioned, DR customer key, TLS-only; DR-1)",
        )
        topology = FailoverTopology.of(deployment)
        retention = deployment.retention
        self.content_bucket_name = topology.content_bucket(DR)
        buckets = LoggedBuckets(
            self, "AccessLogs", retention=retention, bucket_name=f"{self.name_prefix}-access-logs-{self.account}"
        )
        self.access_log_bucket = buckets.access_logs
        self.content_bucket = buckets.secure(
            "Content",
            key=key_ring.customer,
            data_class="customer",
            bucket_name=self.content_bucket_name,
            no_replication_reason=(
                "This bucket is the cross-region replica of the primary's content bucket (DR-1); the "
                "failback runbook replicates it back while the DR region serves."
            ),
        )
        # Dormant: no rule names it until failback puts the DR -> primary rule on this bucket (DR-1).
        self.reverse_replication_role = replication_role(
            self,
            "ReverseReplicationRole",
            bucket=self.content_bucket,
            source_key=key_ring.customer,
            target=ReplicationTarget(
                bucket_name=topology.content_bucket(PRIMARY),
                region=topology.primary_region,
                key_alias=topology.customer_key_alias(),
                role_name=topology.reverse_replication_role_name(),
            ),
            description=f"S3 replication back into {topology.content_bucket(PRIMARY)} during failback (DR-1)",
        )
        cdk.CfnOutput(self, "ContentBucketName", value=self.content_bucket.bucket_name)
        cdk.CfnOutput(self, "ReverseReplicationRoleArn", value=self.reverse_replication_role.role_arn)


class StandbyDataStack(PlatformStack):
    """The cross-region replica with its lag alarm, and Redis, for the standby web tier."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        deployment: Deployment,
        key_ring: DataClassKeyRing,
        vpc: ec2.IVpc,
        topics: Mapping[int, sns.ITopic],
    ) -> None:
        super().__init__(
            scope,
            id,
            deployment=deployment,
            role=DR,
            summary="encrypted cross-region PostgreSQL replica with a ReplicaLag alarm, Redis (DR-1)",
        )
        self.replica = self._replica(deployment, key_ring, vpc)
        master_secret = self._replicated_master_secret(deployment, key_ring)
        self.replica_lag_alarm = self._replica_lag_alarm(deployment, topics)
        self.secret_replication_rule = master_secret_replication_watch(self, topics)
        self._capacity_alarms(topics, deployment)
        # A smaller Redis than the primary's (at most one replica) until the DR region serves.
        self.redis = data_tier_redis(
            self, key_ring=key_ring, vpc=vpc, replicas=min(deployment.sizing.cache_replicas, 1)
        )
        self.tier = DataTier(
            database_security_group=self.replica.security_group,
            database_port=self.replica.port,
            database_secret=master_secret,
            database_endpoint=self.replica.endpoint_address,
            cache=self.redis,
        )
        cdk.CfnOutput(self, "ReplicaEndpoint", value=self.tier.database_endpoint)
        cdk.CfnOutput(self, "ReplicaLagAlarmName", value=self.replica_lag_alarm.alarm_name)
        cdk.CfnOutput(self, "CacheEndpoint", value=self.tier.cache_endpoint)

    def _replica(self, deployment: Deployment, key_ring: DataClassKeyRing, vpc: ec2.IVpc) -> EncryptedPostgresReplica:
        topology = FailoverTopology.of(deployment)
        sizing = deployment.sizing
        window = deployment.maintenance
        return EncryptedPostgresReplica(
            self,
            "Replica",
            props=PostgresReplicaProps(
                vpc=vpc,
                instance_identifier=topology.db_instance_id(DR),
                source_instance_arn=topology.db_instance_arn(PRIMARY),
                instance_class=deployment.db_instance_class_for(deployment.dr_region),
                storage_key=key_ring.customer,
                logs_key=key_ring.logs,
                port=DEFAULT_PORT,
                max_allocated_storage_gib=sizing.db_max_allocated_storage_gib,
                maintenance_window=window.rds_window,
                log_retention=retention_days(deployment.retention.log_retention_days),
            ),
        )

    def _replicated_master_secret(self, deployment: Deployment, key_ring: DataClassKeyRing) -> secretsmanager.ISecret:
        """The primary's master secret, replicated into this region by Secrets Manager."""
        topology = FailoverTopology.of(deployment)
        return secretsmanager.Secret.from_secret_attributes(
            self,
            "ReplicatedMasterSecret",
            secret_partial_arn=self.format_arn(
                service="secretsmanager",
                resource="secret",
                resource_name=f"{topology.db_instance_id(PRIMARY)}/master",
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            ),
            encryption_key=key_ring.system,
        )

    def _replica_lag_alarm(self, deployment: Deployment, topics: Mapping[int, sns.ITopic]) -> cloudwatch.Alarm:
        topology = FailoverTopology.of(deployment)
        # An idle PostgreSQL source makes the replica report up to 5 minutes of lag (RDS writes a heartbeat only
        # every few minutes; https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Monitoring.html):
        # the Minimum over 5 minutes drops with each heartbeat, so only lag that never recovers for 10 minutes
        # pages. After promotion the writer publishes no ReplicaLag at all: missing data is not breaching, so
        # the alarm returns to OK instead of paging for as long as DR serves.
        return severity_alarm(
            self,
            "ReplicaLagAlarm",
            topics=topics,
            severity=2,
            summary=(
                f"PostgreSQL replica more than {deployment.standby.replica_lag_alarm_seconds} s behind the "
                "primary (the design database RPO, DR-1) throughout 10 minutes"
            ),
            metric=cloudwatch.Metric(
                namespace="AWS/RDS",
                metric_name="ReplicaLag",
                dimensions_map={"DBInstanceIdentifier": topology.db_instance_id(DR)},
                statistic="Minimum",
                period=cdk.Duration.minutes(5),
            ),
            threshold=deployment.standby.replica_lag_alarm_seconds,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=2,
            datapoints_to_alarm=2,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_name=topology.replica_lag_alarm_name,
        )

    def _capacity_alarms(self, topics: Mapping[int, sns.ITopic], deployment: Deployment) -> None:
        """The same CPU and storage alarms as the writer (OPS-2): the replica becomes the writer."""
        dimensions = {"DBInstanceIdentifier": FailoverTopology.of(deployment).db_instance_id(DR)}

        def metric(name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/RDS",
                metric_name=name,
                dimensions_map=dimensions,
                statistic=statistic,
                period=cdk.Duration.minutes(5),
            )

        self.cpu_alarm = severity_alarm(
            self,
            "ReplicaCpuAlarm",
            topics=topics,
            severity=2,
            summary="PostgreSQL replica CPU above 80% for 15 minutes",
            metric=metric("CPUUtilization", "Average"),
            threshold=80,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )
        self.storage_alarm = severity_alarm(
            self,
            "ReplicaFreeStorageAlarm",
            topics=topics,
            severity=1,
            summary="PostgreSQL replica free storage below 10% of the primary's allocated storage",
            metric=metric("FreeStorageSpace", "Minimum"),
            threshold=deployment.sizing.db_allocated_storage_gib * 1024**3 // 10,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=2,
        )

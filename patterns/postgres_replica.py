"""A cross-region, encrypted read replica of the primary PostgreSQL (DR-1).

The source is addressed by its ARN, built from configuration (`config/topology.py`):
the DR region needs nothing from the primary region at deploy time but the source
instance itself. The replica is encrypted with the DR region's `customer` key (a
cross-region replica of an encrypted instance must name a key of its own region),
lives in isolated subnets behind its own security group, enforces TLS (ENC-3) through
its own parameter group, and exports its logs to encrypted groups (BAK-7). It is
retained on stack deletion and protected from deletion: after a promotion it is the
writer and holds the data (BAK-8).
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from constructs import Construct

from patterns.encrypted_postgres import (
    ENGINE_VERSION,
    LOG_EXPORTS,
    enhanced_monitoring_log_group,
    exported_log_groups,
    grant_enhanced_monitoring,
    monitoring_role,
    tls_parameter_group,
)
from patterns.network import closed_security_group
from patterns.retention import keep_with
from patterns.tagging import BACKUP_TIER_STANDBY, tag_backup_tier, tag_data_classification
from policies.acknowledgments import acknowledge


@dataclass(frozen=True)
class PostgresReplicaProps:
    vpc: ec2.IVpc
    instance_identifier: str
    source_instance_arn: str
    instance_class: str  # the DR region's class (Deployment.db_instance_class_for): the primary's size, offered there
    storage_key: kms.IKey  # the DR region's `customer` key
    logs_key: kms.IKey
    port: int
    max_allocated_storage_gib: int
    maintenance_window: str
    log_retention: logs.RetentionDays


class EncryptedPostgresReplica(Construct):
    """Build in order: security group and subnet group, TLS parameter group, log groups, monitoring
    role, the replica instance; then keep, tag and acknowledge it."""

    def __init__(self, scope: Construct, id: str, *, props: PostgresReplicaProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self.port = props.port
        self.instance_identifier = props.instance_identifier
        self.security_group, self.subnet_group = self._network()
        engine = rds.DatabaseInstanceEngine.postgres(version=ENGINE_VERSION)
        self.parameter_group = tls_parameter_group(self, engine, props.instance_identifier)
        self.log_groups = self._log_groups()
        self.monitoring_role = monitoring_role(self, props.instance_identifier)
        self.instance = self._instance()
        self._keep_and_tag(self.instance)
        self._acknowledge(self.instance)

    def _network(self) -> tuple[ec2.SecurityGroup, rds.SubnetGroup]:
        props = self.props
        security_group = closed_security_group(
            self, "SecurityGroup", vpc=props.vpc, description=f"{props.instance_identifier}: PostgreSQL clients only"
        )
        subnet_group = rds.SubnetGroup(
            self,
            "Subnets",
            vpc=props.vpc,
            description=f"{props.instance_identifier}: isolated subnets",
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        )
        return security_group, subnet_group

    def _log_groups(self) -> dict[str, logs.LogGroup]:
        """The exported PostgreSQL logs and enhanced monitoring, encrypted (BAK-7)."""
        props = self.props
        log_groups = exported_log_groups(self, props.instance_identifier, props.logs_key, props.log_retention)
        log_groups["enhanced-monitoring"] = enhanced_monitoring_log_group(self, props.logs_key, props.log_retention)
        return log_groups

    def _instance(self) -> rds.CfnDBInstance:
        props = self.props
        return rds.CfnDBInstance(
            self,
            "Instance",
            db_instance_identifier=props.instance_identifier,
            source_db_instance_identifier=props.source_instance_arn,
            source_region=None,
            db_instance_class=props.instance_class,
            kms_key_id=props.storage_key.key_arn,
            db_subnet_group_name=self.subnet_group.subnet_group_name,
            vpc_security_groups=[self.security_group.security_group_id],
            db_parameter_group_name=self.parameter_group.bind_to_instance().parameter_group_name,
            port=str(props.port),
            publicly_accessible=False,
            multi_az=False,  # scaled down while standing by; the failover runbook turns Multi-AZ on
            storage_type="gp3",
            max_allocated_storage=props.max_allocated_storage_gib,
            enable_iam_database_authentication=True,
            enable_performance_insights=True,
            performance_insights_kms_key_id=props.storage_key.key_arn,
            monitoring_interval=60,
            monitoring_role_arn=self.monitoring_role.role_arn,
            enable_cloudwatch_logs_exports=list(LOG_EXPORTS),
            preferred_maintenance_window=props.maintenance_window,
            auto_minor_version_upgrade=True,
            copy_tags_to_snapshot=True,
            deletion_protection=True,
            ca_certificate_identifier="rds-ca-rsa2048-g1",
        )

    def _keep_and_tag(self, instance: rds.CfnDBInstance) -> None:
        # BAK-8; deletion protection refuses a delete, so a failed first create's rollback keeps it
        # and what it uses (patterns/retention.py).
        instance.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        keep_with(self.security_group, self.subnet_group, self.parameter_group)
        for log_group in self.log_groups.values():
            instance.node.add_dependency(log_group)
        tag_backup_tier(instance, BACKUP_TIER_STANDBY)
        tag_data_classification(instance, "customer")
        grant_enhanced_monitoring(self.monitoring_role, instance.attr_dbi_resource_id)

    def _acknowledge(self, instance: rds.CfnDBInstance) -> None:
        acknowledge(
            instance,
            [
                "AwsSolutions-RDS3",
                "NIST.800.53.R5-RDSMultiAZSupport",
                "HIPAA.Security-RDSMultiAZSupport",
            ],
            "A single-AZ standby replica keeps the warm standby small; the writer is Multi-AZ (HOST-4) and the "
            "failover runbook turns Multi-AZ on right after promotion. Compensating controls: the primary's "
            "Multi-AZ writer, its backups copied to this region's vault, the ReplicaLag alarm.",
        )
        acknowledge(
            instance,
            ["NIST.800.53.R5-RDSInBackupPlan", "HIPAA.Security-RDSInBackupPlan"],
            "A read replica holds a copy of its source, which the primary region's tag-based backup plans "
            "protect hourly, 12-hourly, daily and monthly with copies in this region's vault (BAK-1..BAK-5). "
            "Compensating control: the failover runbook tags the promoted writer backup-tier=database and sets "
            "its automated-backup retention, so this region's dormant database plan (<deployment>-dr-database, "
            "Backup stack of this region; plans are regional) selects it from then on and copies it to the "
            "primary region's vault.",
        )
        acknowledge(
            instance,
            [
                "AwsSolutions-RDS2",
                "NIST.800.53.R5-RDSStorageEncrypted",
                "HIPAA.Security-RDSStorageEncrypted",
                "PCI.DSS.321-RDSStorageEncrypted",
            ],
            "CloudFormation rejects StorageEncrypted on a read replica (it is inherited from the encrypted "
            "source); the replica is encrypted with this region's customer key given as KmsKeyId. Compensating "
            "control: DataSecurity ENC1-RdsEncrypted and DR1-ReplicaEncrypted check that KmsKeyId.",
        )
        acknowledge(
            instance,
            ["AwsSolutions-RDS11"],
            "The replica listens on the non-default port 5433 (Port is set); the rule cannot see the engine of "
            "a read replica, which is inherited from its source. Compensating control: the port and the "
            "security group admitting only the standby web tier.",
        )

    @property
    def endpoint_address(self) -> str:
        return self.instance.attr_endpoint_address

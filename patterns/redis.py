"""ElastiCache for Redis (OSS) with the platform's controls (HOST-4, ENC-1, ENC-3, OPS-5).

Multi-AZ with automatic failover as soon as there is a replica, at-rest encryption
with the `customer` key, TLS required in transit, an AUTH token generated into
Secrets Manager (encrypted with the `system` key), isolated subnets, a security
group that admits only the given clients, the announced maintenance window and
daily snapshots kept for the configured days.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from patterns.tagging import tag_data_classification
from policies.acknowledgments import acknowledge

ENGINE_VERSION = "7.1"
DEFAULT_PORT = 6380  # not 6379: AwsSolutions-AEC5
SNAPSHOT_RETENTION_MAX_DAYS = 35  # the ElastiCache maximum


@dataclass(frozen=True)
class RedisProps:
    vpc: ec2.IVpc
    replication_group_id: str  # deterministic: member clusters are <id>-001, <id>-002, ...
    node_type: str
    replicas: int
    storage_key: kms.IKey  # the `customer` key
    secret_key: kms.IKey  # the `system` key
    maintenance_window: str  # `ddd:hh24:mi-ddd:hh24:mi`
    snapshot_window: str  # `hh24:mi-hh24:mi`, outside the maintenance window
    snapshot_retention_days: int
    port: int = DEFAULT_PORT


class EncryptedRedis(Construct):
    def __init__(self, scope: Construct, id: str, *, props: RedisProps) -> None:
        super().__init__(scope, id)
        if not 1 <= props.snapshot_retention_days <= SNAPSHOT_RETENTION_MAX_DAYS:
            raise ValueError(f"snapshot retention must be 1 to {SNAPSHOT_RETENTION_MAX_DAYS} days")
        self.port = props.port
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=props.vpc,
            description=f"{props.replication_group_id}: Redis clients only",
            allow_all_outbound=False,
        )
        self.subnet_group = elasticache.CfnSubnetGroup(
            self,
            "Subnets",
            description=f"{props.replication_group_id}: isolated subnets",
            cache_subnet_group_name=f"{props.replication_group_id}-subnets",
            subnet_ids=props.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids,
        )
        self.auth_token = secretsmanager.Secret(
            self,
            "AuthToken",
            secret_name=f"{props.replication_group_id}/auth-token",
            description=f"AUTH token of {props.replication_group_id}",
            encryption_key=props.secret_key,
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=64),
        )
        tag_data_classification(self.auth_token, "system")
        self.auth_token.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        acknowledge(
            self.auth_token.node.default_child,  # type: ignore[arg-type]
            [
                "AwsSolutions-SMG4",
                "NIST.800.53.R5-SecretsManagerRotationEnabled",
                "HIPAA.Security-SecretsManagerRotationEnabled",
                "DataSecurity-ENC4-SecretRotation",
            ],
            "Secrets Manager has no hosted rotation for a Redis AUTH token (rotation means "
            "ModifyReplicationGroup with AuthTokenUpdateStrategy=ROTATE, then SET). Compensating "
            "controls: 64-character generated token encrypted with the system CMK, TLS-only transit, "
            "isolated subnets, security group admitting only the application tier.",
        )

        multi_az = props.replicas >= 1
        self.replication_group = elasticache.CfnReplicationGroup(
            self,
            "ReplicationGroup",
            replication_group_id=props.replication_group_id,
            replication_group_description=f"{props.replication_group_id}: session and cache store",
            engine="redis",
            engine_version=ENGINE_VERSION,
            cache_node_type=props.node_type,
            num_cache_clusters=1 + props.replicas,
            automatic_failover_enabled=multi_az,
            multi_az_enabled=multi_az,
            at_rest_encryption_enabled=True,
            kms_key_id=props.storage_key.key_arn,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            auth_token=self.auth_token.secret_value.unsafe_unwrap(),  # a {{resolve:secretsmanager}} reference
            port=props.port,
            cache_subnet_group_name=self.subnet_group.ref,
            security_group_ids=[self.security_group.security_group_id],
            preferred_maintenance_window=props.maintenance_window,
            snapshot_window=props.snapshot_window,
            snapshot_retention_limit=props.snapshot_retention_days,
            auto_minor_version_upgrade=True,
        )
        tag_data_classification(self.replication_group, "customer")
        self.replication_group.apply_removal_policy(cdk.RemovalPolicy.SNAPSHOT)  # BAK-8
        self.member_cluster_ids = [f"{props.replication_group_id}-{n:03d}" for n in range(1, props.replicas + 2)]

    def admit(self, peer: ec2.IConnectable, description: str = "Application tier") -> None:
        """Let `peer` (e.g. the web tier's security group) reach Redis on its port."""
        self.security_group.connections.allow_from(peer, ec2.Port.tcp(self.port), description)

"""ElastiCache for Redis (OSS) with the platform's controls (HOST-4, ENC-1, ENC-3, OPS-5).

Multi-AZ with automatic failover as soon as there is a replica, at-rest encryption
with the `customer` key, TLS required in transit, isolated subnets, a security
group that admits only the given clients, the announced maintenance window and
daily snapshots kept for the configured days.

Authentication: ElastiCache RBAC with **IAM authentication**, no static secret (ENC-4).
A shared AUTH token is never rotated by Secrets Manager (no hosted rotation); IAM
authentication replaces it with short-lived (15-minute) SigV4 tokens signed by the
caller's role (ElastiCache user guide, "Authenticating with IAM"). Its requirements,
all met here: Redis OSS 7.0 or later (`ENGINE_VERSION`), in-transit encryption
required, a user group attached to the replication group, an ElastiCache user with
authentication mode `iam` whose user id equals its user name, and the caller's IAM
policy granting `elasticache:Connect` on the replication group and that user
(`grant_connect`). Every user group must contain a user named `default`; ours is
switched off (`off -@all`), so an unauthenticated or `default` connection can do nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from patterns.network import closed_security_group
from patterns.tagging import tag_data_classification
from policies.acknowledgments import acknowledge

ENGINE_VERSION = "7.1"
DEFAULT_PORT = 6380  # not 6379: AwsSolutions-AEC5
SNAPSHOT_RETENTION_MAX_DAYS = 35  # the ElastiCache maximum
IAM_AUTH_MIN_ENGINE = (7, 0)  # ElastiCache IAM authentication: Redis OSS 7.0 or later
APP_ACCESS_STRING = "on ~* +@all -@dangerous"  # the application's commands; no FLUSHALL, CONFIG, DEBUG...
DISABLED_ACCESS_STRING = "off -@all"  # the mandatory `default` user: switched off


@dataclass(frozen=True)
class RedisProps:
    vpc: ec2.IVpc
    replication_group_id: str  # deterministic: member clusters are <id>-001, <id>-002, ...
    node_type: str
    replicas: int
    storage_key: kms.IKey  # the `customer` key
    maintenance_window: str  # `ddd:hh24:mi-ddd:hh24:mi`
    snapshot_window: str  # `hh24:mi-hh24:mi`, outside the maintenance window
    snapshot_retention_days: int
    port: int = DEFAULT_PORT


class EncryptedRedis(Construct):
    """Validate, then build in order: security group and subnet group, the RBAC users and their
    group, the ARNs that grants name, the replication group."""

    def __init__(self, scope: Construct, id: str, *, props: RedisProps) -> None:
        super().__init__(scope, id)
        if not 1 <= props.snapshot_retention_days <= SNAPSHOT_RETENTION_MAX_DAYS:
            raise ValueError(f"snapshot retention must be 1 to {SNAPSHOT_RETENTION_MAX_DAYS} days")
        if tuple(int(part) for part in ENGINE_VERSION.split(".")[:2]) < IAM_AUTH_MIN_ENGINE:
            raise ValueError(f"IAM authentication needs Redis OSS 7.0 or later, not {ENGINE_VERSION}")
        self.props = props
        self.port = props.port
        self.security_group, self.subnet_group = self._network()
        # IAM authentication: the user id must equal the user name (lower case, letters/digits/hyphens).
        self.user_id = f"{props.replication_group_id}-app"
        self.user_group_id = f"{props.replication_group_id}-users"
        self.user, self.default_user, self.user_group = self._users()
        # What `grant_connect` names: the app user and the replication group.
        self.user_arn = self._arn("user", self.user_id)
        self.replication_group_arn = self._arn("replicationgroup", props.replication_group_id)
        self.replication_group = self._replication_group()
        self.member_cluster_ids = [f"{props.replication_group_id}-{n:03d}" for n in range(1, props.replicas + 2)]

    def _network(self) -> tuple[ec2.SecurityGroup, elasticache.CfnSubnetGroup]:
        props = self.props
        security_group = closed_security_group(
            self, "SecurityGroup", vpc=props.vpc, description=f"{props.replication_group_id}: Redis clients only"
        )
        subnet_group = elasticache.CfnSubnetGroup(
            self,
            "Subnets",
            description=f"{props.replication_group_id}: isolated subnets",
            cache_subnet_group_name=f"{props.replication_group_id}-subnets",
            subnet_ids=props.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids,
        )
        return security_group, subnet_group

    def _users(self) -> tuple[elasticache.CfnUser, elasticache.CfnUser, elasticache.CfnUserGroup]:
        """The application's IAM-authenticated user and the mandatory `default` user, switched off."""
        props = self.props
        user = elasticache.CfnUser(
            self,
            "AppUser",
            engine="redis",
            user_id=self.user_id,
            user_name=self.user_id,
            access_string=APP_ACCESS_STRING,
            authentication_mode={"Type": "iam"},
        )
        default_user = elasticache.CfnUser(
            self,
            "DefaultUser",
            engine="redis",
            user_id=f"{props.replication_group_id}-default",
            user_name="default",
            access_string=DISABLED_ACCESS_STRING,
            no_password_required=True,
        )
        user_group = elasticache.CfnUserGroup(
            self,
            "Users",
            engine="redis",
            user_group_id=self.user_group_id,
            user_ids=[self.user_id, default_user.user_id],
        )
        user_group.add_resource_dependency(user)
        user_group.add_resource_dependency(default_user)
        return user, default_user, user_group

    def _arn(self, resource: str, name: str) -> str:
        return cdk.Stack.of(self).format_arn(
            service="elasticache", resource=resource, resource_name=name, arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME
        )

    def _replication_group(self) -> elasticache.CfnReplicationGroup:
        """Multi-AZ once there is a replica, encrypted at rest and in transit, RBAC users only."""
        props = self.props
        multi_az = props.replicas >= 1
        group = elasticache.CfnReplicationGroup(
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
            user_group_ids=[self.user_group_id],
            port=props.port,
            cache_subnet_group_name=self.subnet_group.ref,
            security_group_ids=[self.security_group.security_group_id],
            preferred_maintenance_window=props.maintenance_window,
            snapshot_window=props.snapshot_window,
            snapshot_retention_limit=props.snapshot_retention_days,
            auto_minor_version_upgrade=True,
        )
        acknowledge(
            group,
            ["AwsSolutions-AEC6"],
            "The rule looks for a static Redis AUTH token; this group authenticates with ElastiCache RBAC "
            "and IAM instead (a user group of one IAM-authenticated user, 15-minute SigV4 tokens, the "
            "default user switched off), which needs no secret at all. Compensating controls: TLS required "
            "in transit, elasticache:Connect granted per role, isolated subnets, closed security group.",
        )
        tag_data_classification(group, "customer")
        group.apply_removal_policy(cdk.RemovalPolicy.SNAPSHOT)  # BAK-8
        group.add_resource_dependency(self.user_group)
        return group

    def grant_connect(self, grantee: iam.IGrantable) -> iam.Grant:
        """`elasticache:Connect` as the IAM-authenticated user (the caller signs a 15-minute token)."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["elasticache:Connect"],
            resource_arns=[self.replication_group_arn, self.user_arn],
        )

"""RDS for PostgreSQL with the platform's controls (HOST-4, ENC-1, ENC-3, ENC-4, BAK-3, BAK-8, OPS-5).

- Multi-AZ as configured, isolated subnets only, non-default port, no public access;
- storage, Performance Insights and snapshots encrypted with the `customer` key;
- `rds.force_ssl=1` in its own parameter group (ENC-3), IAM database authentication;
- master credentials generated into Secrets Manager (encrypted with the `system`
  key) and rotated by a Secrets Manager hosted rotation function that runs in the
  VPC (ENC-4): no Lambda code or role of ours to maintain;
- automated backups for the configured days (point-in-time recovery, BAK-3),
  deletion protection and `Retain` (BAK-8; with what it uses, so a failed first create's
  rollback skips it instead of failing, patterns/retention.py);
- enhanced monitoring through a role of ours, logs exported to log groups that we
  create first, so they are KMS-encrypted and have explicit retention (BAK-7);
- the announced maintenance window of OPS-5; the backup window ends an hour before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from patterns.iam import ManagedPolicyRole
from patterns.network import closed_security_group
from patterns.retention import keep_with
from patterns.tagging import BACKUP_TIER_DATABASE, tag_backup_tier, tag_data_classification
from policies.acknowledgments import acknowledge

# The newest 17.x minor that both CDK 2.275 and cfn-lint's RDS data (read from the RDS API) know: RDS
# blocks creating a minor version a month before its end of standard support (17.1-17.4: blocked from
# 1 May 2026), so an old pin fails the first create. tests/unit/test_engine_versions.py fails when a
# newer minor appears in cfn-lint's data; the preflight asks RDS itself (DescribeDBEngineVersions).
ENGINE_VERSION = rds.PostgresEngineVersion.VER_17_9
DEFAULT_PORT = 5433  # not 5432: AwsSolutions-RDS11, and scanners looking for 5432 miss it
LOG_EXPORTS = ("postgresql", "upgrade")
# Enhanced monitoring writes to this one group per account and region; RDS creates it unencrypted
# when it is missing (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.CloudWatchLogs.html).
ENHANCED_MONITORING_LOG_GROUP = "RDSOSMetrics"
ROTATION_DAYS = 30


def window_before(start_utc: str, hours_before: int, length_hours: int = 1) -> str:
    """A daily `hh24:mi-hh24:mi` window that ends `hours_before - length_hours` h before `start_utc`."""
    hour, minute = (int(part) for part in start_utc.split(":"))
    begin = (hour - hours_before) % 24
    end = (begin + length_hours) % 24
    return f"{begin:02d}:{minute:02d}-{end:02d}:{minute:02d}"


def tls_parameter_group(scope: Construct, engine: rds.IInstanceEngine, identifier: str) -> rds.ParameterGroup:
    return rds.ParameterGroup(
        scope,
        "Parameters",
        engine=engine,
        description=f"{identifier}: TLS only (ENC-3), connection auditing",
        parameters={"rds.force_ssl": "1", "log_connections": "1", "log_disconnections": "1"},
    )


def exported_log_groups(
    scope: Construct, identifier: str, key: kms.IKey, retention: logs.RetentionDays
) -> dict[str, logs.LogGroup]:
    """Created before the instance, so RDS finds our encrypted groups instead of creating its own (BAK-7)."""
    return {
        name: logs.LogGroup(
            scope,
            f"{name.capitalize()}Logs",
            log_group_name=f"/aws/rds/instance/{identifier}/{name}",
            encryption_key=key,
            retention=retention,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        for name in LOG_EXPORTS
    }


def _encrypted_log_group(
    scope: Construct, id: str, name: str, key: kms.IKey, retention: logs.RetentionDays
) -> logs.LogGroup:
    return logs.LogGroup(
        scope,
        id,
        log_group_name=name,
        encryption_key=key,
        retention=retention,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )


def enhanced_monitoring_log_group(scope: Construct, key: kms.IKey, retention: logs.RetentionDays) -> logs.LogGroup:
    """`RDSOSMetrics`, created before the instance so enhanced monitoring finds it encrypted with a
    retention (ENC-1, BAK-7) instead of creating its own. One per account and region: the
    deployment's single database of the region owns it (the preflight lists a leftover one)."""
    return _encrypted_log_group(scope, "EnhancedMonitoringLogs", ENHANCED_MONITORING_LOG_GROUP, key, retention)


def rotation_function_name(identifier: str) -> str:
    return f"{identifier}-rotation"


def monitoring_role(scope: Construct, identifier: str) -> ManagedPolicyRole:
    return ManagedPolicyRole(
        scope,
        "MonitoringRole",
        assumed_by=iam.ServicePrincipal("monitoring.rds.amazonaws.com"),
        description=f"Enhanced monitoring of {identifier}",
    )


def grant_enhanced_monitoring(role: ManagedPolicyRole, resource_id: str) -> None:
    """What AmazonRDSEnhancedMonitoringRole grants, scoped to one instance's stream."""
    stack = cdk.Stack.of(role)
    metrics_group = f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:RDSOSMetrics"
    role.add_to_policy(
        iam.PolicyStatement(actions=["logs:CreateLogGroup", "logs:PutRetentionPolicy"], resources=[metrics_group])
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:GetLogEvents"],
            resources=[f"{metrics_group}:log-stream:{resource_id}"],
        )
    )


@dataclass(frozen=True)
class EncryptedPostgresProps:
    vpc: ec2.IVpc
    instance_identifier: str  # deterministic, so runbooks and the DR region find it
    instance_class: str  # "db.r7g.large"
    allocated_storage_gib: int
    max_allocated_storage_gib: int
    multi_az: bool
    storage_key: kms.IKey  # the `customer` key
    secret_key: kms.IKey  # the `system` key
    logs_key: kms.IKey  # the `logs` key
    backup_retention_days: int
    maintenance_window: str  # `ddd:hh24:mi-ddd:hh24:mi`
    maintenance_start_utc: str  # HH:MM, to place the backup window before it
    log_retention: logs.RetentionDays
    # What the Secrets Manager transform expands into the hosted rotation's nested stack: values that
    # resolve in this stack (e.g. SSM-typed parameters), never another stack's output (issue 17 item 4).
    rotation_inputs: HostedRotationInputs
    database_name: str = "app"
    port: int = DEFAULT_PORT
    secret_replica: tuple[str, str] | None = None  # (region, KMS key alias there): the standby reads it


@dataclass(frozen=True)
class HostedRotationInputs:
    """The rotation function's key ARN and comma-separated subnet ids, as tokens of this stack."""

    key_arn: str
    subnet_ids: str


class EncryptedPostgres(Construct):
    """In order: security groups, TLS parameter group, encrypted log groups and monitoring role, the
    instance with its tags and acknowledgments, enhanced monitoring, the retained (and optionally
    replicated) master secret, and its rotation. Values come validated from the configuration."""

    def __init__(self, scope: Construct, id: str, *, props: EncryptedPostgresProps) -> None:
        super().__init__(scope, id)
        engine = rds.DatabaseInstanceEngine.postgres(version=ENGINE_VERSION)
        self.props = props
        self.port = props.port
        self.instance_identifier = props.instance_identifier
        self.security_group, self.rotation_security_group = self._security_groups()
        self.parameter_group = tls_parameter_group(self, engine, props.instance_identifier)
        self.log_groups = exported_log_groups(self, props.instance_identifier, props.logs_key, props.log_retention)
        self.log_groups["enhanced-monitoring"] = enhanced_monitoring_log_group(
            self, props.logs_key, props.log_retention
        )
        self.monitoring_role = monitoring_role(self, props.instance_identifier)
        self.instance = self._instance(engine)
        keep_with(self.security_group, self.parameter_group, self.instance.node.find_child("SubnetGroup"))
        self._tag_and_acknowledge_instance()
        resource_id = self.instance.instance_resource_id
        assert resource_id is not None  # a new instance always has one
        grant_enhanced_monitoring(self.monitoring_role, resource_id)
        self.secret: secretsmanager.ISecret = self._master_secret()
        self.rotation = self._rotation()

    def _security_groups(self) -> tuple[ec2.SecurityGroup, ec2.SecurityGroup]:
        """Clients of the database, and the rotation function (HTTPS to the Secrets Manager endpoint only)."""
        props = self.props
        clients = closed_security_group(
            self, "SecurityGroup", vpc=props.vpc, description=f"{props.instance_identifier}: PostgreSQL clients only"
        )
        rotation = closed_security_group(
            self,
            "RotationSecurityGroup",
            vpc=props.vpc,
            description=f"{props.instance_identifier}: the credential rotation function",
        )
        rotation.add_egress_rule(
            ec2.Peer.ipv4(props.vpc.vpc_cidr_block), ec2.Port.tcp(443), "Secrets Manager VPC endpoint"
        )
        return clients, rotation

    def _instance(self, engine: rds.IInstanceEngine) -> rds.DatabaseInstance:
        """Isolated subnets, encrypted storage and Performance Insights, IAM auth, TLS-only, backups."""
        props = self.props
        return rds.DatabaseInstance(
            self,
            "Instance",
            engine=engine,
            instance_identifier=props.instance_identifier,
            instance_type=ec2.InstanceType(props.instance_class.removeprefix("db.")),
            vpc=props.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[self.security_group],
            port=props.port,
            publicly_accessible=False,
            multi_az=props.multi_az,
            database_name=props.database_name,
            credentials=rds.Credentials.from_generated_secret(
                "dbadmin",
                encryption_key=props.secret_key,
                secret_name=f"{props.instance_identifier}/master",
            ),
            iam_authentication=True,
            parameter_group=self.parameter_group,
            storage_type=rds.StorageType.GP3,
            allocated_storage=props.allocated_storage_gib,
            max_allocated_storage=props.max_allocated_storage_gib,
            storage_encrypted=True,
            storage_encryption_key=props.storage_key,
            enable_performance_insights=True,
            performance_insight_encryption_key=props.storage_key,
            performance_insight_retention=rds.PerformanceInsightRetention.DEFAULT,
            monitoring_interval=cdk.Duration.seconds(60),
            monitoring_role=self.monitoring_role,
            cloudwatch_logs_exports=list(LOG_EXPORTS),
            backup_retention=cdk.Duration.days(props.backup_retention_days),
            preferred_backup_window=window_before(props.maintenance_start_utc, hours_before=2),
            preferred_maintenance_window=props.maintenance_window,
            auto_minor_version_upgrade=True,
            copy_tags_to_snapshot=True,
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,  # patterns/retention.py: deletion protection refuses a delete
            ca_certificate=rds.CaCertificate.RDS_CA_RSA2048_G1,
        )

    def _tag_and_acknowledge_instance(self) -> None:
        """Backed up by tag (BAK-1..BAK-5); RDS writes into our encrypted log groups."""
        props = self.props
        cfn_instance = self.instance.node.default_child
        assert isinstance(cfn_instance, rds.CfnDBInstance)
        for log_group in self.log_groups.values():
            cfn_instance.node.add_dependency(log_group)  # RDS must find our encrypted groups, not create its own
        tag_backup_tier(self.instance, BACKUP_TIER_DATABASE)
        tag_data_classification(self.instance, "customer")
        acknowledge(
            cfn_instance,
            ["NIST.800.53.R5-RDSInBackupPlan", "HIPAA.Security-RDSInBackupPlan"],
            "The rule only sees a backup selection that names the instance in this stack; the Backup "
            "stack's database plan selects by the backup-tier=database tag this instance carries. "
            "Compensating controls: tag-based AWS Backup plans (hourly, 12-hourly, daily, monthly, copied "
            "to the DR vault, BAK-1..BAK-5) plus 30+ days of automated backups with point-in-time recovery.",
        )

        if not props.multi_az:
            acknowledge(
                cfn_instance,
                [
                    "AwsSolutions-RDS3",
                    "NIST.800.53.R5-RDSMultiAZSupport",
                    "HIPAA.Security-RDSMultiAZSupport",
                ],
                "Single-AZ only where the configuration says so: config validation forces Multi-AZ in "
                "production (HOST-4), and non-production holds anonymised data only (DATA-3). Compensating "
                "controls: automated backups for 30+ days with point-in-time recovery, tag-based AWS Backup "
                "plans copied to the DR region, deletion protection and DeletionPolicy Retain.",
            )

    def _master_secret(self) -> secretsmanager.ISecret:
        """Retained with the instance (BAK-8); replicated to DR when the deployment has a standby."""
        props = self.props
        secret = self.instance.secret
        assert secret is not None  # generated above
        # BAK-8: a kept instance or its snapshots are useless without the master password.
        generated = self.instance.node.find_child("Secret")  # `secret` above is its target attachment
        assert isinstance(generated, secretsmanager.Secret)
        generated.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        if props.secret_replica is not None:
            region, key_alias = props.secret_replica
            cfn_secret = generated.node.default_child
            assert isinstance(cfn_secret, secretsmanager.CfnSecret)
            cfn_secret.replica_regions = [
                secretsmanager.CfnSecret.ReplicaRegionProperty(region=region, kms_key_id=key_alias)
            ]
        tag_data_classification(secret, "system")
        return secret

    def _rotation(self) -> secretsmanager.RotationSchedule:
        """Hosted single-user rotation every ROTATION_DAYS, from the rotation security group."""
        props = self.props
        rotation = self.secret.add_rotation_schedule(
            "Rotation",
            automatically_after=cdk.Duration.days(ROTATION_DAYS),
            hosted_rotation=secretsmanager.HostedRotation.postgre_sql_single_user(
                function_name=rotation_function_name(props.instance_identifier),
                vpc=props.vpc,
                vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                security_groups=[self.rotation_security_group],
            ),
        )
        self.rotation_security_group.connections.allow_to(
            self.security_group, ec2.Port.tcp(props.port), "Rotate the master credentials"
        )
        # The AWS::SecretsManager transform runs before CloudFormation resolves intrinsics, and no AWS
        # page says it carries `Fn::GetStackOutput` (CDK's weak cross-stack reference) into the nested
        # stack it generates: give it same-stack values instead.
        # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/transform-aws-secretsmanager.html
        schedule = rotation.node.default_child
        assert isinstance(schedule, secretsmanager.CfnRotationSchedule)
        schedule.add_property_override("HostedRotationLambda.KmsKeyArn", props.rotation_inputs.key_arn)
        schedule.add_property_override("HostedRotationLambda.VpcSubnetIds", props.rotation_inputs.subnet_ids)
        # The hosted function is named here, so its Lambda log group is known: created first, encrypted,
        # with a retention (ENC-1, BAK-7), before the schedule's first rotation runs it.
        self.rotation_log_group = _encrypted_log_group(
            self,
            "RotationLogs",
            f"/aws/lambda/{rotation_function_name(props.instance_identifier)}",
            props.logs_key,
            props.log_retention,
        )
        rotation.node.add_dependency(self.rotation_log_group)
        return rotation

"""WebStack: the web tier of one region: certificate, ALB + WAF, Auto Scaling group, alarms, DNS record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct

from config import Deployment
from patterns.alb_log_bucket import AlbLogBucket, AlbLogBucketProps
from patterns.log_retention import retention_days
from patterns.patching import PatchManagement
from patterns.session_manager import SessionManagerPreferences
from patterns.tagging import TENANT_PREFIX_ALL
from patterns.team_roles import iam5_resource_finding
from patterns.web_acl import RegionalWebAcl, WebAclProps
from patterns.web_tier import WebTier, WebTierProps, allow_auto_scaling_notifications
from policies.acknowledgments import acknowledge, acknowledge_in_public_packs
from stacks.base import PlatformStack
from stacks.patching import web_patch_group


@dataclass(frozen=True)
class DataStoreAccess:
    """What the web tier may reach in the data tier (all optional until the data stack exists)."""

    database_security_group: ec2.ISecurityGroup | None = None
    database_port: int = 5432
    database_secret: secretsmanager.ISecret | None = None
    cache_security_group: ec2.ISecurityGroup | None = None
    cache_port: int = 6379
    cache_secret: secretsmanager.ISecret | None = None
    content_bucket_name: str | None = None  # literal name (see AccessStack): readable, no extra dependency
    content_key: kms.IKey | None = None
    server_access_logs_bucket: s3.IBucket | None = None


class WebStack(PlatformStack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        deployment: Deployment,
        role: str,
        vpc: ec2.IVpc,
        customer_key: kms.Key,
        logs_key: kms.IKey,
        system_key: kms.Key,
        zone: route53.IHostedZone,
        alarm_topics: Mapping[int, sns.ITopic],
        sessions: SessionManagerPreferences | None = None,
        patching: PatchManagement | None = None,
        data: DataStoreAccess = DataStoreAccess(),
    ) -> None:
        super().__init__(
            scope,
            id,
            deployment=deployment,
            role=role,
            summary="HTTPS ALB with WAF in front of an Auto Scaling group over 3 AZs (HOST-1, ENC-3)",
        )
        retention = deployment.retention
        sizing = deployment.sizing

        self.certificate = acm.Certificate(
            self,
            "Certificate",
            domain_name=deployment.domain_name,
            validation=acm.CertificateValidation.from_dns(zone),
        )
        alb_log_bucket_name = f"{self.name_prefix}-alb-logs-{self.account}"
        self.access_logs = AlbLogBucket(
            self,
            "AlbLogs",
            props=AlbLogBucketProps(
                transition_days=retention.log_archive_transition_days,
                expiry_days=retention.log_archive_expiry_days,
                noncurrent_version_days=retention.noncurrent_version_days,
                bucket_name=alb_log_bucket_name,
                server_access_logs_bucket=self._server_access_log_target(data, alb_log_bucket_name),
            ),
        )
        self._acknowledge_alb_log_bucket(logged=data.server_access_logs_bucket is not None)

        allow_auto_scaling_notifications(system_key, self)
        self.web = WebTier(
            self,
            "WebTier",
            props=WebTierProps(
                name_prefix=self.name_prefix,
                vpc=vpc,
                certificate=self.certificate,
                access_log_bucket=self.access_logs.bucket,
                volume_key=customer_key,
                instance_type=sizing.web_instance_type,
                min_capacity=sizing.web_min_capacity,
                max_capacity=sizing.web_max_capacity,
                cpu_target_percent=sizing.web_cpu_target_percent,
                requests_per_target_per_minute=sizing.web_requests_per_target,
                deletion_protection=True,
                patch_group=web_patch_group(deployment),
                alarm_topics=alarm_topics,
            ),
        )
        acknowledge(
            self.web.alb_security_group.node.default_child,  # type: ignore[arg-type]
            ["AwsSolutions-EC23"],
            "The internet-facing load balancer must accept the public on 443 (and 80, which only redirects "
            "to 443); compensating controls: WAF managed rules and rate limit, TLS 1.2+ policy, instances "
            "admit only the load balancer on the app port.",
        )
        acknowledge(
            self.web.instance_role.grants_policy,
            ["AwsSolutions-IAM5[Resource::*]"],
            "The SSM agent's ssm/ssmmessages/ec2messages actions and logs:DescribeLogGroups have no resource "
            "type; compensating controls: agent actions only (no parameter or data reads), instances in "
            "private subnets, IMDSv2, and no backup, archive or backup-key permissions (ACC-5).",
        )

        self.web_acl = RegionalWebAcl(
            self,
            "Waf",
            props=WebAclProps(
                name_prefix=self.name_prefix,
                logs_key=logs_key,
                log_retention=retention_days(retention.log_retention_days),
            ),
        )
        self.web_acl.associate("AlbAssociation", self.web.alb.load_balancer_arn)

        if sessions is not None:
            sessions.grant_instance(self.web.instance_role)
        if patching is not None:
            patching.grant_instance_output(self.web.instance_role)
        self._wire_data_tier(data)

        self.record = route53.ARecord(
            self,
            "AliasRecord",
            zone=zone,
            record_name=deployment.domain_name,
            target=route53.RecordTarget.from_alias(route53_targets.LoadBalancerTarget(self.web.alb)),
            comment=f"{deployment.name}: the application, served by the {role} region",
        )

        # Probed from outside (OPS-2) through the public name, as users reach it; DR failover records
        # (DR-1) can use the same check.
        self.health_check = route53.CfnHealthCheck(
            self,
            "SiteHealthCheck",
            health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                type="HTTPS",
                fully_qualified_domain_name=deployment.domain_name,
                port=443,
                resource_path=self.web.props.health_check_path,
                enable_sni=True,
                request_interval=30,
                failure_threshold=3,
            ),
            health_check_tags=[
                route53.CfnHealthCheck.HealthCheckTagProperty(key="Name", value=f"{self.name_prefix}-site")
            ],
        )

        cdk.CfnOutput(self, "LoadBalancerDns", value=self.web.alb.load_balancer_dns_name)
        cdk.CfnOutput(self, "LoadBalancerArn", value=self.web.alb.load_balancer_arn)
        cdk.CfnOutput(self, "AutoScalingGroupName", value=self.web.auto_scaling_group.auto_scaling_group_name)
        cdk.CfnOutput(self, "AlbLogBucketName", value=self.access_logs.bucket.bucket_name)
        cdk.CfnOutput(self, "WebAclArn", value=self.web_acl.web_acl.attr_arn)
        cdk.CfnOutput(self, "SiteHealthCheckId", value=self.health_check.attr_health_check_id)

    def _wire_data_tier(self, data: DataStoreAccess) -> None:
        web = self.web
        if data.database_security_group is not None:
            web.allow_to(data.database_security_group, ec2.Port.tcp(data.database_port), "web tier to PostgreSQL")
        if data.cache_security_group is not None:
            web.allow_to(data.cache_security_group, ec2.Port.tcp(data.cache_port), "web tier to Redis")
        # Explicit statements, not Secret.grant_read: that grant puts the instance role into the key
        # policy of the Keys stack (a ViaService principal), which would make Keys depend on this stack.
        secrets = [secret for secret in (data.database_secret, data.cache_secret) if secret is not None]
        if secrets:
            web.instance_role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="ReadDataTierSecrets",
                    actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    resources=[secret.secret_arn for secret in secrets],
                )
            )
            keys = {secret.encryption_key.key_arn: secret.encryption_key for secret in secrets if secret.encryption_key}
            if keys:
                web.instance_role.add_to_principal_policy(
                    iam.PolicyStatement(
                        sid="DecryptSecretsThroughSecretsManagerOnly",
                        actions=["kms:Decrypt"],
                        resources=list(keys),
                        conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{self.region}.amazonaws.com"}},
                    )
                )
        if data.content_bucket_name is not None:
            bucket_arn = self.format_arn(service="s3", region="", account="", resource=data.content_bucket_name)
            objects = f"{bucket_arn}/{TENANT_PREFIX_ALL}*"
            web.instance_role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="TenantObjectsOnly",
                    actions=["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"],
                    resources=[objects],
                )
            )
            web.instance_role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="ListTenantPrefixOnly",
                    actions=["s3:ListBucket"],
                    resources=[bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [f"{TENANT_PREFIX_ALL}*"]}},
                )
            )
            acknowledge(
                web.instance_role.grants_policy,
                [iam5_resource_finding(self, objects)],
                "The multi-tenant web tier serves every tenant, so its object grant is the tenants/ prefix "
                "(HOST-5); compensating controls: nothing outside tenants/, no bucket or policy actions, the "
                "key usable only through S3, and no backup, archive or backup-key access (ACC-5).",
            )
            if data.content_key is not None:
                web.instance_role.add_to_principal_policy(
                    iam.PolicyStatement(
                        sid="ContentKeyThroughS3Only",
                        actions=["kms:Decrypt", "kms:GenerateDataKey"],
                        resources=[data.content_key.key_arn],
                        conditions={"StringEquals": {"kms:ViaService": f"s3.{self.region}.amazonaws.com"}},
                    )
                )

    def _server_access_log_target(self, data: DataStoreAccess, source_bucket_name: str) -> s3.IBucket | None:
        """The data tier's access-log bucket, referenced by name: CDK would otherwise add the
        log-delivery grant for this bucket to that bucket's policy through a cross-stack
        reference in the wrong direction (a cycle). The grant is added here with literals."""
        target = data.server_access_logs_bucket
        if target is None:
            return None
        source_arn = f"arn:{self.partition}:s3:::{source_bucket_name}"
        target.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AlbLogBucketAccessLogDelivery",
                principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[target.arn_for_objects(f"{AlbLogBucketProps.server_access_logs_prefix}*")],
                conditions={
                    "ArnLike": {"aws:SourceArn": source_arn},
                    "StringEquals": {"aws:SourceAccount": self.account},
                },
            )
        )
        return target

    def _acknowledge_alb_log_bucket(self, *, logged: bool) -> None:
        bucket = self.access_logs.bucket.node.default_child
        assert isinstance(bucket, s3.CfnBucket)
        acknowledge_in_public_packs(
            bucket,
            "S3DefaultEncryptionKMS",
            "Elastic Load Balancing delivers access logs only to SSE-S3 buckets; compensating controls: the "
            "bucket holds request logs only (no customer content), is TLS-only, private, versioned, retained, "
            "and moves logs to Glacier after 30 days.",
        )
        acknowledge_in_public_packs(
            bucket,
            "S3BucketReplicationEnabled",
            "Load-balancer request logs of this region are operational records, not customer data; "
            "compensating controls: versioning, RETAIN, Glacier lifecycle, and the DR region keeps its own "
            "load-balancer logs.",
        )
        if not logged:
            reason = (
                "This bucket is itself a log destination; logging its access into itself would loop; "
                "compensating control: CloudTrail records every management call on it."
            )
            acknowledge_in_public_packs(bucket, "S3BucketLoggingEnabled", reason)
            acknowledge(bucket, ["AwsSolutions-S1"], reason)

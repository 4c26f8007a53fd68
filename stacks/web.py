"""WebStack: the web tier of one region: certificate, ALB + WAF, Auto Scaling group, alarms,
its public DNS record and a health check that probes this region's ALB by its own name.

The primary and the DR standby build the same stack; `PublicRecord` says how the public
name points at this region's ALB: a simple alias (no standby), the PRIMARY failover
record guarded by the failover switch (DR-1), or the SECONDARY record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from config import Deployment
from config.topology import FAILOVER_RECORD_PRIMARY, FAILOVER_RECORD_SECONDARY, FailoverTopology
from patterns.alerting import allow_auto_scaling_notifications, severity_alarm
from patterns.log_retention import retention_days
from patterns.nag_findings import iam5_resource_finding
from patterns.outside_probe import OutsideProbe, OutsideProbeProps
from patterns.patching import PatchManagement
from patterns.release_store import ReleaseStore, ReleaseStoreProps
from patterns.secure_bucket import ALB_ACCESS_LOGS, AccessLogBucket, AccessLogBucketProps, LogArchive
from patterns.session_manager import SessionManagerPreferences
from patterns.team_actions import TENANT_READ_ACTIONS, TENANT_WRITE_ACTIONS
from patterns.tenant_access import tenant_object_grant
from patterns.web_acl import RegionalWebAcl, WebAclProps
from patterns.web_tier import WebEgress, WebTier, WebTierProps
from policies.acknowledgments import acknowledge
from stacks.base import PlatformStack
from stacks.data_tier import DataStoreAccess
from stacks.patching import web_patch_group

HEALTH_CHECK_INTERVAL_SECONDS = 30
ALB_LOG_BUCKET_ACCESS_LOG_PREFIX = "alb-logs/"  # its own access logs, in the data tier's access-log bucket
HEALTH_CHECK_FAILURE_THRESHOLD = 3
RELEASE_BUCKET_ACCESS_LOG_PREFIX = "releases/"  # the release bucket's access logs, in the data tier's log bucket


def _release_record(deployment: Deployment) -> str:
    """The release record's first value: what the stack deploys (the pin), before any rollout rewrites it."""
    release = deployment.release
    if release is None:
        return json.dumps({"version": "", "sha256": "", "source": "first boot placeholder"}, sort_keys=True)
    return json.dumps({"version": release.version, "sha256": release.sha256, "source": "configuration"}, sort_keys=True)


# ACM starts renewing 60 days before expiry; below this, renewal has failed for two weeks.
CERTIFICATE_RENEWAL_ALARM_DAYS: Final = 45


@dataclass(frozen=True)
class PublicRecord:
    """How the deployment's public name reaches this region's ALB.

    `zone` is set where the zone lives (the primary stage): the certificate validates
    against it. The DR standby has no zone object: its record names the zone by name
    (Route 53 resolves it, nothing is read from the primary region) and its certificate
    validates through the CNAME that ACM issues for the same domain and account in every
    region, which the primary's certificate already created.
    """

    domain_name: str
    zone: route53.IHostedZone | None
    failover: str | None  # None: simple alias (no standby); "PRIMARY" | "SECONDARY"
    switch_region: str | None = None
    switch_alarm_name: str | None = None

    @classmethod
    def primary(cls, deployment: Deployment, zone: route53.IHostedZone) -> PublicRecord:
        if not deployment.standby.enabled:
            return cls(deployment.domain_name, zone, None)
        topology = FailoverTopology.of(deployment)
        return cls(deployment.domain_name, zone, "PRIMARY", deployment.dr_region, topology.switch_alarm_name)

    @classmethod
    def secondary(cls, deployment: Deployment) -> PublicRecord:
        return cls(deployment.domain_name, None, "SECONDARY")


class WebStack(PlatformStack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        deployment: Deployment,
        role: str,
        vpc: ec2.IVpc,
        endpoint_security_group: ec2.ISecurityGroup,
        customer_key: kms.Key,
        logs_key: kms.IKey,
        system_key: kms.Key,
        codebase_key: kms.IKey,
        record: PublicRecord,
        alarm_topics: Mapping[int, sns.ITopic],
        sessions: SessionManagerPreferences | None = None,
        patching: PatchManagement | None = None,
        data: DataStoreAccess,
        min_capacity: int | None = None,
    ) -> None:
        super().__init__(
            scope,
            id,
            deployment=deployment,
            role=role,
            summary="HTTPS ALB with WAF in front of an Auto Scaling group over 3 AZs (HOST-1, ENC-3)",
        )
        self.certificate = acm.Certificate(
            self,
            "Certificate",
            domain_name=deployment.domain_name,
            validation=acm.CertificateValidation.from_dns(record.zone),
        )
        self.certificate_expiry = self._certificate_expiry_alarm(alarm_topics)
        self.access_logs = self._alb_log_bucket(data)
        allow_auto_scaling_notifications(system_key, self)
        self.web = self._web_tier(vpc, endpoint_security_group, customer_key, alarm_topics, min_capacity)
        self.releases = self._release_store(codebase_key, data)
        self.web_acl = self._web_acl(logs_key)
        if sessions is not None:
            sessions.grant_instance(self.web.instance_role)
        if patching is not None:
            patching.grant_instance_output(self.web.instance_role)
        self._wire_data_tier(data)
        self.record = self._public_record(record)
        self.health_check = self._alb_health_check()
        self._app_config(data)
        self.probe = self._outside_probe(alarm_topics)
        cdk.CfnOutput(self, "LoadBalancerDnsName", value=self.web.alb.load_balancer_dns_name)
        cdk.CfnOutput(self, "AutoScalingGroupName", value=self.web.auto_scaling_group.auto_scaling_group_name)
        cdk.CfnOutput(self, "WebAclArn", value=self.web_acl.web_acl.attr_arn)
        cdk.CfnOutput(self, "AlbHealthCheckId", value=self.health_check.attr_health_check_id)

    def _certificate_expiry_alarm(self, alarm_topics: Mapping[int, sns.ITopic]) -> cloudwatch.Alarm:
        """Sev2 when this region's certificate is not renewed in time (issue 17 item 8).

        ACM renews a DNS-validated certificate from 60 days before expiry, as long as its validation
        CNAME resolves. Both regions' certificates validate through the one CNAME the primary's
        certificate created (`PublicRecord`): if it goes, the DR certificate stops renewing while
        nothing else shows it. `DaysToExpiry` (AWS/CertificateManager, per certificate, daily)
        below 45 days means renewal has failed for two weeks; missing data is not breaching, so a
        certificate younger than a day does not page (the metric stops only after expiry, long
        after this alarm fired). https://docs.aws.amazon.com/acm/latest/userguide/cloudwatch-metrics.html
        """
        return severity_alarm(
            self,
            "CertificateExpiry",
            topics=alarm_topics,
            severity=2,
            summary=(
                f"the ACM certificate of {self.deployment.domain_name} in {self.region} expires in under "
                f"{CERTIFICATE_RENEWAL_ALARM_DAYS} days: ACM could not renew it. Check its validation CNAME: "
                f"aws acm describe-certificate --certificate-arn <arn> --region {self.region} "
                "(DomainValidationOptions[].ResourceRecord) must exist in the public zone; recreate it there"
            ),
            alarm_name=f"{self.name_prefix}-certificate-expiry",
            metric=self.certificate.metric_days_to_expiry(),
            threshold=CERTIFICATE_RENEWAL_ALARM_DAYS,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _alb_log_bucket(self, data: DataStoreAccess) -> AccessLogBucket:
        """The ALB's access logs (ACC-3), its own access logged into the data tier's log bucket."""
        retention = self.deployment.retention
        alb_log_bucket_name = f"{self.name_prefix}-alb-logs-{self.account}"
        return AccessLogBucket(
            self,
            "AlbLogs",
            props=AccessLogBucketProps(
                noncurrent_version_days=retention.noncurrent_version_days,
                archive=LogArchive.from_retention(retention),
                bucket_name=alb_log_bucket_name,
                delivery=ALB_ACCESS_LOGS,
                server_access_logs_bucket=self._server_access_log_target(data, alb_log_bucket_name),
                server_access_logs_prefix=ALB_LOG_BUCKET_ACCESS_LOG_PREFIX,
                combined_lifecycle_rule_id="archive-then-expire",
            ),
        )

    def _web_tier(
        self,
        vpc: ec2.IVpc,
        endpoint_security_group: ec2.ISecurityGroup,
        customer_key: kms.Key,
        alarm_topics: Mapping[int, sns.ITopic],
        min_capacity: int | None,
    ) -> WebTier:
        """The ALB and Auto Scaling group sized from configuration, with their acknowledgments."""
        deployment, sizing = self.deployment, self.deployment.sizing
        web = WebTier(
            self,
            "WebTier",
            props=WebTierProps(
                name_prefix=self.name_prefix,
                vpc=vpc,
                certificate=self.certificate,
                access_log_bucket=self.access_logs.bucket,
                volume_key=customer_key,
                instance_type=sizing.web_instance_type,
                min_capacity=min_capacity if min_capacity is not None else sizing.web_min_capacity,
                auto_scaling_group_name=FailoverTopology.of(deployment).web_asg_name(self.role),
                max_capacity=sizing.web_max_capacity,
                cpu_target_percent=sizing.web_cpu_target_percent,
                requests_per_target_per_minute=sizing.web_requests_per_target,
                deletion_protection=True,
                patch_group=web_patch_group(deployment),
                alarm_topics=alarm_topics,
                release_bucket_name=FailoverTopology.of(deployment).release_bucket(self.role),
                release=deployment.release,
                egress=WebEgress(
                    endpoint_security_group_id=endpoint_security_group.security_group_id,
                    # An SSM-typed parameter of this stack: synth stays hermetic, the id is read when the
                    # change set is created (written by tooling/region_facts.py, both targets).
                    s3_prefix_list_id=ssm.StringParameter.value_for_string_parameter(
                        self, FailoverTopology.of(deployment).s3_prefix_list_parameter(self.role)
                    ),
                    third_party=deployment.web_egress,
                ),
            ),
        )
        acknowledge(
            web.alb_security_group.node.default_child,  # type: ignore[arg-type]
            ["AwsSolutions-EC23"],
            "The internet-facing load balancer must accept the public on 443 (and 80, which only redirects "
            "to 443); compensating controls: WAF managed rules and rate limit, TLS 1.2+ policy, instances "
            "admit only the load balancer on the app port.",
        )
        acknowledge(
            web.instance_role.grants_policy,
            ["AwsSolutions-IAM5[Resource::*]"],
            "The SSM agent's ssm/ssmmessages/ec2messages actions and logs:DescribeLogGroups have no resource "
            "type; compensating controls: agent actions only (no parameter or data reads), instances in "
            "private subnets, IMDSv2, and no backup, archive or backup-key permissions (ACC-5).",
        )
        return web

    def _release_store(self, codebase_key: kms.IKey, data: DataStoreAccess) -> ReleaseStore:
        """This region's release bucket and release role (OPS-7); web instances read released artifacts only."""
        topology = FailoverTopology.of(self.deployment)
        bucket_name = topology.release_bucket(self.role)
        web = self.web
        store = ReleaseStore(
            self,
            "Releases",
            props=ReleaseStoreProps(
                bucket_name=bucket_name,
                role_name=topology.release_role_name(self.role),
                codebase_key=codebase_key,
                release_parameter_name=topology.release_parameter(self.role),
                launch_template_id=web.launch_template.launch_template_id or "",
                auto_scaling_group_name=topology.web_asg_name(self.role),
                instance_role=web.instance_role,
                access_log_bucket=self._server_access_log_target(
                    data, bucket_name, prefix=RELEASE_BUCKET_ACCESS_LOG_PREFIX, sid="ReleaseBucketAccessLogDelivery"
                ),
                access_log_prefix=RELEASE_BUCKET_ACCESS_LOG_PREFIX,
            ),
        )
        store.grant_read_released(web.instance_role)
        acknowledge(
            web.instance_role.grants_policy,
            [iam5_resource_finding(self, store.artifacts_arn)],
            "Instances read the release they boot, whose version is only known at boot, so the grant is the "
            "releases/ prefix; compensating controls: only objects tagged release-state=released by the release "
            "role, read-only, the codebase key usable only through S3 of this region.",
        )
        ssm.StringParameter(
            self,
            "ReleaseRecord",
            parameter_name=topology.release_parameter(self.role),
            description=f"{self.name_prefix}: the release this region runs (OPS-7; written by runbooks/release.py)",
            string_value=_release_record(self.deployment),
        )
        return store

    def _web_acl(self, logs_key: kms.IKey) -> RegionalWebAcl:
        """WAF managed rules and rate limit in front of the ALB, logged under the `logs` key."""
        retention = self.deployment.retention
        web_acl = RegionalWebAcl(
            self,
            "Waf",
            props=WebAclProps(
                name_prefix=self.name_prefix,
                logs_key=logs_key,
                log_retention=retention_days(retention.log_retention_days),
            ),
        )
        web_acl.associate("AlbAssociation", self.web.alb.load_balancer_arn)
        return web_acl

    def _alb_health_check(self) -> route53.CfnHealthCheck:
        """Each region's ALB is probed from outside by its own name (OPS-2): the public name
        answers with whichever region serves, so probing it would hide the other region."""
        return route53.CfnHealthCheck(
            self,
            "AlbHealthCheck",
            health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                type="HTTPS",
                fully_qualified_domain_name=self.web.alb.load_balancer_dns_name,
                port=443,
                resource_path=self.web.props.health_check_path,
                request_interval=HEALTH_CHECK_INTERVAL_SECONDS,
                failure_threshold=HEALTH_CHECK_FAILURE_THRESHOLD,
            ),
            health_check_tags=[
                route53.CfnHealthCheck.HealthCheckTagProperty(
                    key="Name", value=FailoverTopology.of(self.deployment).alb_health_check_name(self.role)
                )
            ],
        )

    def _outside_probe(self, alarm_topics: Mapping[int, sns.ITopic]) -> OutsideProbe:
        """The canary that requests the public name and this region's ALB, paging Sev1 (OPS-2)."""
        deployment = self.deployment
        return OutsideProbe(
            self,
            "OutsideProbe",
            props=OutsideProbeProps(
                canary_name=f"{deployment.jurisdiction}-{deployment.environment.value[:4]}-{self.role}-web",
                domain_name=deployment.domain_name,
                load_balancer_dns_name=self.web.alb.load_balancer_dns_name,
                health_check_path=self.web.props.health_check_path,
                artifacts_bucket=self.access_logs.bucket,
                alarm_topics=alarm_topics,
            ),
        )

    def _public_record(self, record: PublicRecord) -> cdk.CfnResource:
        """A plain alias without a standby; otherwise this region's half of the failover pair (DR-1)."""
        if record.failover is None:
            return self._alias_record(record)
        alb = self.web.alb
        alias = route53.CfnRecordSet.AliasTargetProperty(
            dns_name=alb.load_balancer_dns_name,
            hosted_zone_id=alb.load_balancer_canonical_hosted_zone_id,
            evaluate_target_health=False,  # failing over is a decision (the switch), never automatic
        )
        if record.failover == "PRIMARY":
            return self._primary_failover_record(record, alias)
        return route53.CfnRecordSet(
            self,
            "SecondaryFailoverRecord",
            hosted_zone_name=f"{record.domain_name}.",
            name=f"{record.domain_name}.",
            type="A",
            set_identifier=FAILOVER_RECORD_SECONDARY,
            failover="SECONDARY",
            alias_target=alias,
        )

    def _alias_record(self, record: PublicRecord) -> cdk.CfnResource:
        assert record.zone is not None
        simple = route53.ARecord(
            self,
            "AliasRecord",
            zone=record.zone,
            record_name=record.domain_name,
            target=route53.RecordTarget.from_alias(route53_targets.LoadBalancerTarget(self.web.alb)),
            comment=f"{self.deployment.name}: the application (no standby region)",
        )
        child = simple.node.default_child
        assert isinstance(child, cdk.CfnResource)
        return child

    def _primary_failover_record(
        self, record: PublicRecord, alias: route53.CfnRecordSet.AliasTargetProperty
    ) -> route53.CfnRecordSet:
        assert record.zone is not None and record.switch_region and record.switch_alarm_name
        # The switch: a health check on an alarm that lives in the DR region (DR-1). Route 53
        # health checkers read the alarm state, so failing over needs no call to this region
        # and no change to Route 53 records.
        self.switch_health_check = route53.CfnHealthCheck(
            self,
            "FailoverSwitchHealthCheck",
            health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                type="CLOUDWATCH_METRIC",
                alarm_identifier=route53.CfnHealthCheck.AlarmIdentifierProperty(
                    region=record.switch_region, name=record.switch_alarm_name
                ),
                insufficient_data_health_status="Healthy",
            ),
            health_check_tags=[
                route53.CfnHealthCheck.HealthCheckTagProperty(key="Name", value=record.switch_alarm_name)
            ],
        )
        return route53.CfnRecordSet(
            self,
            "PrimaryFailoverRecord",
            hosted_zone_id=record.zone.hosted_zone_id,
            name=f"{record.domain_name}.",
            type="A",
            set_identifier=FAILOVER_RECORD_PRIMARY,
            failover="PRIMARY",
            health_check_id=self.switch_health_check.attr_health_check_id,
            alias_target=alias,
        )

    def _app_config(self, data: DataStoreAccess) -> None:
        """Where the application finds this region's data stores: after a promotion the DR
        tier keeps serving with the same configuration (DR-1)."""
        tier = data.tier
        settings = {
            "database_endpoint": tier.database_endpoint,
            "database_port": tier.database_port,
            "database_secret_arn": tier.database_secret.secret_arn,
            "cache_endpoint": tier.cache_endpoint,
            "cache_port": tier.cache_port,
            "cache_user": tier.cache.user_id,
            "content_bucket": data.content_bucket_name,
        }
        self.app_config = ssm.StringParameter(
            self,
            "AppConfig",
            parameter_name=f"/{self.name_prefix}/app/config",
            description=f"{self.name_prefix}: the web tier's data stores in this region",
            string_value=cdk.Stack.of(self).to_json_string(settings),
        )
        self.app_config.grant_read(self.web.instance_role)

    def _wire_data_tier(self, data: DataStoreAccess) -> None:
        web = self.web
        tier = data.tier
        web.allow_to(tier.database_security_group, ec2.Port.tcp(tier.database_port), "web tier to PostgreSQL")
        web.allow_to(tier.cache_security_group, ec2.Port.tcp(tier.cache_port), "web tier to Redis")
        tier.cache.grant_connect(web.instance_role)
        self._read_database_secret(tier.database_secret)
        self._reach_content(data)

    def _read_database_secret(self, secret: secretsmanager.ISecret) -> None:
        """Explicit statements, not Secret.grant_read: that grant puts the instance role into the key
        policy of the Keys stack (a ViaService principal), which would make Keys depend on this stack."""
        role = self.web.instance_role
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadDataTierSecrets",
                actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                # A secret known by name only (the DR replica of the primary's secret) has a
                # partial ARN: match its six-character suffix.
                resources=[secret.secret_full_arn or f"{secret.secret_arn}-??????"],
            )
        )
        if secret.encryption_key is not None:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    sid="DecryptSecretsThroughSecretsManagerOnly",
                    actions=["kms:Decrypt"],
                    resources=[secret.encryption_key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{self.region}.amazonaws.com"}},
                )
            )

    def _reach_content(self, data: DataStoreAccess) -> None:
        """Every tenant's objects of this region's content bucket (HOST-5), through S3 only."""
        role = self.web.instance_role
        grant = tenant_object_grant(
            self,
            bucket_name=data.content_bucket_name,
            actions=(*TENANT_READ_ACTIONS, *TENANT_WRITE_ACTIONS),
            own_tenant_only=False,
            content_key=data.content_key,
        )
        for statement in grant.bucket_statements:
            role.add_to_principal_policy(statement)
        acknowledge(
            role.grants_policy,
            [iam5_resource_finding(self, grant.objects_arn)],
            "The multi-tenant web tier serves every tenant, so its object grant is the tenants/ prefix "
            "(HOST-5); compensating controls: nothing outside tenants/, no bucket or policy actions, the "
            "key usable only through S3, and no backup, archive or backup-key access (ACC-5).",
        )
        if grant.key_statement is not None:
            role.add_to_principal_policy(grant.key_statement)

    def _server_access_log_target(
        self,
        data: DataStoreAccess,
        source_bucket_name: str,
        *,
        prefix: str = ALB_LOG_BUCKET_ACCESS_LOG_PREFIX,
        sid: str = "AlbLogBucketAccessLogDelivery",
    ) -> s3.IBucket:
        """The data tier's access-log bucket, referenced by name: CDK would otherwise add the
        log-delivery grant for this bucket to that bucket's policy through a cross-stack
        reference in the wrong direction (a cycle). The grant is added here with literals."""
        target = data.server_access_logs_bucket
        source_arn = f"arn:{self.partition}:s3:::{source_bucket_name}"
        target.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[target.arn_for_objects(f"{prefix}*")],
                conditions={
                    "ArnLike": {"aws:SourceArn": source_arn},
                    "StringEquals": {"aws:SourceAccount": self.account},
                },
            )
        )
        return target

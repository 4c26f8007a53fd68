"""The web tier: an internet-facing ALB in front of an Auto Scaling group (HOST-1, HOST-4).

- ALB in the public subnets of every AZ, HTTPS only with a TLS 1.2+ policy; port 80
  answers with a permanent redirect to 443 (ENC-3); invalid headers dropped; access
  logs to an S3 bucket (ACC-3).
- Instances in the private subnets of every AZ, launched from a template: IMDSv2
  required, no key pair, no public address, encrypted gp3 root volume under the
  `customer` key (ENC-1), reached only through SSM Session Manager (ACC-2).
- Target-tracking scaling on CPU and on ALB requests per target; ELB health checks;
  releases roll out one instance at a time while `min_capacity` stay in service.
- The instance role gets the SSM agent's permissions through a customer-managed
  policy and nothing else; stacks add data grants (ACC-5: never backups).
- Egress (ACC-1): HTTPS to the VPC's interface endpoints (SSM, KMS, Secrets Manager, Logs) and to
  S3 through the gateway endpoint (its AWS-managed prefix list: releases, content, the Amazon Linux
  repositories), the data tier's ports (added by the stack), and the configuration's allow-list of
  third-party APIs (`web_egress`); nothing else, so the instances cannot send a tenant's objects to
  the internet through NAT.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from config.model import EgressRule, Release
from patterns.alerting import severity_alarm
from patterns.iam import ManagedPolicyRole
from patterns.keys import allow_auto_scaling_service_role
from patterns.network import closed_security_group
from patterns.release_boot import boot_commands
from patterns.retention import keep_with
from patterns.tagging import PATCH_GROUP, tag_data_classification, tag_stateless
from policies.acknowledgments import acknowledge_in_public_packs

# What the SSM agent needs (the AmazonSSMManagedInstanceCore actions, minus parameter reads).
# None of these actions supports resource-level permissions, so they apply to "*".
SSM_AGENT_ACTIONS: Final[tuple[str, ...]] = (
    "ssm:DescribeAssociation",
    "ssm:DescribeDocument",
    "ssm:GetDeployablePatchSnapshotForInstance",
    "ssm:GetDocument",
    "ssm:GetManifest",
    "ssm:ListAssociations",
    "ssm:ListInstanceAssociations",
    "ssm:PutComplianceItems",
    "ssm:PutConfigurePackageResult",
    "ssm:PutInventory",
    "ssm:UpdateAssociationStatus",
    "ssm:UpdateInstanceAssociationStatus",
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "ec2messages:AcknowledgeMessage",
    "ec2messages:DeleteMessage",
    "ec2messages:FailMessage",
    "ec2messages:GetEndpoint",
    "ec2messages:GetMessages",
    "ec2messages:SendReply",
)

ROOT_DEVICE: Final = "/dev/xvda"  # Amazon Linux 2023


@dataclass(frozen=True)
class WebEgress:
    """Where the instances may connect, besides the data tier (ACC-1)."""

    endpoint_security_group_id: str  # the VPC's interface endpoints (patterns/network.py)
    s3_prefix_list_id: str  # the region's `com.amazonaws.<region>.s3` list (gateway endpoint)
    third_party: tuple[EgressRule, ...] = ()  # config `web_egress.allow`


@dataclass(frozen=True)
class WebTierProps:
    name_prefix: str  # e.g. "au-production-primary"
    vpc: ec2.IVpc
    certificate: acm.ICertificate
    access_log_bucket: s3.IBucket  # SSE-S3: the only encryption ALB log delivery accepts
    volume_key: kms.Key  # the `customer` key; its policy gains the Auto Scaling service role
    instance_type: str
    min_capacity: int
    max_capacity: int
    cpu_target_percent: int
    requests_per_target_per_minute: int
    deletion_protection: bool
    patch_group: str
    alarm_topics: Mapping[int, sns.ITopic]  # severity -> topic: every alarm and notification pages one
    egress: WebEgress
    app_port: int = 8080
    health_check_path: str = "/health"
    root_volume_gib: int = 30
    target_response_time_seconds: float = 2.0
    auto_scaling_group_name: str | None = None  # deterministic, so failover automation finds it
    release_bucket_name: str = ""  # this region's release bucket (OPS-7; literal, from config/topology.py)
    release: Release | None = None  # the pinned release; None: the first-boot placeholder


class WebTier(Construct):
    """Validate, then build in order: security groups, instance role, launch template, Auto Scaling
    group, load balancer with its target group and listeners, request-based scaling, alarms."""

    def __init__(self, scope: Construct, id: str, *, props: WebTierProps) -> None:
        super().__init__(scope, id)
        if props.min_capacity < 2:
            raise ValueError(f"web tier min_capacity {props.min_capacity}: at least 2 (HOST-1)")
        self.props = props
        self.alb_security_group, self.app_security_group = self._security_groups()
        self.instance_role = self._instance_role()
        self.launch_template = self._launch_template()
        self.auto_scaling_group = self._auto_scaling_group()
        self.alb = self._load_balancer()
        self.target_group = self._target_group()
        self.https_listener, self.http_listener = self._listeners()
        self._scale_on_requests()
        self.alarms = self._alarms()

    def allow_to(self, peer: ec2.ISecurityGroup, port: ec2.Port, description: str) -> None:
        """Let the instances reach a data store's security group (egress here, ingress there)."""
        self.app_security_group.connections.allow_to(peer, port, description)

    def _security_groups(self) -> tuple[ec2.SecurityGroup, ec2.SecurityGroup]:
        """The internet reaches the ALB on 443/80 only; the instances reach only what `props.egress` names."""
        props = self.props
        alb_sg = closed_security_group(
            self,
            "AlbSecurityGroup",
            vpc=props.vpc,
            description=f"{props.name_prefix} ALB: HTTPS and HTTP (redirect only) from the internet",
        )
        for port, why in ((443, "HTTPS from the internet"), (80, "HTTP from the internet, redirected to HTTPS")):
            alb_sg.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(port), why)
        app_sg = closed_security_group(
            self,
            "AppSecurityGroup",
            vpc=props.vpc,
            description=f"{props.name_prefix} web instances: app port from the ALB only, no SSH",
        )
        egress = props.egress
        app_sg.add_egress_rule(
            ec2.Peer.security_group_id(egress.endpoint_security_group_id),
            ec2.Port.tcp(443),
            "HTTPS to the VPC's AWS interface endpoints",
        )
        app_sg.add_egress_rule(
            ec2.Peer.prefix_list(egress.s3_prefix_list_id),
            ec2.Port.tcp(443),
            "HTTPS to S3 through the gateway endpoint: releases, content, OS repositories",
        )
        for rule in egress.third_party:
            app_sg.add_egress_rule(ec2.Peer.ipv4(rule.cidr), ec2.Port.tcp(rule.port), rule.reason[:255])
        return alb_sg, app_sg

    def _instance_role(self) -> ManagedPolicyRole:
        """The SSM agent only; stacks add scoped data grants."""
        props = self.props
        role = ManagedPolicyRole(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description=f"{props.name_prefix} web instances: SSM agent and scoped application grants",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(sid="SsmAgent", actions=list(SSM_AGENT_ACTIONS), resources=["*"])
        )
        return role

    def _launch_template(self) -> ec2.LaunchTemplate:
        """IMDSv2, no public address, encrypted gp3 root volume under the `customer` key (ENC-1)."""
        props = self.props
        template = ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            launch_template_name=f"{props.name_prefix}-web",
            instance_type=ec2.InstanceType(props.instance_type),
            machine_image=ec2.MachineImage.latest_amazon_linux2023(),
            user_data=_user_data(props, cdk.Stack.of(self).region),
            role=self.instance_role,
            security_group=self.app_security_group,
            require_imdsv2=True,
            http_put_response_hop_limit=1,
            instance_metadata_tags=True,
            detailed_monitoring=True,
            ebs_optimized=True,
            associate_public_ip_address=False,
            block_devices=[
                ec2.BlockDevice(
                    device_name=ROOT_DEVICE,
                    volume=ec2.BlockDeviceVolume.ebs(
                        props.root_volume_gib,
                        encrypted=True,
                        kms_key=props.volume_key,
                        volume_type=ec2.EbsDeviceVolumeType.GP3,
                        delete_on_termination=True,
                    ),
                )
            ],
        )
        # Instances and volumes inherit these through the template's tag specifications. The web tier is
        # stateless (BAK-2): an instance is rebuilt from this launch template (AMI + user data), never
        # restored, and its root volume is deleted with it, so no plan backs it up (no daily AMI and
        # snapshot per instance, copied cross-region, kept for years). Data lives in RDS and S3.
        tag_stateless(template)
        tag_data_classification(template, "customer")
        cdk.Tags.of(template).add(PATCH_GROUP, props.patch_group)
        allow_auto_scaling_service_role(
            props.volume_key, cdk.Stack.of(self), "AllowAutoScalingToUseKeyForEncryptedVolumes"
        )
        return template

    def _auto_scaling_group(self) -> autoscaling.AutoScalingGroup:
        """In the private subnets of every AZ; releases roll one instance at a time; CPU target tracking."""
        props = self.props
        # Launch/terminate errors page the Sev3 queue; ordinary launches and terminations go to Sev4.
        notifications = [
            autoscaling.NotificationConfiguration(topic=props.alarm_topics[severity], scaling_events=events)
            for severity, events in (
                (3, autoscaling.ScalingEvents.ERRORS),
                (
                    4,
                    autoscaling.ScalingEvents(
                        autoscaling.ScalingEvent.INSTANCE_LAUNCH, autoscaling.ScalingEvent.INSTANCE_TERMINATE
                    ),
                ),
            )
            if severity in props.alarm_topics
        ]
        group = autoscaling.AutoScalingGroup(
            self,
            "Instances",
            auto_scaling_group_name=props.auto_scaling_group_name,
            vpc=props.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            launch_template=self.launch_template,
            min_capacity=props.min_capacity,
            max_capacity=props.max_capacity,
            health_checks=autoscaling.HealthChecks.with_additional_checks(
                additional_types=[autoscaling.AdditionalHealthCheckType.ELB],
                grace_period=cdk.Duration.minutes(5),
            ),
            cooldown=cdk.Duration.minutes(5),
            default_instance_warmup=cdk.Duration.minutes(3),
            group_metrics=[autoscaling.GroupMetrics.all()],
            update_policy=autoscaling.UpdatePolicy.rolling_update(
                max_batch_size=1,
                min_instances_in_service=min(props.min_capacity, props.max_capacity - 1),
                pause_time=cdk.Duration.minutes(5),
                suspend_processes=[
                    autoscaling.ScalingProcess.HEALTH_CHECK,
                    autoscaling.ScalingProcess.REPLACE_UNHEALTHY,
                    autoscaling.ScalingProcess.AZ_REBALANCE,
                    autoscaling.ScalingProcess.ALARM_NOTIFICATION,
                    autoscaling.ScalingProcess.SCHEDULED_ACTIONS,
                ],
            ),
            notifications=notifications or None,
        )
        # The group carries the tag too (propagated at launch): the policy pack sees a web tier that
        # declares itself stateless and checks that it keeps no volume (BAK-2).
        tag_stateless(group)
        group.scale_on_cpu_utilization("CpuTarget", target_utilization_percent=props.cpu_target_percent)
        return group

    def _load_balancer(self) -> elbv2.ApplicationLoadBalancer:
        """Internet-facing in the public subnets, invalid headers dropped, access logs (ACC-3)."""
        props = self.props
        alb = elbv2.ApplicationLoadBalancer(
            self,
            "Alb",
            vpc=props.vpc,
            internet_facing=True,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            security_group=self.alb_security_group,
            drop_invalid_header_fields=True,
            deletion_protection=props.deletion_protection,
            desync_mitigation_mode=elbv2.DesyncMitigationMode.STRICTEST,
            http2_enabled=True,
        )
        alb.log_access_logs(props.access_log_bucket, prefix="alb")
        # CloudFormation never deletes a load balancer (deletion protection refuses it,
        # patterns/retention.py), so a failed first create's rollback keeps its security group too.
        keep_with(self.alb_security_group)
        return alb

    def _target_group(self) -> elbv2.ApplicationTargetGroup:
        """The instances on the app port, checked on the health path."""
        props = self.props
        return elbv2.ApplicationTargetGroup(
            self,
            "Targets",
            vpc=props.vpc,
            port=props.app_port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            target_type=elbv2.TargetType.INSTANCE,
            targets=[self.auto_scaling_group],
            deregistration_delay=cdk.Duration.seconds(30),
            health_check=elbv2.HealthCheck(
                path=props.health_check_path,
                healthy_http_codes="200",
                interval=cdk.Duration.seconds(15),
                timeout=cdk.Duration.seconds(5),
                healthy_threshold_count=2,
                unhealthy_threshold_count=3,
            ),
        )

    def _listeners(self) -> tuple[elbv2.ApplicationListener, elbv2.ApplicationListener]:
        """HTTPS with a TLS 1.2+ policy; port 80 only redirects to it (ENC-3)."""
        props = self.props
        https = self.alb.add_listener(
            "Https",
            port=443,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_certificate_manager(props.certificate)],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            default_target_groups=[self.target_group],
            open=False,
        )
        http = self.alb.add_listener(
            "Http",
            port=80,
            protocol=elbv2.ApplicationProtocol.HTTP,
            default_action=elbv2.ListenerAction.redirect(protocol="HTTPS", port="443", permanent=True),
            open=False,
        )
        acknowledge_in_public_packs(
            http.node.default_child,  # type: ignore[arg-type]
            "ELBv2ACMCertificateRequired",
            "Port 80 only answers with a permanent redirect to HTTPS and forwards nothing; a plain-HTTP "
            "listener cannot hold a certificate. Compensating control: the 443 listener uses an ACM "
            "certificate with a TLS 1.2+ policy (ENC-3).",
        )
        # cfn-lint's resource spec has no Tags on listeners (E3002); a listener holds no data.
        for listener in (https, http):
            _cfn(listener).add_property_deletion_override("Tags")
        return https, http

    def _scale_on_requests(self) -> None:
        """Target tracking on ALB requests per target."""
        props = self.props
        requests_policy = self.auto_scaling_group.scale_on_request_count(
            "RequestsPerTarget", target_requests_per_minute=props.requests_per_target_per_minute
        )
        # The policy's resource label already references the listener's load balancer and target group
        # (cfn-lint W3005 on the explicit DependsOn CDK adds as well): keep the implicit ordering only.
        _cfn(requests_policy).add_deletion_override("DependsOn")

    def _alarms(self) -> dict[str, cloudwatch.Alarm]:
        """Sev1 when the site is down, Sev2 on 5xx answers, Sev3 on degraded instances (OPS-2, OPS-4)."""
        props = self.props
        alb_metrics = self.alb.metrics
        tg_metrics = self.target_group.metrics
        five_minutes = cdk.Duration.minutes(5)
        one_minute = cdk.Duration.minutes(1)
        at_least = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        alarms = [
            self._alarm(
                "NoHealthyHosts",
                1,
                "no healthy web instance behind the load balancer: the site is down",
                metric=tg_metrics.healthy_host_count(period=one_minute, statistic="Minimum"),
                threshold=1,
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=2,
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            ),
            self._alarm(
                "Elb5xx",
                2,
                "the load balancer answers 5xx (no target could serve the request)",
                metric=alb_metrics.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=five_minutes, statistic="Sum"),
                threshold=10,
                comparison=at_least,
                evaluation_periods=1,
            ),
            self._alarm(
                "Target5xx",
                2,
                "web instances answer 5xx",
                metric=tg_metrics.http_code_target(
                    elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=five_minutes, statistic="Sum"
                ),
                threshold=25,
                comparison=at_least,
                evaluation_periods=1,
            ),
            self._alarm(
                "UnhealthyHosts",
                3,
                "at least one web instance fails its health check",
                metric=tg_metrics.unhealthy_host_count(period=one_minute, statistic="Maximum"),
                threshold=1,
                comparison=at_least,
                evaluation_periods=5,
            ),
            self._alarm(
                "TargetResponseTime",
                3,
                f"p95 target response time above {props.target_response_time_seconds} s",
                metric=tg_metrics.target_response_time(period=five_minutes, statistic="p95"),
                threshold=props.target_response_time_seconds,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=3,
            ),
        ]
        return dict(alarms)

    def _alarm(
        self,
        name: str,
        severity: int,
        what: str,
        *,
        metric: cloudwatch.IMetric,
        threshold: float,
        comparison: cloudwatch.ComparisonOperator,
        evaluation_periods: int,
        treat_missing_data: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> tuple[str, cloudwatch.Alarm]:
        props = self.props
        alarm = severity_alarm(
            self,
            f"{name}Alarm",
            topics=props.alarm_topics,
            severity=severity,
            summary=f"{props.name_prefix} {what}",
            with_response_times=False,
            alarm_name=f"{props.name_prefix}-web-{name}",
            metric=metric,
            threshold=threshold,
            comparison=comparison,
            evaluation_periods=evaluation_periods,
            treat_missing_data=treat_missing_data,
        )
        return name, alarm


def _cfn(construct: Construct) -> cdk.CfnResource:
    resource = construct.node.default_child
    assert isinstance(resource, cdk.CfnResource)
    return resource


def _user_data(props: WebTierProps, region: str) -> ec2.UserData:
    """The boot script of `patterns/release_boot.py`: the pinned release, digest-checked, or the
    first-boot placeholder. The systemd unit `app` and the health endpoint are the contract with
    the load balancer."""
    user_data = ec2.UserData.for_linux()
    user_data.add_commands(
        *boot_commands(
            app_port=props.app_port,
            health_check_path=props.health_check_path,
            release_bucket=props.release_bucket_name,
            region=region,
            release=props.release,
        )
    )
    return user_data

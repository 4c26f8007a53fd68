"""The regional network: three tiers over pinned AZs, flow logs, private endpoints."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from patterns.iam import ManagedPolicyRole
from policies.acknowledgments import acknowledge_in_public_packs

INTERFACE_ENDPOINTS = {
    "Ssm": ec2.InterfaceVpcEndpointAwsService.SSM,
    "SsmMessages": ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
    "Ec2Messages": ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "CloudWatchLogs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
}


def closed_security_group(scope: Construct, id: str, *, vpc: ec2.IVpc, description: str) -> ec2.SecurityGroup:
    """A security group that admits nothing and sends nothing (CDK's allow-all egress off): its owner
    adds each rule it needs, so every open port in a template has a line that asked for it."""
    return ec2.SecurityGroup(scope, id, vpc=vpc, description=description, allow_all_outbound=False)


@dataclass(frozen=True)
class NetworkProps:
    availability_zones: tuple[str, ...]
    nat_gateways: int
    cidr: str
    logs_key: kms.IKey
    flow_log_retention: logs.RetentionDays


class SecureNetwork(Construct):
    """VPC with public, private (egress) and isolated subnets.

    The default security group is closed (CDK's restrict-default-SG custom
    resource), flow logs capture ALL traffic into a KMS-encrypted log group with
    explicit retention (ACC-3, BAK-7), and AWS APIs are reached through endpoints
    so that instances need no internet path for SSM or KMS (ACC-2).
    """

    def __init__(self, scope: Construct, id: str, *, props: NetworkProps) -> None:
        super().__init__(scope, id)
        self.props = props
        # Without NAT gateways nothing runs in private subnets (a DR region without a standby):
        # only isolated subnets, and no interface endpoints that nothing would use.
        serving = props.nat_gateways > 0
        self.vpc = self._vpc(serving)
        self._close_public_subnets()
        self.flow_log_group, self.flow_log_role, self.flow_log = self._flow_logs()
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        if not serving:
            return
        self.endpoint_security_group = self._endpoint_security_group()
        self.interface_endpoints = self._interface_endpoints()

    def _vpc(self, serving: bool) -> ec2.Vpc:
        props = self.props
        tiers = [
            ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
            ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20),
            ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
        ]
        return ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(props.cidr),
            availability_zones=list(props.availability_zones),
            nat_gateways=props.nat_gateways,
            restrict_default_security_group=True,
            subnet_configuration=tiers if serving else tiers[2:],
        )

    def _close_public_subnets(self) -> None:
        for subnet in self.vpc.public_subnets:
            # Only load balancers live here; nothing gets a public IP by accident.
            cfn_subnet = subnet.node.default_child
            assert isinstance(cfn_subnet, ec2.CfnSubnet)
            cfn_subnet.map_public_ip_on_launch = False
            # The internet-facing ALB needs a route to the internet gateway.
            acknowledge_in_public_packs(
                subnet.node.find_child("DefaultRoute"),
                "VPCNoUnrestrictedRouteToIGW",
                "Public subnets hold only the internet-facing load balancer; compensating controls: "
                "no public IPs on launch, instances only in private subnets, WAF on the ALB, flow logs on.",
            )

    def _flow_logs(self) -> tuple[logs.LogGroup, ManagedPolicyRole, ec2.FlowLog]:
        """ALL traffic into the encrypted log group (ACC-3, BAK-7)."""
        props = self.props
        flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            encryption_key=props.logs_key,
            retention=props.flow_log_retention,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        flow_log_role = ManagedPolicyRole(
            self,
            "FlowLogRole",
            assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"),
            description="Delivers VPC flow logs to the encrypted flow-log group",
        )
        flow_log = self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group, flow_log_role),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        return flow_log_group, flow_log_role, flow_log

    def _endpoint_security_group(self) -> ec2.SecurityGroup:
        group = closed_security_group(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="HTTPS from inside the VPC to AWS API interface endpoints",
        )
        group.add_ingress_rule(ec2.Peer.ipv4(self.props.cidr), ec2.Port.tcp(443), "HTTPS from the VPC")
        return group

    def _interface_endpoints(self) -> dict[str, ec2.InterfaceVpcEndpoint]:
        return {
            name: self.vpc.add_interface_endpoint(
                name,
                service=service,
                private_dns_enabled=True,
                open=False,  # the endpoint security group already admits the VPC CIDR
                security_groups=[self.endpoint_security_group],
                subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            )
            for name, service in INTERFACE_ENDPOINTS.items()
        }

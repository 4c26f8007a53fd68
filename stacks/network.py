"""NetworkStack: the VPC, its endpoints and flow logs in one region."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from config import Deployment
from config.topology import PRIMARY, FailoverTopology
from patterns.log_retention import retention_days
from patterns.network import NetworkProps, SecureNetwork
from stacks.base import PlatformStack, vpc_cidr


class NetworkStack(PlatformStack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        deployment: Deployment,
        role: str,
        logs_key: kms.IKey,
    ) -> None:
        super().__init__(
            scope,
            id,
            deployment=deployment,
            role=role,
            summary="VPC over 3 AZs, NAT, VPC endpoints, encrypted flow logs",
        )
        # A DR region without a standby holds only keys and the vault: no NAT, no interface endpoints.
        serves = role == "primary" or deployment.standby.enabled
        nat_gateways = deployment.sizing.nat_gateways if serves else 0
        self.network = SecureNetwork(
            self,
            "Network",
            props=NetworkProps(
                availability_zones=deployment.availability_zones(self.region),
                nat_gateways=nat_gateways,
                cidr=vpc_cidr(deployment, role),
                logs_key=logs_key,
                flow_log_retention=retention_days(deployment.retention.log_retention_days),
            ),
        )
        _tidy_default_sg_provider(self, logs_key, deployment.retention.log_retention_days)
        if role == PRIMARY:
            # Read by the Data stack's hosted rotation as an SSM-typed parameter (patterns/encrypted_postgres.py).
            ssm.StringParameter(
                self,
                "RotationSubnetIds",
                parameter_name=FailoverTopology.of(deployment).rotation_subnets_parameter(),
                description=f"{self.name_prefix}: private subnets of the database credentials' rotation function",
                string_value=cdk.Fn.join(",", [subnet.subnet_id for subnet in self.network.vpc.private_subnets]),
            )
        cdk.CfnOutput(self, "VpcId", value=self.network.vpc.vpc_id)
        cdk.CfnOutput(self, "FlowLogGroup", value=self.network.flow_log_group.log_group_name)


def _tidy_default_sg_provider(stack: cdk.Stack, logs_key: kms.IKey, retention: int) -> None:
    """CDK's restrict-default-SG provider Lambda: give it a managed, encrypted log group
    with explicit retention (BAK-7) instead of an implicit /aws/lambda group, and drop
    a DependsOn that its Fn::GetAtt already implies (cfn-lint W3005)."""
    provider = stack.node.try_find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
    if provider is None:
        return
    handler = provider.node.find_child("Handler")
    role = provider.node.find_child("Role")
    assert isinstance(handler, cdk.CfnResource) and isinstance(role, cdk.CfnResource)
    handler.remove_resource_dependency(role)
    log_group = logs.LogGroup(
        stack,
        "RestrictDefaultSgLogs",
        encryption_key=logs_key,
        retention=retention_days(retention),
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    handler.add_property_override("LoggingConfig", {"LogGroup": log_group.log_group_name})

"""The deployed stacks that declare each region's DB instance, for the failback tests.

moto's CloudFormation cannot deploy the Data stacks in-process (the game day deploys them
through the launcher's fixes): `DeclaringStacks` answers `GetTemplate`, `ListStackResources`
and `DescribeStacks` as CloudFormation documents them, with the synthesized templates of
au-production and physical resources created in the moto world (parameter groups, subnet
groups, security groups) so the RDS calls that name them succeed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from config.topology import DR, PRIMARY, FailoverTopology
from tests.runbooks.conftest import Region, Standby

STACK_IDS = {PRIMARY: "Data", DR: "StandbyData"}


@dataclass
class DeclaringStacks:
    """CloudFormation of one region: the declared templates and their resources' physical ids."""

    templates: dict[str, dict[str, Any]]
    physical: dict[str, dict[str, str]]  # stack -> logical id -> physical id
    outputs: dict[str, str] = field(default_factory=dict)  # output name -> value (any stack)

    def get_template(self, StackName: str, TemplateStage: str = "Original") -> dict[str, Any]:  # noqa: N803
        return {"TemplateBody": self.templates[StackName], "StagesAvailable": ["Original", "Processed"]}

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803
        outputs = [{"OutputKey": k, "OutputValue": v} for k, v in self.outputs.items()]
        return {"Stacks": [{"StackName": StackName, "Outputs": outputs}]}

    def get_paginator(self, operation: str) -> Any:
        stacks = self

        class Pages:
            def paginate(self, StackName: str = "", **_: Any) -> Iterator[dict[str, Any]]:  # noqa: N803
                assert operation == "list_stack_resources", operation
                summaries = [
                    {"LogicalResourceId": logical, "PhysicalResourceId": physical}
                    for logical, physical in stacks.physical[StackName].items()
                ]
                yield {"StackResourceSummaries": summaries}

        return Pages()


def stack_name(topo: FailoverTopology, role: str) -> str:
    return f"{topo.prefix(role)}-{STACK_IDS[role].lower()}"


def declared_instance(template: dict[str, Any], identifier: str) -> dict[str, Any]:
    (found,) = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::RDS::DBInstance" and r["Properties"].get("DBInstanceIdentifier") == identifier
    ]
    return dict(found)


def declaring_stacks(world: Standby, stages: dict[str, Any]) -> dict[str, DeclaringStacks]:
    """One `DeclaringStacks` per region, whose physical resources exist in the moto world."""
    topo = world.topo
    answers = {}
    for role, region in ((PRIMARY, world.primary), (DR, world.dr)):
        stack = stages[role].node.find_child(STACK_IDS[role])
        assert isinstance(stack, cdk.Stack)
        template = dict(Template.from_stack(stack).to_json())
        name = stack_name(topo, role)
        physical = {
            logical: _physical(region, logical, template["Resources"][logical]["Type"])
            for logical in _referenced(declared_instance(template, topo.db_instance_id(role)))
        }
        key = region.kms.describe_key(KeyId=topo.customer_key_alias())["KeyMetadata"]["Arn"]
        outputs = {o: key for o in _outputs(declared_instance(template, topo.db_instance_id(role)))}
        answers[role] = DeclaringStacks({name: template}, {name: physical}, outputs)
    return answers


def _referenced(value: Any) -> set[str]:
    if isinstance(value, list):
        return set().union(*(_referenced(v) for v in value)) if value else set()
    if not isinstance(value, dict):
        return set()
    if set(value) == {"Ref"}:
        return {value["Ref"]}
    if set(value) == {"Fn::GetAtt"}:
        return {value["Fn::GetAtt"][0]}
    return set().union(*(_referenced(v) for v in value.values())) if value else set()


def _outputs(value: Any) -> set[str]:
    if isinstance(value, list):
        return set().union(*(_outputs(v) for v in value)) if value else set()
    if not isinstance(value, dict):
        return set()
    if set(value) == {"Fn::GetStackOutput"}:
        return {value["Fn::GetStackOutput"]["OutputName"]}
    return set().union(*(_outputs(v) for v in value.values())) if value else set()


def _physical(region: Region, logical: str, kind: str) -> str:
    name = logical.lower()
    vpc = region.ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.20.0.0/16"]}])["Vpcs"][0]["VpcId"]
    if kind == "AWS::RDS::DBParameterGroup":
        region.rds.create_db_parameter_group(
            DBParameterGroupName=name, DBParameterGroupFamily="postgres17", Description=logical
        )
        return name
    if kind == "AWS::RDS::DBSubnetGroup":
        subnets = region.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
        region.rds.create_db_subnet_group(
            DBSubnetGroupName=name, DBSubnetGroupDescription=logical, SubnetIds=[s["SubnetId"] for s in subnets]
        )
        return name
    if kind == "AWS::EC2::SecurityGroup":
        return str(region.ec2.create_security_group(GroupName=name, Description=logical, VpcId=vpc)["GroupId"])
    return name  # a role: its name

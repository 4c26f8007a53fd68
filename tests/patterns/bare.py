"""The bare stack every pattern test builds on: one account and region, no deployment, no pack."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

ENV = cdk.Environment(account="123456789012", region="eu-west-2")


def bare_stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Bare", env=ENV)


def tags(resource: Mapping[str, Any]) -> dict[str, str]:
    """A template resource's tags as a mapping."""
    return {t["Key"]: t["Value"] for t in resource["Properties"].get("Tags", [])}


def logical_id(stack: cdk.Stack, construct: IConstruct) -> str:
    """The logical id the template gives an L2 construct's CloudFormation resource."""
    resource = construct.node.default_child
    assert isinstance(resource, cdk.CfnElement)
    return stack.get_logical_id(resource)


def ref(stack: cdk.Stack, construct: IConstruct) -> dict[str, str]:
    return {"Ref": logical_id(stack, construct)}


def arn_of(stack: cdk.Stack, construct: IConstruct) -> dict[str, list[str]]:
    """`{"Fn::GetAtt": [<logical id>, "Arn"]}` of an L2 construct."""
    return {"Fn::GetAtt": [logical_id(stack, construct), "Arn"]}

"""The bare stack every pattern test builds on: one account and region, no deployment, no pack."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk

ENV = cdk.Environment(account="123456789012", region="eu-west-2")


def bare_stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Bare", env=ENV)


def tags(resource: Mapping[str, Any]) -> dict[str, str]:
    """A template resource's tags as a mapping."""
    return {t["Key"]: t["Value"] for t in resource["Properties"].get("Tags", [])}


def ref(stack: cdk.Stack, construct: cdk.IResource | Any) -> dict[str, str]:
    """`{"Ref": <logical id>}` of an L2 construct's CloudFormation resource, as the template names it."""
    return {"Ref": stack.get_logical_id(construct.node.default_child)}

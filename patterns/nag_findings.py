"""cdk-nag finding ids, rendered as cdk-nag renders them, for `policies.acknowledgments.acknowledge`.

An acknowledgment names the exact finding id; for a wildcard resource that id
contains the resource ARN as cdk-nag flattens it, so it is computed here, never typed.
"""

from __future__ import annotations

import json
from typing import Final

import aws_cdk as cdk

IAM5: Final = "AwsSolutions-IAM5"
# The public packs that name a rule `<pack>-<rule>` (NIST 800-53 r5, HIPAA Security, PCI DSS 3.2.1).
PUBLIC_PACK_PREFIXES: Final[tuple[str, ...]] = ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")


def iam5_resource_finding(stack: cdk.Stack, arn: str) -> str:
    """The AwsSolutions-IAM5 finding id of a wildcard resource, rendered as cdk-nag renders it
    (its flattenCfnReference: `${x}` -> `<x>`, Ref -> `<Name>`, GetAtt -> `<Res.Attr>`). Whether
    the partition resolves to a literal depends on feature flags, so the id is computed, not typed."""
    return f"{IAM5}[Resource::{_flatten_reference(stack.resolve(arn))}]"


def iam5_findings(document: object) -> list[str]:
    """Every AwsSolutions-IAM5 finding id of a resolved policy document: a wildcard action or resource."""
    found: list[str] = []
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    for statement in statements if isinstance(statements, list) else [statements]:
        for key, kind in (("Action", "Action"), ("Resource", "Resource")):
            values = statement.get(key, [])
            for value in values if isinstance(values, list) else [values]:
                if "*" not in json.dumps(value):
                    continue
                rendered = _flatten_reference(value)
                if "*" in rendered:
                    found.append(f"{IAM5}[{kind}::{rendered}]")
    return sorted(set(found))


def _flatten_reference(node: object) -> str:
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(_flatten_reference(item) for item in items)
        if "Ref" in node:
            return f"<{_flatten_reference(node['Ref'])}>"
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{_flatten_reference(resource)}.{_flatten_reference(attribute)}>"
    raise ValueError(f"cannot render {node!r} as a cdk-nag finding; acknowledge a literal ARN")

"""What a deployment built, per region, read back from CloudFormation with boto3."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# CDK's weak cross-stack references (Fn::GetStackOutput) publish these; not for people.
INTERNAL_OUTPUT_PREFIX = "PublishOutput"
NOT_MODELLED = "not-modelled-by-the-emulator"

KEY_RESOURCE_TYPES = (
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::EC2::NatGateway",
    "AWS::EC2::VPCEndpoint",
    "AWS::KMS::Key",
    "AWS::S3::Bucket",
    "AWS::RDS::DBInstance",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::AutoScaling::AutoScalingGroup",
    "AWS::WAFv2::WebACL",
    "AWS::CloudTrail::Trail",
    "AWS::SNS::Topic",
    "AWS::CloudWatch::Alarm",
    "AWS::Backup::BackupVault",
    "AWS::Backup::BackupPlan",
    "AWS::IAM::Role",
)


@dataclass
class StackSummary:
    name: str
    status: str
    resource_types: Counter[str] = field(default_factory=Counter)
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class RegionSummary:
    region: str
    stacks: list[StackSummary]
    release: str = ""  # what the region's web tier runs (OPS-7), from its release record


def release_running(ssm: Any, parameter: str) -> str:
    """The release a region runs, from its SSM record (runbooks/release.py writes it)."""
    try:
        record = json.loads(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])
    except Exception:  # no web tier in this region, or no record: nothing runs there
        return "no web tier"
    if not record.get("version"):
        return "no release yet (first-boot placeholder)"
    return f"{record['version']} (sha256 {str(record.get('sha256', ''))[:12]}...)"


def summarize_region(cloudformation: Any, region: str, stack_prefix: str) -> RegionSummary:
    """`cloudformation` is a boto3 CloudFormation client for `region`."""
    stacks: list[StackSummary] = []
    for page in cloudformation.get_paginator("describe_stacks").paginate():
        for stack in page["Stacks"]:
            if not stack["StackName"].startswith(stack_prefix):
                continue
            summary = StackSummary(
                name=stack["StackName"],
                status=stack["StackStatus"],
                outputs={o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])},
            )
            for resource_page in cloudformation.get_paginator("list_stack_resources").paginate(
                StackName=stack["StackName"]
            ):
                summary.resource_types.update(r["ResourceType"] for r in resource_page["StackResourceSummaries"])
            stacks.append(summary)
    return RegionSummary(region=region, stacks=sorted(stacks, key=lambda s: s.name))


def render(regions: list[RegionSummary]) -> str:
    lines: list[str] = []
    for region in regions:
        lines.append(f"\n== {region.region}: {len(region.stacks)} stacks ==")
        if region.release:
            lines.append(f"  release running: {region.release}")
        for stack in region.stacks:
            total = sum(stack.resource_types.values())
            lines.append(f"  {stack.name:<44} {stack.status:<18} {total:>4} resources")
            key = [
                f"{t.split('::', 1)[1]} x{stack.resource_types[t]}"
                for t in KEY_RESOURCE_TYPES
                if t in stack.resource_types
            ]
            if key:
                lines.append(f"      {', '.join(key)}")
            for name, value in sorted(stack.outputs.items()):
                if name.startswith(INTERNAL_OUTPUT_PREFIX):
                    continue
                shown = "(not modelled by the emulator)" if NOT_MODELLED in value else value
                lines.append(f"      output {name} = {shown}")
    return "\n".join(lines)

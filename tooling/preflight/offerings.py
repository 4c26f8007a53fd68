"""Preflight: the web tier's instance type and the cache's node type are offered where they run
(issue 17 item 2; the RDS class is `tooling.preflight.versions.check_db_instance_class`).

- EC2: `DescribeInstanceTypeOfferings` with `LocationType=availability-zone` lists the types
  offered per zone of this account; the web tier's Auto Scaling group spans every pinned zone
  of the region (config/regions.py), so a type missing in one zone fails a launch there
  (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceTypeOfferings.html).
- ElastiCache has no orderable-options call; `DescribeReservedCacheNodesOfferings` filtered by
  node type lists what can be bought in the region, and a node type with no offering there is not
  sold in it (https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_DescribeReservedCacheNodesOfferings.html,
  supported node types by Region: https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheNodes.SupportedTypes.html).
"""

from __future__ import annotations

from typing import Any

from config import Deployment
from tooling.preflight.results import AWS_ERRORS, CheckResult, PreflightOptions, Status, error_code, profile_flag

DEFAULT_OPTIONS = PreflightOptions()


def check_instance_type_offerings(
    ec2: Any, region: str, deployment: Deployment, options: PreflightOptions = DEFAULT_OPTIONS
) -> CheckResult:
    name = "web instance type"
    instance_type = deployment.sizing.web_instance_type
    zones = deployment.availability_zones(region)
    remedy = (
        f"set sizing.web_instance_type in config/deployments.toml to a type offered in {', '.join(zones)}: "
        f"aws ec2 describe-instance-type-offerings --location-type availability-zone --region {region}"
        f"{profile_flag(options)} --filters Name=instance-type,Values={instance_type}"
    )
    try:
        pages = ec2.get_paginator("describe_instance_type_offerings").paginate(
            LocationType="availability-zone",
            Filters=[{"Name": "instance-type", "Values": [instance_type]}, {"Name": "location", "Values": list(zones)}],
        )
        offered = {o["Location"] for page in pages for o in page.get("InstanceTypeOfferings", [])}
    except AWS_ERRORS as error:
        return CheckResult(name, region, Status.WARN, f"could not read EC2 offerings ({error_code(error) or error})")
    missing = [zone for zone in zones if zone not in offered]
    if missing:
        return CheckResult(name, region, Status.FAIL, f"{instance_type} is not offered in {', '.join(missing)}", remedy)
    return CheckResult(name, region, Status.OK, f"{instance_type} offered in {', '.join(zones)}")


def check_cache_node_type(
    elasticache: Any, region: str, deployment: Deployment, options: PreflightOptions = DEFAULT_OPTIONS
) -> CheckResult:
    name = "cache node type"
    node_type = deployment.sizing.cache_node_type
    remedy = (
        f"set sizing.cache_node_type in config/deployments.toml to a node type sold in {region}: aws elasticache "
        f"describe-reserved-cache-nodes-offerings --region {region}{profile_flag(options)} "
        "--query 'ReservedCacheNodesOfferings[].CacheNodeType'"
    )
    try:
        offers = elasticache.describe_reserved_cache_nodes_offerings(CacheNodeType=node_type, MaxRecords=20)
    except AWS_ERRORS as error:
        return CheckResult(
            name, region, Status.WARN, f"could not read ElastiCache offerings ({error_code(error) or error})"
        )
    if not offers.get("ReservedCacheNodesOfferings"):
        return CheckResult(name, region, Status.FAIL, f"{node_type} is not sold in this region", remedy)
    return CheckResult(name, region, Status.OK, f"{node_type} sold in this region")

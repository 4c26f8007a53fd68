"""Sizing (HOST-1, HOST-4): instance types and classes, capacities, and what production needs to survive
the loss of an availability zone; a region's own database class is for a DR region only."""

from __future__ import annotations

import re

from config.errors import ErrorCollector
from config.model import Environment, Sizing
from config.policy import (
    CACHE_REPLICAS_MAX,
    NAT_GATEWAYS_MAX,
    PRODUCTION_CACHE_REPLICAS_MIN,
    PRODUCTION_NAT_GATEWAYS,
    RDS_MIN_ALLOCATED_STORAGE_GIB,
    WEB_CPU_TARGET_PERCENT_MAX,
    WEB_MIN_INSTANCES,
)

_INSTANCE = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9]+)+$")


def check_sizing(sizing: Sizing, environment: Environment, where: str, errors: ErrorCollector) -> None:
    _check_types(sizing, where, errors)
    _check_capacities(sizing, where, errors)
    if environment is Environment.PRODUCTION:
        _check_production(sizing, where, errors)


def _check_types(sizing: Sizing, where: str, errors: ErrorCollector) -> None:
    for name in ("web_instance_type", "db_instance_class", "cache_node_type"):
        value = getattr(sizing, name)
        if not _INSTANCE.match(value):
            errors.add(f"{where}.{name}", value, "an instance type such as 'm7i.large'")
    if not sizing.db_instance_class.startswith("db."):
        errors.add(f"{where}.db_instance_class", sizing.db_instance_class, "an RDS class 'db.*'")
    if not sizing.cache_node_type.startswith("cache."):
        errors.add(f"{where}.cache_node_type", sizing.cache_node_type, "an ElastiCache type 'cache.*'")


def _check_capacities(sizing: Sizing, where: str, errors: ErrorCollector) -> None:
    if sizing.web_min_capacity < WEB_MIN_INSTANCES:
        errors.add(f"{where}.web_min_capacity", sizing.web_min_capacity, f"at least {WEB_MIN_INSTANCES}", "HOST-1")
    if sizing.web_min_capacity > sizing.web_max_capacity:
        errors.add(
            f"{where}.web_min_capacity",
            sizing.web_min_capacity,
            f"at most web_max_capacity ({sizing.web_max_capacity})",
        )
    if not 1 <= sizing.web_cpu_target_percent <= WEB_CPU_TARGET_PERCENT_MAX:
        errors.add(
            f"{where}.web_cpu_target_percent", sizing.web_cpu_target_percent, f"1 to {WEB_CPU_TARGET_PERCENT_MAX}"
        )
    if sizing.web_requests_per_target < 1:
        errors.add(f"{where}.web_requests_per_target", sizing.web_requests_per_target, "at least 1")
    if not RDS_MIN_ALLOCATED_STORAGE_GIB <= sizing.db_allocated_storage_gib <= sizing.db_max_allocated_storage_gib:
        errors.add(
            f"{where}.db_allocated_storage_gib",
            sizing.db_allocated_storage_gib,
            f"{RDS_MIN_ALLOCATED_STORAGE_GIB} to db_max_allocated_storage_gib ({sizing.db_max_allocated_storage_gib})",
        )
    if not 1 <= sizing.nat_gateways <= NAT_GATEWAYS_MAX:
        errors.add(f"{where}.nat_gateways", sizing.nat_gateways, f"1 to {NAT_GATEWAYS_MAX}")
    if not 0 <= sizing.cache_replicas <= CACHE_REPLICAS_MAX:
        errors.add(f"{where}.cache_replicas", sizing.cache_replicas, f"0 to {CACHE_REPLICAS_MAX}")


def _check_production(sizing: Sizing, where: str, errors: ErrorCollector) -> None:
    if not sizing.db_multi_az:
        errors.add(f"{where}.db_multi_az", False, "true in production", "HOST-4")
    if sizing.nat_gateways != PRODUCTION_NAT_GATEWAYS:
        errors.add(
            f"{where}.nat_gateways",
            sizing.nat_gateways,
            f"{PRODUCTION_NAT_GATEWAYS} in production (one per AZ)",
            "HOST-4",
        )
    if sizing.cache_replicas < PRODUCTION_CACHE_REPLICAS_MIN:
        errors.add(
            f"{where}.cache_replicas",
            sizing.cache_replicas,
            f"at least {PRODUCTION_CACHE_REPLICAS_MIN} in production (failover)",
            "HOST-4",
        )


def check_region_sizing_region(
    field: str, region: str, jurisdiction: str, primary_region: str, errors: ErrorCollector
) -> bool:
    """A `region_sizing."<region>"` table is for a DR region: the primary region runs `sizing.db_instance_class`.
    False (and an error) for the jurisdiction's primary region."""
    if region != primary_region:
        return True
    errors.add(
        field,
        region,
        f"a DR region: {region} is jurisdiction {jurisdiction!r}'s primary region, which runs "
        "sizing.db_instance_class (set it per deployment in [overrides])",
    )
    return False

"""Offerings (issue 17 item 2): each region's database class is one RDS offers there for PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence

from config.errors import ErrorCollector, InstanceClassNotOfferedError
from config.model import RegionSizing, Sizing
from config.offerings import rds_postgres_classes


def check_offered(
    sizing: Sizing,
    region_sizing: Sequence[RegionSizing],
    regions: tuple[str, str],
    deployment: str,
    where: str,
    errors: ErrorCollector,
) -> None:
    """`regions`: the deployment's primary and DR regions; a region's own class (`region_sizing`) is
    checked where one is set, `sizing.db_instance_class` elsewhere."""
    overrides = {r.region: r.db_instance_class for r in region_sizing}
    for region in regions:
        value = overrides.get(region, sizing.db_instance_class)
        offered = rds_postgres_classes().get(region)
        if offered is None or value in offered:
            continue
        field = (
            f'{where}.region_sizing."{region}".db_instance_class'
            if region in overrides
            else f"{where}.sizing.db_instance_class"
        )
        errors.add_error(InstanceClassNotOfferedError(field, value, region, sorted(offered), deployment))

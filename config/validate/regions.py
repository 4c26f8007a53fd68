"""Residency (HOST-2): a jurisdiction's regions are known ones on its allow-list, and its DR region
is another region than its primary."""

from __future__ import annotations

from config.errors import ErrorCollector
from config.regions import KNOWN_REGIONS


def check_allowed_regions(regions: tuple[str, ...], field: str, errors: ErrorCollector) -> None:
    """The allow-list names regions of config/regions.py (which pins their zones), each once."""
    for index, region in enumerate(regions):
        if region not in KNOWN_REGIONS:
            errors.add(f"{field}[{index}]", region, f"a region of config/regions.py: {', '.join(KNOWN_REGIONS)}")
        elif region in regions[:index]:
            errors.add(f"{field}[{index}]", region, "each region once")


def check_region(field: str, region: str, jurisdiction: str, allowed: tuple[str, ...], errors: ErrorCollector) -> None:
    """`region` is on the jurisdiction's allow-list (unchecked when the list itself is invalid)."""
    if allowed and region not in allowed:
        errors.add(field, region, f"a region of jurisdiction {jurisdiction!r}: {', '.join(allowed)}", "HOST-2")


def check_dr_region(field: str, dr_region: str, primary_region: str, errors: ErrorCollector) -> None:
    if dr_region == primary_region:
        errors.add(field, dr_region, f"a region other than the primary region {primary_region!r}", "HOST-2")

"""Region facts: every AWS region a jurisdiction may name, with its pinned availability zones.

Synth is hermetic: the availability zones of a region are answered from this table
(`stacks/app_builder.py:pin_availability_zones`), never looked up. A jurisdiction's
`allowed_regions` in `config/deployments.toml` may only name regions listed here, so
adding a jurisdiction in a region not yet listed is one line here plus the config file.

Only the commercial partition (`aws`) is listed: the backup copy targets are built with
that partition literally (`patterns/backup_plan.py:PARTITION`). GovCloud and China
regions would need that partition to come from here first.

The AZ names are the ones every account of the region can use (a zone name maps to a
different physical zone per account; see "AZ IDs" in the AWS documentation). The
regions of the shipped jurisdictions keep the names they were first pinned with, so
their templates do not change.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final


def _zones(region: str, letters: str = "abc") -> tuple[str, ...]:
    return tuple(f"{region}{letter}" for letter in letters)


# region -> the availability zones a VPC in that region spreads over (three: HOST-4, one NAT per AZ).
REGION_AVAILABILITY_ZONES: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        # Asia Pacific
        "ap-east-1": _zones("ap-east-1"),  # Hong Kong
        "ap-east-2": _zones("ap-east-2"),  # Taipei
        "ap-northeast-1": _zones("ap-northeast-1", "acd"),  # Tokyo (no 1b for new accounts)
        "ap-northeast-2": _zones("ap-northeast-2"),  # Seoul
        "ap-northeast-3": _zones("ap-northeast-3"),  # Osaka
        "ap-south-1": _zones("ap-south-1"),  # Mumbai
        "ap-south-2": _zones("ap-south-2"),  # Hyderabad
        "ap-southeast-1": _zones("ap-southeast-1"),  # Singapore
        "ap-southeast-2": _zones("ap-southeast-2"),  # Sydney
        "ap-southeast-3": _zones("ap-southeast-3"),  # Jakarta
        "ap-southeast-4": _zones("ap-southeast-4"),  # Melbourne
        "ap-southeast-5": _zones("ap-southeast-5"),  # Malaysia
        "ap-southeast-7": _zones("ap-southeast-7"),  # Thailand
        # Africa, Middle East
        "af-south-1": _zones("af-south-1"),  # Cape Town
        "il-central-1": _zones("il-central-1"),  # Tel Aviv
        "me-central-1": _zones("me-central-1"),  # UAE
        "me-south-1": _zones("me-south-1"),  # Bahrain
        # Americas
        "ca-central-1": _zones("ca-central-1", "abd"),  # Canada (Central) has no 1c
        "ca-west-1": _zones("ca-west-1"),  # Calgary
        "mx-central-1": _zones("mx-central-1"),  # Mexico (Central)
        "sa-east-1": _zones("sa-east-1"),  # Sao Paulo
        "us-east-1": _zones("us-east-1"),  # N. Virginia
        "us-east-2": _zones("us-east-2"),  # Ohio
        "us-west-1": _zones("us-west-1"),  # N. California (most accounts see two zones: not for production)
        "us-west-2": _zones("us-west-2"),  # Oregon
        # Europe
        "eu-central-1": _zones("eu-central-1"),  # Frankfurt
        "eu-central-2": _zones("eu-central-2"),  # Zurich
        "eu-north-1": _zones("eu-north-1"),  # Stockholm
        "eu-south-1": _zones("eu-south-1"),  # Milan
        "eu-south-2": _zones("eu-south-2"),  # Spain
        "eu-west-1": _zones("eu-west-1"),  # Ireland
        "eu-west-2": _zones("eu-west-2"),  # London
        "eu-west-3": _zones("eu-west-3"),  # Paris
    }
)

KNOWN_REGIONS: Final[tuple[str, ...]] = tuple(sorted(REGION_AVAILABILITY_ZONES))

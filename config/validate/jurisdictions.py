"""Jurisdictions: a key fit for every stack and physical name, and no two sharing an address block
or a domain."""

from __future__ import annotations

import re
from collections.abc import Sequence

from config.errors import ErrorCollector
from config.model import JurisdictionSpec

# Part of every stack and physical name (`<jurisdiction>-<environment>-...`): short and plain.
_JURISDICTION_KEY = re.compile(r"^[a-z][a-z0-9]{1,7}$")


def check_jurisdiction_key(where: str, key: str, errors: ErrorCollector) -> None:
    if not _JURISDICTION_KEY.match(key):
        errors.add(where, key, "a key of 2 to 8 lower-case letters and digits, starting with a letter (e.g. 'au')")


def check_jurisdictions_distinct(specs: Sequence[JurisdictionSpec], errors: ErrorCollector) -> None:
    """Two jurisdictions never share a VPC address block or a domain (one zone per name)."""
    cidr_owner: dict[int, str] = {}
    domain_owner: dict[str, str] = {}
    for spec in specs:
        key = str(spec.key)
        other = cidr_owner.setdefault(spec.cidr_index, key)
        if other != key:
            errors.add(
                f"jurisdictions.{key}.cidr_index",
                spec.cidr_index,
                f"an index not used by jurisdiction {other!r} (set cidr_index explicitly; "
                f"in use: {', '.join(str(i) for i in sorted(cidr_owner))})",
            )
        other = domain_owner.setdefault(spec.domain_name, key)
        if other != key:
            errors.add(
                f"jurisdictions.{key}.domain_name",
                spec.domain_name,
                f"a domain not used by jurisdiction {other!r} (a name is delegated to one zone)",
            )

"""What each region offers: the RDS for PostgreSQL instance classes, from cfn-lint's region data.

cfn-lint (a development dependency) ships `dbinstanceclass_enum.json`, the classes orderable per
region and engine; synth must not depend on it, so the PostgreSQL classes of the regions in
config/regions.py are copied into `rds_postgres_classes.json` next to this file.
`tests/unit/test_config_offerings.py` fails when the copy differs from the installed cfn-lint's
data; regenerate it with `python -m config.offerings` after a cfn-lint bump.

cfn-lint cannot check a read replica itself (it has no `Engine` property), so the loader checks
the class each region's database uses (config/validate/offerings.py); the preflight asks RDS itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from config.regions import KNOWN_REGIONS

ENGINE: Final = "postgres"
SNAPSHOT: Final = Path(__file__).with_name("rds_postgres_classes.json")
CFNLINT_DATA: Final = ("data", "schemas", "extensions", "aws_rds_dbinstance", "dbinstanceclass_enum.json")


@cache
def rds_postgres_classes() -> Mapping[str, frozenset[str]]:
    """region -> the RDS for PostgreSQL instance classes orderable there (the shipped snapshot)."""
    raw = json.loads(SNAPSHOT.read_text())
    return MappingProxyType({region: frozenset(classes) for region, classes in raw.items()})


def classes_from_cfnlint(data: Mapping[str, Any], regions: Iterable[str] = KNOWN_REGIONS) -> dict[str, list[str]]:
    """The PostgreSQL classes per region of cfn-lint's `dbinstanceclass_enum.json` (sorted)."""
    found: dict[str, list[str]] = {}
    for region in regions:
        classes: set[str] = set()
        for branch in data.get(region, {}).get("allOf", []):
            if branch.get("if", {}).get("properties", {}).get("Engine", {}).get("const") == ENGINE:
                classes.update(branch["then"]["properties"]["DBInstanceClass"]["enum"])
        found[region] = sorted(classes)
    return found


def installed_cfnlint_data() -> Mapping[str, Any]:
    # cfn-lint is a development dependency: only the test and the regeneration read it.
    return dict(json.loads(resources.files("cfnlint").joinpath(*CFNLINT_DATA).read_text()))


if __name__ == "__main__":
    SNAPSHOT.write_text(json.dumps(classes_from_cfnlint(installed_cfnlint_data()), indent=1) + "\n")
    print(f"wrote {SNAPSHOT}")

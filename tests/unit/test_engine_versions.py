"""Engine version pins that RDS and ElastiCache still let you create (issue 17 item 11).

RDS blocks creating a PostgreSQL minor version a month before its end of standard support
(https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-release-calendar.html),
so the pin is the newest minor of its major. The oracle is cfn-lint's RDS and ElastiCache data
(`engine_version.json`, "automatically updated using aws api"): a cfn-lint bump that brings a newer
minor fails this test on purpose. The preflight asks the account's regions themselves.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from patterns.encrypted_postgres import ENGINE_VERSION as POSTGRES_VERSION
from patterns.redis import ENGINE_VERSION as REDIS_VERSION

EXTENSIONS = ("data", "schemas", "extensions")


def _enum(resource: str, name: str, engine: str) -> list[str]:
    data: dict[str, Any] = json.loads(resources.files("cfnlint").joinpath(*EXTENSIONS, resource, name).read_text())
    for branch in data["allOf"]:
        properties = branch.get("if", {}).get("properties", {})
        if properties.get("Engine", {}).get("const") != engine:
            continue
        if branch["then"] is False:  # the deprecated list: `if EngineVersion in [...] then false`
            return list(properties["EngineVersion"]["enum"])
        return list(branch["then"]["properties"]["EngineVersion"]["enum"])
    return []


def _minor(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def test_postgres_pin_is_the_newest_offered_minor_of_its_major() -> None:
    pinned = str(POSTGRES_VERSION.postgres_full_version)
    major = str(POSTGRES_VERSION.postgres_major_version)
    offered = _enum("aws_rds_dbinstance", "engine_version.json", "postgres")
    deprecated = set(_enum("aws_rds_dbinstance", "engine_version_deprecated.json", "postgres"))
    minors = [v for v in offered if v.startswith(f"{major}.") and v.replace(".", "").isdigit()]
    assert pinned in offered and pinned not in deprecated
    assert pinned == max(minors, key=_minor), f"newer {major}.x offered: {sorted(minors, key=_minor)[-3:]}"


def test_postgres_pin_is_not_one_rds_has_blocked() -> None:
    """17.1-17.4 could not be created from 1 May 2026 (end of standard support 31 May 2026); 17.6 was
    the pin before this test and is older than the newest minor."""
    assert str(POSTGRES_VERSION.postgres_full_version) not in {"17.1", "17.2", "17.3", "17.4", "17.6"}


def test_redis_pin_is_the_newest_redis_oss_version_offered() -> None:
    offered = _enum("aws_elasticache_cachecluster", "engine_version.json", "redis")
    assert REDIS_VERSION in offered
    assert max(offered, key=_minor) == REDIS_VERSION

"""Issue 17 item 2: each region's database class is one RDS offers there, per cfn-lint's region data."""

from __future__ import annotations

import copy
import json
import tomllib
from typing import Any

import pytest
from aws_cdk.assertions import Template

from config import ConfigErrors, PlatformConfig, parse_config
from config.errors import InstanceClassNotOfferedError
from config.load import DEFAULT_CONFIG_PATH
from config.offerings import SNAPSHOT, classes_from_cfnlint, installed_cfnlint_data, rds_postgres_classes
from tests.conftest import Stages

MELBOURNE = "ap-southeast-4"


@pytest.fixture
def raw() -> dict[str, Any]:
    with DEFAULT_CONFIG_PATH.open("rb") as handle:
        return copy.deepcopy(tomllib.load(handle))


def _offered_errors(raw: dict[str, Any]) -> list[InstanceClassNotOfferedError]:
    with pytest.raises(ConfigErrors) as caught:
        parse_config(raw)
    return [e for e in caught.value.errors if isinstance(e, InstanceClassNotOfferedError)]


def test_the_snapshot_is_the_installed_cfn_lint_data() -> None:
    """A cfn-lint bump that changes the region data fails here: `python -m config.offerings`."""
    assert json.loads(SNAPSHOT.read_text()) == classes_from_cfnlint(installed_cfnlint_data())


def test_melbourne_offers_no_r7g_for_postgresql() -> None:
    assert "db.r7g.large" not in rds_postgres_classes()[MELBOURNE]
    assert "db.r7g.large" in rds_postgres_classes()["ap-southeast-2"]


def test_a_class_the_dr_region_does_not_offer_is_a_named_error(raw: dict[str, Any]) -> None:
    del raw["environments"]["production"]["region_sizing"]
    [error] = _offered_errors(raw)
    assert error.field == "environments.production.sizing.db_instance_class"
    assert (error.value, error.region) == ("db.r7g.large", MELBOURNE)
    assert "db.r6g.large" in error.offered and "db.r7g.large" not in error.offered
    assert "au-production" in str(error) and 'region_sizing."ap-southeast-4"' in str(error)


def test_a_region_override_is_checked_against_its_region(raw: dict[str, Any]) -> None:
    raw["environments"]["production"]["region_sizing"][MELBOURNE]["db_instance_class"] = "db.r8g.large"
    [error] = _offered_errors(raw)
    assert error.field == 'environments.production.region_sizing."ap-southeast-4".db_instance_class'
    assert error.region == MELBOURNE


def test_a_primary_region_may_not_have_its_own_class(raw: dict[str, Any]) -> None:
    raw["environments"]["production"]["region_sizing"]["ap-southeast-2"] = {"db_instance_class": "db.r6g.large"}
    with pytest.raises(ConfigErrors, match="primary region"):
        parse_config(raw)


def test_each_region_gets_its_class(platform_config: PlatformConfig) -> None:
    au = platform_config.get("au-production")
    assert au.db_instance_class_for("ap-southeast-2") == au.sizing.db_instance_class == "db.r7g.large"
    assert au.db_instance_class_for(MELBOURNE) == "db.r6g.large"
    us = platform_config.get("us-production")
    assert us.region_sizing == () and us.db_instance_class_for(us.dr_region) == "db.r7g.large"
    for deployment in platform_config.deployments:
        for region in deployment.regions:
            assert deployment.db_instance_class_for(region) in rds_postgres_classes()[region], (deployment.name, region)


def test_the_dr_replica_uses_the_dr_region_class(au_production: Stages, template_of: Any) -> None:
    data: Template = template_of(au_production, "dr", "StandbyData")
    data.has_resource_properties("AWS::RDS::DBInstance", {"DBInstanceClass": "db.r6g.large"})

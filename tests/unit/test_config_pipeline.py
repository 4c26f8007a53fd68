"""`[jurisdictions.<j>.pipeline]` (config/parse.py, issue 21): parsed, and every bad value named."""

from __future__ import annotations

import copy
import tomllib
from typing import Any

import pytest

from config import ConfigErrors, parse_config
from config.load import DEFAULT_CONFIG_PATH

SHIPPED = tomllib.loads(DEFAULT_CONFIG_PATH.read_text())


@pytest.fixture
def raw() -> dict[str, Any]:
    return copy.deepcopy(SHIPPED)


def _with_pipeline(raw: dict[str, Any], **changes: Any) -> dict[str, Any]:
    raw["jurisdictions"]["au"]["pipeline"] = raw["jurisdictions"]["au"]["pipeline"] | changes
    return raw


def test_each_shipped_jurisdiction_has_its_pipeline_in_its_own_tooling_account(raw: dict[str, Any]) -> None:
    config = parse_config(raw)
    assert [p.jurisdiction for p in config.pipelines] == ["au", "us", "uk"]
    au = config.pipeline("au")
    assert (au.account, au.region, au.branch, au.name) == ("111111111110", "ap-southeast-2", "main", "au-pipeline")
    assert au.allowed_regions == config.get("au-production").allowed_regions
    assert au.account not in {d.account for d in config.deployments}
    with pytest.raises(KeyError, match="no pipeline for jurisdiction 'ca'; allowed: au, us, uk"):
        config.pipeline("ca")


def test_a_jurisdiction_without_a_pipeline_table_has_none(raw: dict[str, Any]) -> None:
    del raw["jurisdictions"]["uk"]["pipeline"]
    assert [p.jurisdiction for p in parse_config(raw).pipelines] == ["au", "us"]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"region": "us-east-1"}, "[HOST-2] invalid config jurisdictions.au.pipeline.region = 'us-east-1'"),
        ({"account": "1234"}, "jurisdictions.au.pipeline.account = '1234': allowed a 12-digit AWS account id"),
        (
            {
                "account": "111111111111",
                "connection_arn": "arn:aws:codeconnections:ap-southeast-2:111111111111:connection/"
                "0b5a1c2e-3f4d-4a6b-9c8d-7e6f5a4b3c21",
            },
            "allowed a tooling account that no deployment uses (it is au-production's)",
        ),
        ({"connection_arn": "arn:aws:s3:::bucket"}, "jurisdictions.au.pipeline.connection_arn = 'arn:aws:s3:::bucket'"),
        (
            {
                "connection_arn": "arn:aws:codeconnections:us-east-1:111111111110:connection/"
                "0b5a1c2e-3f4d-4a6b-9c8d-7e6f5a4b3c21"
            },
            "a connection of the pipeline's own account and region (111111111110, ap-southeast-2)",
        ),
        ({"repository": "no-slash"}, "jurisdictions.au.pipeline.repository = 'no-slash'"),
        ({"branch": "-bad"}, "jurisdictions.au.pipeline.branch = '-bad'"),
        ({"secret": "x"}, "jurisdictions.au.pipeline.secret = 'secret': allowed one of: account, branch"),
    ],
    ids=[
        "region-outside",
        "account-format",
        "account-is-workload",
        "arn-format",
        "arn-elsewhere",
        "repo",
        "branch",
        "unknown-key",
    ],
)
def test_bad_pipeline_values_are_named_with_what_is_allowed(
    raw: dict[str, Any], change: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ConfigErrors) as caught:
        parse_config(_with_pipeline(raw, **change))
    assert fragment in str(caught.value)


def test_a_pipeline_that_is_not_a_table_is_refused(raw: dict[str, Any]) -> None:
    raw["jurisdictions"]["au"]["pipeline"] = "au"
    with pytest.raises(ConfigErrors, match=r"jurisdictions\.au\.pipeline = 'au': allowed a table with: account"):
        parse_config(raw)

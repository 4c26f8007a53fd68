"""Config that grows by configuration: a jurisdiction added by a config file alone, and
validation that reports every error of a file at once (HOST-2 allow-lists in the file).
"""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from config import (
    ConfigError,
    ConfigErrors,
    ConfigSyntaxError,
    Jurisdiction,
    PlatformConfig,
    load_config,
    parse_config,
)
from config.load import DEFAULT_CONFIG_PATH
from config.policy import CIDR_INDEX_MAX
from config.regions import KNOWN_REGIONS, REGION_AVAILABILITY_ZONES
from policies.registration import FAIL_ON_FINDINGS, register_policy_packs
from stacks.app_builder import Selection, build_app
from stacks.base import vpc_cidr
from tests.conftest import CDK_JSON_CONTEXT, Stages

CANADA = """
[jurisdictions.ca]
primary_region = "ca-central-1"     # Montreal
dr_region = "ca-west-1"             # Calgary
allowed_regions = ["ca-central-1", "ca-west-1"]
cidr_index = 3
timezone = "America/Toronto"
domain_name = "ca.saas.example.com"
alarm_email = "oncall-ca@saas.example.com"
accounts = { production = "444444444441", staging = "444444444442", development = "444444444443" }

# Calgary offers no db.t4g for PostgreSQL (cfn-lint's region data): the DR region's own class.
[overrides."ca-staging".region_sizing."ca-west-1"]
db_instance_class = "db.t3.medium"

[overrides."ca-development".region_sizing."ca-west-1"]
db_instance_class = "db.t3.medium"
"""


def _add_canada(raw: dict[str, Any], **changes: Any) -> None:
    """CANADA's jurisdiction table (with `changes`) and its overrides, into a parsed shipped file."""
    parsed = tomllib.loads(CANADA)
    raw["jurisdictions"]["ca"] = parsed["jurisdictions"]["ca"] | changes
    raw.setdefault("overrides", {}).update(parsed["overrides"])


@pytest.fixture
def raw() -> dict[str, Any]:
    with DEFAULT_CONFIG_PATH.open("rb") as handle:
        return copy.deepcopy(tomllib.load(handle))


@pytest.fixture(scope="module")
def canada_config(tmp_path_factory: pytest.TempPathFactory) -> PlatformConfig:
    """The shipped file plus one [jurisdictions.ca] table: no code knows about Canada."""
    path = tmp_path_factory.mktemp("canada") / "deployments.toml"
    path.write_text(DEFAULT_CONFIG_PATH.read_text() + CANADA)
    return load_config(path)


@pytest.fixture(scope="module")
def canada_production(canada_config: PlatformConfig, tmp_path_factory: pytest.TempPathFactory) -> Stages:
    """conftest.synthesize(), with the DataSecurity pack judging against the same config."""
    app = cdk.App(
        outdir=str(tmp_path_factory.mktemp("ca-production")),
        context=CDK_JSON_CONTEXT,
        post_cli_context=FAIL_ON_FINDINGS,
    )
    stages = build_app(app, canada_config, Selection(deployment="ca-production"))
    register_policy_packs(app, canada_config)
    app.synth()  # every pack runs; a finding fails here with the report
    return {stage.role: stage for stage in stages}


def _stack(stages: Stages, role: str, stack_id: str) -> cdk.Stack:
    stack = stages[role].node.find_child(stack_id)
    assert isinstance(stack, cdk.Stack)
    return stack


def test_a_jurisdiction_added_by_config_alone_is_loaded(canada_config: PlatformConfig) -> None:
    ca = canada_config.get("ca-production")
    assert ca.jurisdiction == Jurisdiction("ca")
    assert ca.jurisdiction == "ca"
    assert (ca.primary_region, ca.dr_region) == ("ca-central-1", "ca-west-1")
    assert ca.allowed_regions == ("ca-central-1", "ca-west-1")
    assert ca.cidr_index == 3
    assert ca.tags["jurisdiction"] == "ca"
    assert canada_config.get("ca-staging").domain_name == "staging.ca.saas.example.com"
    assert len(canada_config.deployments) == 12


def test_a_jurisdiction_added_by_config_alone_synthesizes_with_every_pack(canada_production: Stages) -> None:
    primary = _stack(canada_production, "primary", "Network")
    dr = _stack(canada_production, "dr", "Network")
    assert (primary.region, dr.region) == ("ca-central-1", "ca-west-1")
    [primary_vpc] = Template.from_stack(primary).find_resources("AWS::EC2::VPC").values()
    [dr_vpc] = Template.from_stack(dr).find_resources("AWS::EC2::VPC").values()
    assert primary_vpc["Properties"]["CidrBlock"] == "10.112.0.0/16"
    assert dr_vpc["Properties"]["CidrBlock"] == "10.113.0.0/16"
    subnets = Template.from_stack(primary).find_resources("AWS::EC2::Subnet").values()
    zones = {s["Properties"]["AvailabilityZone"] for s in subnets}
    assert (
        zones == set(REGION_AVAILABILITY_ZONES["ca-central-1"]) == {"ca-central-1a", "ca-central-1b", "ca-central-1d"}
    )


PARTITION_LITERALS = "@aws-cdk/core:enablePartitionLiterals"


def test_a_renamed_jurisdiction_synthesizes_with_every_pack(tmp_path: Path) -> None:
    """Issue 17 item 13: [jurisdictions.uk] renamed to [jurisdictions.eu] (same regions, new key).

    The key is not what changes the ALB log buckets' policy: CDK renders the regional ELB account
    as `arn:aws:iam::<id>:root` only with cdk.json's enablePartitionLiterals flag, and as an
    `arn:${AWS::Partition}:...` Fn::Join in an app without it (`python app.py` outside the CLI).
    Synthesized here without the flag, so the DataSecurity pack must read the joined form."""
    path = tmp_path / "deployments.toml"
    path.write_text(DEFAULT_CONFIG_PATH.read_text().replace("[jurisdictions.uk", "[jurisdictions.eu"))  # and .pipeline
    config = load_config(path)
    assert "uk-production" not in {d.name for d in config.deployments}
    context = {key: value for key, value in CDK_JSON_CONTEXT.items() if key != PARTITION_LITERALS}
    app = cdk.App(outdir=str(tmp_path / "cdk.out"), context=context, post_cli_context=FAIL_ON_FINDINGS)
    stages = {s.role: s for s in build_app(app, config, Selection(deployment="eu-production"))}
    register_policy_packs(app, config)
    app.synth()  # every pack runs; a finding fails here with the report
    policies = Template.from_stack(_stack(stages, "primary", "Web")).find_resources("AWS::S3::BucketPolicy")
    assert ":iam::652711504416:root" in json.dumps(policies)  # eu-west-2's ELB account, joined
    assert _stack(stages, "dr", "Network").region == "eu-west-1"


def test_vpc_blocks_of_every_jurisdiction_are_distinct_and_keep_the_shipped_ones(
    canada_config: PlatformConfig,
) -> None:
    cidrs = {(d.name, role): vpc_cidr(d, role) for d in canada_config.deployments for role in ("primary", "dr")}
    assert len(set(cidrs.values())) == len(cidrs)
    # The shipped jurisdictions keep their blocks (templates unchanged).
    assert cidrs[("au-production", "primary")] == "10.16.0.0/16"
    assert cidrs[("us-staging", "dr")] == "10.57.0.0/16"
    assert cidrs[("uk-development", "dr")] == "10.97.0.0/16"
    worst = max(int(c.split(".")[1]) for c in cidrs.values())
    assert worst <= 16 + CIDR_INDEX_MAX * 32 + 2 * 8 + 1 <= 255


def test_an_explicit_cidr_index_moves_the_block(raw: dict[str, Any]) -> None:
    _add_canada(raw, cidr_index=CIDR_INDEX_MAX)
    ca = parse_config(raw).get("ca-development")
    assert vpc_cidr(ca, "primary") == f"10.{16 + CIDR_INDEX_MAX * 32 + 16}.0.0/16"


def test_cidr_index_is_required_so_reordering_tables_moves_no_vpc(raw: dict[str, Any]) -> None:
    _add_canada(raw)
    shipped = {d.name: vpc_cidr(d, "primary") for d in parse_config(raw).deployments}
    raw["jurisdictions"] = dict(reversed(raw["jurisdictions"].items()))
    assert {d.name: vpc_cidr(d, "primary") for d in parse_config(raw).deployments} == shipped
    del raw["jurisdictions"]["ca"]["cidr_index"]
    with pytest.raises(ConfigErrors) as caught:
        parse_config(raw)
    (error,) = caught.value.errors
    assert (error.field, error.value) == ("jurisdictions.ca.cidr_index", None)
    assert "always set" in str(error)


def test_two_jurisdictions_never_share_an_account(raw: dict[str, Any]) -> None:
    """HOST-2: a jurisdiction's data stays in its own accounts, even for the same environment."""
    _add_canada(raw)
    raw["jurisdictions"]["ca"]["accounts"]["production"] = raw["jurisdictions"]["au"]["accounts"]["production"]
    with pytest.raises(ConfigErrors) as caught:
        parse_config(raw)
    (error,) = caught.value.errors
    assert error.field == "jurisdictions.ca.accounts.production"
    assert "an account not used by au-production (jurisdictions are separate accounts)" in str(error)
    assert "HOST-2" in str(error)


def test_a_file_with_three_errors_reports_all_three(raw: dict[str, Any]) -> None:
    raw["jurisdictions"]["au"]["dr_region"] = "us-east-1"
    raw["environments"]["staging"]["retention"]["ebs_snapshot_days"] = 30
    raw["environments"]["development"]["maintenance"]["day"] = "Someday"
    with pytest.raises(ConfigErrors) as caught:
        parse_config(raw, source="three-errors.toml")
    error = caught.value
    assert isinstance(error, ConfigError)  # app.py's `except ConfigError` still catches it
    assert [e.field for e in error.errors] == [
        "jurisdictions.au.dr_region",
        "environments.staging.retention.ebs_snapshot_days",
        "environments.development.maintenance.day",
    ]
    assert [e.clause for e in error.errors] == ["HOST-2", "BAK-2", "OPS-5"]
    lines = str(error).splitlines()
    assert lines[0] == "3 errors in three-errors.toml:"
    assert "[HOST-2] invalid config jurisdictions.au.dr_region = 'us-east-1'" in lines[1]
    assert "ap-southeast-2, ap-southeast-4" in lines[1]  # the allowed values
    assert "[BAK-2] invalid config environments.staging.retention.ebs_snapshot_days = 30" in lines[2]
    assert "at least 90 days" in lines[2]
    assert "[OPS-5] invalid config environments.development.maintenance.day = 'Someday'" in lines[3]
    assert "one of Mon, Tue" in lines[3]
    assert (error.field, error.value, error.clause) == ("jurisdictions.au.dr_region", "us-east-1", "HOST-2")


def test_an_error_shared_by_every_jurisdiction_is_reported_once(raw: dict[str, Any]) -> None:
    raw["environments"]["production"]["sizing"]["web_max_capacity"] = "12"
    with pytest.raises(ConfigErrors) as caught:
        parse_config(raw)
    assert [e.field for e in caught.value.errors] == ["environments.production.sizing.web_max_capacity"]


@pytest.mark.parametrize(
    ("allowed_regions", "field", "expected"),
    [
        (["ca-central-1", "ca-middle-9"], "allowed_regions[1]", "a region of config/regions.py: af-south-1"),
        (["ca-central-1", "ca-central-1"], "allowed_regions[1]", "each region once"),
        ("ca-central-1", "allowed_regions", "a list of at least two region names"),
        (["ca-central-1"], "allowed_regions", "a list of at least two region names"),
    ],
    ids=["unknown-region", "repeated-region", "not-a-list", "one-region"],
)
def test_host2_allow_list_is_validated_against_the_region_table(
    raw: dict[str, Any], allowed_regions: object, field: str, expected: str
) -> None:
    _add_canada(raw, allowed_regions=allowed_regions)
    with pytest.raises(ConfigErrors) as caught:
        parse_config(raw)
    assert f"jurisdictions.ca.{field}" in str(caught.value)
    assert expected in str(caught.value)


def test_regions_outside_the_configured_allow_list_are_host2_errors(raw: dict[str, Any]) -> None:
    _add_canada(raw, dr_region="us-east-1")
    with pytest.raises(ConfigErrors, match=r"\[HOST-2\] invalid config jurisdictions.ca.dr_region = 'us-east-1'"):
        parse_config(raw)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"cidr_index": 1}, "jurisdictions.ca.cidr_index = 1: allowed an index not used by jurisdiction 'us'"),
        ({"cidr_index": CIDR_INDEX_MAX + 1}, f"an integer 0 to {CIDR_INDEX_MAX}"),
        ({"cidr_index": "3"}, "jurisdictions.ca.cidr_index = '3'"),
        ({"domain_name": "uk.saas.example.com"}, "a domain not used by jurisdiction 'uk'"),
    ],
    ids=["cidr-index-taken", "cidr-index-too-large", "cidr-index-not-int", "domain-taken"],
)
def test_jurisdictions_never_share_an_address_block_or_a_domain(
    raw: dict[str, Any], change: dict[str, object], fragment: str
) -> None:
    _add_canada(raw, **change)
    with pytest.raises(ConfigErrors) as caught:
        parse_config(raw)
    assert fragment in str(caught.value)


@pytest.mark.parametrize("key", ["CA", "c", "canada-east", "9ca"])
def test_jurisdiction_keys_are_short_plain_names(raw: dict[str, Any], key: str) -> None:
    raw["jurisdictions"][key] = tomllib.loads(CANADA)["jurisdictions"]["ca"]
    with pytest.raises(ConfigErrors) as caught:
        parse_config(raw)
    assert f"invalid config jurisdictions.{key} = {key!r}: allowed a key of 2 to 8 lower-case" in str(caught.value)


def test_toml_syntax_error_names_the_file_and_the_line(tmp_path: Path) -> None:
    lines = DEFAULT_CONFIG_PATH.read_text().splitlines()
    number = next(i for i, line in enumerate(lines, start=1) if line.startswith("ebs_snapshot_days"))
    lines[number - 1] = "ebs_snapshot_days = = 90"
    bad = tmp_path / "broken.toml"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigSyntaxError) as caught:
        load_config(bad)
    error = caught.value
    assert isinstance(error, ConfigError)
    assert (error.path, error.line) == (bad, number)
    assert str(error).startswith(f"{bad}:{number}:")
    assert f"invalid TOML at line {number}, column" in str(error)


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file .*missing\.toml.*an existing TOML file"):
        load_config(tmp_path / "missing.toml")


def test_every_known_region_pins_three_availability_zones() -> None:
    assert tuple(sorted(REGION_AVAILABILITY_ZONES)) == KNOWN_REGIONS
    for region, zones in REGION_AVAILABILITY_ZONES.items():
        assert len(zones) == 3, region
        assert all(zone.startswith(region) and len(zone) == len(region) + 1 for zone in zones), region


@pytest.mark.parametrize("broken", ["syntax", "three-errors"])
def test_app_exits_2_with_every_error_and_no_traceback(tmp_path: Path, broken: str) -> None:
    """`python app.py -c config=<bad file>`: exit 2, the message on stderr, nothing synthesized."""
    import json
    import os
    import subprocess
    import sys

    text = DEFAULT_CONFIG_PATH.read_text()
    if broken == "syntax":
        text = text.replace("[jurisdictions.uk]", "[jurisdictions.uk", 1)
        expected = [f"{tmp_path / 'bad.toml'}:", "invalid TOML at line"]
    else:
        text = (
            text.replace('dr_region = "ap-southeast-4"', 'dr_region = "us-east-1"', 1)
            .replace("ebs_snapshot_days = 90", "ebs_snapshot_days = 30", 1)
            .replace('day = "Tue"', 'day = "Someday"', 1)
        )
        expected = [
            "3 errors in",
            "\n  [HOST-2] invalid config jurisdictions.au.dr_region = 'us-east-1'",
            "\n  [BAK-2] invalid config environments.production.retention.ebs_snapshot_days = 30",
            "\n  [OPS-5] invalid config environments.development.maintenance.day = 'Someday'",
        ]
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    outdir = tmp_path / "cdk.out"
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps({"config": str(bad)})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in expected:
        assert fragment in result.stderr, result.stderr
    assert not outdir.exists() or not any(outdir.rglob("*.template.json"))

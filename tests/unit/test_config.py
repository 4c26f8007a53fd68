"""Configuration: the shipped file is valid, and bad values fail before any stack exists."""

from __future__ import annotations

import copy
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from config import ConfigError, Environment, Jurisdiction, PlatformConfig, parse_config
from config.load import DEFAULT_CONFIG_PATH
from stacks.app_builder import Selection, build_app

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def raw() -> dict[str, Any]:
    with DEFAULT_CONFIG_PATH.open("rb") as handle:
        return copy.deepcopy(tomllib.load(handle))


def rejects(raw: dict[str, Any], *fragments: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    for fragment in fragments:
        assert fragment in str(caught.value), f"{fragment!r} not in {caught.value}"
    return caught.value


def test_shipped_config_has_three_jurisdictions_times_three_environments(platform_config: PlatformConfig) -> None:
    names = {d.name for d in platform_config.deployments}
    # Jurisdictions are configuration (an open set): the shipped file holds these three.
    assert names == {f"{j}-{e.value}" for j in ("au", "us", "uk") for e in Environment}
    assert {d.jurisdiction for d in platform_config.deployments} == {Jurisdiction("au"), "us", "uk"}
    au = platform_config.get("au-production")
    assert (au.primary_region, au.dr_region) == ("ap-southeast-2", "ap-southeast-4")
    us = platform_config.get("us-production")
    assert (us.primary_region, us.dr_region) == ("us-west-2", "us-east-1")
    uk = platform_config.get("uk-production")
    assert (uk.primary_region, uk.dr_region) == ("eu-west-2", "eu-west-1")


def test_deployment_overrides_apply_to_one_deployment_only(platform_config: PlatformConfig) -> None:
    assert platform_config.get("us-production").maintenance.start_utc == "10:00"
    assert platform_config.get("au-production").maintenance.start_utc == "16:00"


def test_maintenance_window_formats() -> None:
    from config import MaintenanceWindow

    window = MaintenanceWindow(day="Sun", start_utc="23:00", duration_hours=3)
    assert window.rds_window == "sun:23:00-mon:02:00"
    assert window.ssm_schedule == "cron(0 23 ? * SUN *)"


def test_unknown_region_names_the_field_and_the_allow_list(raw: dict[str, Any]) -> None:
    raw["jurisdictions"]["au"]["primary_region"] = "ap-southeast-9"
    error = rejects(raw, "jurisdictions.au.primary_region", "'ap-southeast-9'", "ap-southeast-2", "HOST-2")
    assert error.field == "jurisdictions.au.primary_region"


def test_dr_region_outside_the_jurisdiction_is_rejected(raw: dict[str, Any]) -> None:
    raw["jurisdictions"]["au"]["dr_region"] = "us-east-1"
    rejects(raw, "[HOST-2]", "jurisdictions.au.dr_region", "'us-east-1'", "ap-southeast-4")


def test_dr_region_equal_to_primary_is_rejected(raw: dict[str, Any]) -> None:
    raw["jurisdictions"]["uk"]["dr_region"] = "eu-west-2"
    rejects(raw, "[HOST-2]", "jurisdictions.uk.dr_region", "other than the primary region")


@pytest.mark.parametrize(
    ("field", "value", "clause"),
    [
        ("ebs_snapshot_days", 89, "BAK-2"),
        ("rds_automated_backup_days", 29, "BAK-3"),
        ("monthly_archive_days", 364, "BAK-4"),
        ("log_retention_days", 14, "BAK-7"),
    ],
)
def test_retention_below_policy_minimum_is_rejected(raw: dict[str, Any], field: str, value: int, clause: str) -> None:
    raw["environments"]["staging"]["retention"][field] = value
    rejects(raw, f"[{clause}]", f"environments.staging.retention.{field}", repr(value), "at least")


def test_min_capacity_above_max_is_rejected(raw: dict[str, Any]) -> None:
    raw["environments"]["production"]["sizing"]["web_min_capacity"] = 13
    rejects(raw, "environments.production.sizing.web_min_capacity", "13", "at most web_max_capacity (12)")


def test_single_instance_web_tier_is_rejected(raw: dict[str, Any]) -> None:
    raw["environments"]["development"]["sizing"]["web_min_capacity"] = 1
    rejects(raw, "[HOST-1]", "web_min_capacity", "at least 2")


@pytest.mark.parametrize("account", ["12345", "1234567890123", "11111111111x", ""])
def test_malformed_account_id_is_rejected(raw: dict[str, Any], account: str) -> None:
    raw["jurisdictions"]["us"]["accounts"]["staging"] = account
    rejects(raw, "jurisdictions.us.accounts.staging", "a 12-digit AWS account id")


def test_environments_may_not_share_an_account(raw: dict[str, Any]) -> None:
    raw["jurisdictions"]["au"]["accounts"]["staging"] = raw["jurisdictions"]["au"]["accounts"]["production"]
    rejects(raw, "[HOST-3]", "jurisdictions.au.accounts.staging", "environments are separate accounts")


def test_production_without_multi_az_database_is_rejected(raw: dict[str, Any]) -> None:
    raw["environments"]["production"]["sizing"]["db_multi_az"] = False
    rejects(raw, "[HOST-4]", "environments.production.sizing.db_multi_az")


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("sizing", "web_instance_type", "huge", "an instance type"),
        ("sizing", "web_max_capacity", "12", "a value of type int"),
        ("maintenance", "day", "Someday", "one of Mon, Tue"),
        ("maintenance", "start_utc", "25:00", "a UTC time HH:MM"),
        ("retention", "unknown_days", 5, "one of:"),
    ],
)
def test_malformed_values_name_field_and_allowed_values(
    raw: dict[str, Any], section: str, key: str, value: object, expected: str
) -> None:
    raw["environments"]["development"][section][key] = value
    rejects(raw, f"environments.development.{section}.{key}", expected)


def test_jurisdiction_copied_from_another_is_rejected(raw: dict[str, Any]) -> None:
    """Jurisdictions are configuration, but two never share a VPC address block or a domain."""
    raw["jurisdictions"]["jp"] = {k: v for k, v in raw["jurisdictions"]["au"].items() if k != "cidr_index"}
    raw["jurisdictions"]["jp"]["cidr_index"] = 0
    rejects(raw, "jurisdictions.jp.cidr_index = 0", "not used by jurisdiction 'au'", "jurisdictions.jp.domain_name")


def test_bad_selection_names_the_allowed_values(platform_config: PlatformConfig) -> None:
    app = cdk.App()
    with pytest.raises(ConfigError, match=r"context deployment .* one of: au-development"):
        build_app(app, platform_config, Selection(deployment="mars-production"))
    assert app.node.children == []


BAD_CONFIGS = {
    "unknown region": (
        ("jurisdictions", "au", "primary_region"),
        "ap-southeast-9",
        "[HOST-2] invalid config jurisdictions.au.primary_region = 'ap-southeast-9'",
    ),
    "DR region outside the jurisdiction": (
        ("jurisdictions", "au", "dr_region"),
        "eu-west-1",
        "[HOST-2] invalid config jurisdictions.au.dr_region = 'eu-west-1'",
    ),
    "DR region equal to primary": (
        ("jurisdictions", "au", "dr_region"),
        "ap-southeast-2",
        "[HOST-2] invalid config jurisdictions.au.dr_region = 'ap-southeast-2'",
    ),
    "retention below the policy minimum": (
        ("environments", "production", "retention", "ebs_snapshot_days"),
        89,
        "[BAK-2] invalid config environments.production.retention.ebs_snapshot_days = 89",
    ),
    "min capacity above max": (
        ("environments", "production", "sizing", "web_min_capacity"),
        20,
        "invalid config environments.production.sizing.web_min_capacity = 20: allowed at most web_max_capacity",
    ),
    "malformed account id": (
        ("jurisdictions", "au", "accounts", "production"),
        "1111",
        "invalid config jurisdictions.au.accounts.production = '1111': allowed a 12-digit AWS account id",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CONFIGS))
def test_bad_config_stops_the_app_before_anything_is_synthesized(
    tmp_path: Path, raw: dict[str, Any], case: str
) -> None:
    """The real entry point: exit code 2, the message on stderr, no cloud assembly written."""
    path, value, message = BAD_CONFIGS[case]
    table = raw
    for key in path[:-1]:
        table = table[key]
    table[path[-1]] = value
    bad = tmp_path / "bad.toml"
    bad.write_text(_to_toml(raw))
    outdir = tmp_path / "cdk.out"
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=REPO,
        env=_app_env(outdir, {"config": str(bad)}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert not outdir.exists() or not any(outdir.iterdir())


def _app_env(outdir: Path, context: dict[str, str]) -> dict[str, str]:
    import json
    import os

    return {**os.environ, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps(context)}


def _to_toml(data: dict[str, Any]) -> str:
    """Just enough TOML for the config file's shape (tables of scalars and inline tables)."""
    lines: list[str] = []

    def scalar(value: object) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, list):
            return "[" + ", ".join(scalar(v) for v in value) + "]"
        if isinstance(value, dict):
            return "{ " + ", ".join(f"{k} = {scalar(v)}" for k, v in value.items()) + " }"
        return '"' + str(value) + '"'

    def table(path: list[str], body: dict[str, Any]) -> None:
        scalars = {k: v for k, v in body.items() if not isinstance(v, dict) or k == "accounts"}
        if scalars:
            lines.append("[" + ".".join(f'"{p}"' for p in path) + "]")
            lines.extend(f"{k} = {scalar(v)}" for k, v in scalars.items())
        for key, value in body.items():
            if isinstance(value, dict) and key != "accounts":
                table([*path, key], value)

    for key, value in data.items():
        table([key], value)
    return "\n".join(lines) + "\n"


def test_every_deployment_has_its_own_public_zone_name(platform_config: PlatformConfig) -> None:
    """Issue 9 item 1: a domain can be delegated to one zone only; environments sharing a zone
    name would leave the others' certificates waiting for validation forever."""
    names = [d.domain_name for d in platform_config.deployments]
    assert len(names) == len(set(names))
    au = {d.environment.value: d.domain_name for d in platform_config.deployments if d.jurisdiction == "au"}
    assert au == {
        "production": "au.saas.example.com",
        "staging": "staging.au.saas.example.com",
        "development": "development.au.saas.example.com",
    }


def test_a_release_pin_is_a_semantic_version_and_a_sha256() -> None:
    """OPS-7: the pinned release names one immutable artifact; bad values name the field and the allowed values."""
    from config import ConfigErrors

    raw = tomllib.loads(DEFAULT_CONFIG_PATH.read_text())
    raw["overrides"]["au-production"] = {"release": {"version": "2.0.0", "sha256": "a" * 64}}
    pinned = parse_config(raw).get("au-production").release
    assert pinned is not None and pinned.artifact_key == "releases/2.0.0/app.tar.gz"
    assert parse_config(raw).get("au-staging").release is None
    raw["overrides"]["au-production"] = {"release": {"version": "latest", "sha256": "A" * 64}}
    with pytest.raises(ConfigErrors) as caught:
        parse_config(raw)
    text = str(caught.value)
    assert "release.version = 'latest'" in text and "never 'latest'" in text
    assert "release.sha256" in text and "64 lowercase hexadecimal digits" in text


def test_maintenance_window_blocks_backups_from_the_hour_before_it_to_its_end() -> None:
    """BAK-1/OPS-5: AWS Backup starts no database backup in the hour before or during the window."""
    from config.model import MaintenanceWindow

    sunday = MaintenanceWindow(day="Sun", start_utc="16:00", duration_hours=3)
    assert sunday.backup_blocked_hours == {(6, 15), (6, 16), (6, 17), (6, 18)}
    # Across midnight and the week's end; a job at 23:00 still has 30 minutes to start.
    monday = MaintenanceWindow(day="Mon", start_utc="00:30", duration_hours=2)
    assert monday.backup_blocked_minutes == (-30, 150)
    assert monday.backup_blocked_hours == {(0, 0), (0, 1), (0, 2)}
    late = MaintenanceWindow(day="Sun", start_utc="23:00", duration_hours=2)
    assert late.backup_blocked_hours == {(6, 22), (6, 23), (0, 0)}


def test_user_email_is_ses_outside_development_and_bad_values_name_the_field() -> None:
    """Issue 17 item 12: Cognito's own sender (about 50 e-mails a day) serves development only."""
    from config import ConfigErrors

    raw = tomllib.loads(DEFAULT_CONFIG_PATH.read_text())
    shipped = parse_config(raw)
    assert shipped.get("au-production").user_email_from == "no-reply@au.saas.example.com"
    assert shipped.get("au-staging").user_email_from == "no-reply@staging.au.saas.example.com"
    assert shipped.get("au-development").user_email_from is None  # Cognito's sender
    raw["environments"]["staging"]["user_email"] = {"sender": "cognito", "from_local_part": "No Reply"}
    raw["environments"]["production"]["user_email"] = {"sender": "smtp", "from_local_part": "no-reply"}
    with pytest.raises(ConfigErrors) as caught:
        parse_config(raw)
    text = str(caught.value)
    assert "environments.staging.user_email.sender = 'cognito'" in text and "serves development only" in text
    assert "environments.staging.user_email.from_local_part = 'No Reply'" in text
    assert "environments.production.user_email.sender = 'smtp'" in text and "one of ses, cognito" in text


def test_web_egress_allow_list_is_parsed_per_environment_and_overridable(raw: dict[str, Any]) -> None:
    """ACC-1: the third-party APIs the web tier may call; none unless configured."""
    raw["environments"]["production"]["web_egress"] = {
        "allow": [{"cidr": "203.0.113.0/24", "port": 443, "reason": "payment provider's API"}]
    }
    raw.setdefault("overrides", {})["au-production"] = {"web_egress": {"allow": []}}
    config = parse_config(raw)
    assert config.get("uk-production").web_egress[0].cidr == "203.0.113.0/24"
    assert config.get("uk-production").web_egress[0].port == 443
    assert config.get("au-production").web_egress == ()
    assert config.get("uk-staging").web_egress == ()


@pytest.mark.parametrize(
    ("entry", "fragments"),
    [
        ({"cidr": "0.0.0.0/0", "port": 443, "reason": "everything at all"}, ("allow[0].cidr", "/16 to /32", "ACC-1")),
        ({"cidr": "10.0.0.0/8", "port": 443, "reason": "a very wide network"}, ("allow[0].cidr", "/16 to /32")),
        ({"cidr": "203.0.113.7/24", "port": 443, "reason": "host bits are set"}, ("allow[0].cidr",)),
        ({"cidr": "example.com", "port": 443, "reason": "a name, not a network"}, ("allow[0].cidr",)),
        ({"cidr": "203.0.113.0/24", "port": 0, "reason": "payment provider"}, ("allow[0].port", "1 to 65535")),
        ({"cidr": "203.0.113.0/24", "port": "443", "reason": "payment provider"}, ("allow[0].port",)),
        ({"cidr": "203.0.113.0/24", "port": 443, "reason": "api"}, ("allow[0].reason", "at least 10")),
        ({"cidr": "203.0.113.0/24", "port": 443, "reason": "payment provider", "proto": "udp"}, ("proto",)),
    ],
)
def test_a_bad_web_egress_entry_names_the_field_and_what_is_allowed(
    raw: dict[str, Any], entry: dict[str, Any], fragments: tuple[str, ...]
) -> None:
    raw["environments"]["staging"]["web_egress"] = {"allow": [entry]}
    rejects(raw, "environments.staging.web_egress", *fragments)

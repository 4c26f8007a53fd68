"""Retention config: every policy minimum, HOST-2 for backup copies, vault-lock consistency.

Each case changes one field of a copy of the shipped `config/deployments.toml` and
asserts that `parse_config` names the field, the value and the policy clause.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from config import ConfigError, parse_config
from config.load import DEFAULT_CONFIG_PATH
from config.policy import RDS_AUTOMATED_BACKUP_MAX_DAYS, RETENTION_MINIMUMS

REPO = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("production", "staging", "development")


@pytest.fixture(scope="module")
def shipped() -> dict[str, Any]:
    with DEFAULT_CONFIG_PATH.open("rb") as handle:
        return tomllib.load(handle)


@pytest.fixture
def raw(shipped: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(shipped)


def _rejected(raw: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    return caught.value


def _assert_names(error: ConfigError, field: str, value: object, clause: str) -> None:
    message = str(error)
    assert field in message, message
    assert repr(value) in message, message
    assert f"[{clause}]" in message, message
    assert error.clause == clause


def test_shipped_config_meets_every_retention_minimum(shipped: dict[str, Any]) -> None:
    parse_config(shipped)
    for environment in ENVIRONMENTS:
        retention = shipped["environments"][environment]["retention"]
        for field, (minimum, _clause) in RETENTION_MINIMUMS.items():
            assert retention[field] >= minimum, (environment, field)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize(("field", "minimum_and_clause"), sorted(RETENTION_MINIMUMS.items()))
def test_each_retention_field_below_its_minimum_is_rejected(
    raw: dict[str, Any], environment: str, field: str, minimum_and_clause: tuple[int, str]
) -> None:
    minimum, clause = minimum_and_clause
    value = minimum - 1
    raw["environments"][environment]["retention"][field] = value
    error = _rejected(raw)
    _assert_names(error, f"environments.{environment}.retention.{field}", value, clause)
    assert f"at least {minimum}" in str(error)


@pytest.mark.parametrize("field", sorted(RETENTION_MINIMUMS))
def test_each_retention_field_at_its_minimum_is_accepted(raw: dict[str, Any], field: str) -> None:
    """The boundary: the policy minimum itself is allowed (where other rules permit it)."""
    minimum, _clause = RETENTION_MINIMUMS[field]
    retention = raw["environments"]["development"]["retention"]
    retention[field] = minimum
    # Keep dependent fields consistent so that only the minimum is under test.
    if field == "log_archive_expiry_days":
        retention["log_archive_transition_days"] = 30
    if field == "monthly_archive_days":
        retention["monthly_cold_storage_after_days"] = minimum - 90
    chosen = parse_config(raw).get("au-development").retention
    assert getattr(chosen, field) == minimum


def test_rds_automated_backups_above_the_rds_maximum_are_rejected(raw: dict[str, Any]) -> None:
    value = RDS_AUTOMATED_BACKUP_MAX_DAYS + 1
    raw["environments"]["production"]["retention"]["rds_automated_backup_days"] = value
    _assert_names(_rejected(raw), "environments.production.retention.rds_automated_backup_days", value, "BAK-3")


def test_cold_storage_must_leave_ninety_days_before_deletion(raw: dict[str, Any]) -> None:
    retention = raw["environments"]["staging"]["retention"]
    value = retention["monthly_archive_days"] - 89
    retention["monthly_cold_storage_after_days"] = value
    _assert_names(_rejected(raw), "environments.staging.retention.monthly_cold_storage_after_days", value, "BAK-4")


@pytest.mark.parametrize(
    ("jurisdiction", "foreign_region"),
    [("au", "us-east-1"), ("us", "eu-west-1"), ("uk", "ap-southeast-2")],
)
def test_backup_copy_region_outside_the_jurisdiction_is_rejected(
    raw: dict[str, Any], jurisdiction: str, foreign_region: str
) -> None:
    allow_list = raw["jurisdictions"][jurisdiction]["allowed_regions"]
    assert foreign_region not in allow_list
    raw["jurisdictions"][jurisdiction]["dr_region"] = foreign_region
    error = _rejected(raw)
    _assert_names(error, f"jurisdictions.{jurisdiction}.dr_region", foreign_region, "HOST-2")
    for allowed in allow_list:
        assert allowed in str(error)


def test_vault_lock_min_above_the_shortest_backup_retention_is_rejected(raw: dict[str, Any]) -> None:
    retention = raw["environments"]["production"]["retention"]
    value = retention["hourly_backup_days"] + 1  # hourly is the shortest backup retention
    retention["vault_lock_min_days"] = value
    error = _rejected(raw)
    _assert_names(error, "environments.production.retention.vault_lock_min_days", value, "ACC-4")
    assert f"1 to {retention['hourly_backup_days']}" in str(error)


def test_vault_lock_min_of_zero_is_rejected(raw: dict[str, Any]) -> None:
    raw["environments"]["development"]["retention"]["vault_lock_min_days"] = 0
    _assert_names(_rejected(raw), "environments.development.retention.vault_lock_min_days", 0, "ACC-4")


def test_vault_lock_max_below_the_longest_backup_retention_is_rejected(raw: dict[str, Any]) -> None:
    retention = raw["environments"]["production"]["retention"]
    value = retention["monthly_archive_days"] - 1  # the monthly archive is the longest
    retention["vault_lock_max_days"] = value
    error = _rejected(raw)
    _assert_names(error, "environments.production.retention.vault_lock_max_days", value, "ACC-4")
    assert f"at least {retention['monthly_archive_days']}" in str(error)


def test_vault_lock_min_above_max_is_rejected(raw: dict[str, Any]) -> None:
    retention = raw["environments"]["staging"]["retention"]
    retention["vault_lock_min_days"] = 800
    retention["vault_lock_max_days"] = 700
    error = _rejected(raw)
    assert "[ACC-4]" in str(error)
    assert "vault_lock_m" in str(error)


def test_app_with_bad_retention_exits_before_synthesizing_anything(tmp_path: Path) -> None:
    """`python app.py -c config=<bad file>`: exit 2, the clause on stderr, no cloud assembly."""
    text = DEFAULT_CONFIG_PATH.read_text()
    good_line = "ebs_snapshot_days = 90"
    assert good_line in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(good_line, "ebs_snapshot_days = 30", 1))  # production's table comes first
    outdir = tmp_path / "cdk.out"
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=REPO,
        env={
            **os.environ,
            "CDK_OUTDIR": str(outdir),
            "CDK_CONTEXT_JSON": json.dumps({"config": str(bad), "deployment": "au-production"}),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "[BAK-2] invalid config environments.production.retention.ebs_snapshot_days = 30" in result.stderr
    assert not outdir.exists() or not any(outdir.rglob("*.template.json"))
    assert not (outdir / "manifest.json").exists()


def test_production_audit_records_must_be_locked_in_compliance_mode(raw: dict[str, Any]) -> None:
    """ACC-3: a GOVERNANCE lock can be lifted by whoever may bypass it; production's records cannot be."""
    raw["environments"]["production"]["retention"]["audit_lock_mode"] = "GOVERNANCE"
    error = _rejected(raw)
    _assert_names(error, "environments.production.retention.audit_lock_mode", "GOVERNANCE", "ACC-3")
    assert "COMPLIANCE in production" in str(error)


def test_an_unknown_audit_lock_mode_names_the_allowed_values(raw: dict[str, Any]) -> None:
    raw["environments"]["development"]["retention"]["audit_lock_mode"] = "compliance"
    error = _rejected(raw)
    _assert_names(error, "environments.development.retention.audit_lock_mode", "compliance", "ACC-3")
    assert "one of COMPLIANCE, GOVERNANCE" in str(error)


def test_audit_records_are_locked_for_as_long_as_the_log_archive_keeps_them(raw: dict[str, Any]) -> None:
    raw["environments"]["staging"]["retention"]["audit_lock_mode"] = "COMPLIANCE"  # stricter is allowed
    config = parse_config(raw)
    for deployment in config.deployments:
        retention = deployment.retention
        assert retention.audit_lock_days == retention.log_archive_expiry_days
    assert config.get("au-production").retention.audit_lock_mode == "COMPLIANCE"
    assert config.get("au-staging").retention.audit_lock_mode == "COMPLIANCE"
    assert config.get("au-development").retention.audit_lock_mode == "GOVERNANCE"

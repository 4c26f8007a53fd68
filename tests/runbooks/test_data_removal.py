"""Data removal on request (DATA-1) against moto: both content buckets, every version, the manifest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from config.topology import DR, PRIMARY
from runbooks import ops
from runbooks.backup_holdings import database_rules
from runbooks.data_removal import DataRemoval, RemovalRequest
from runbooks.toolkit import EXIT_OK, EXIT_REFUSED, AuditLog, RefusedError
from tests.runbooks import ops_world as world
from tests.runbooks.ops_world import OpsWorld, out
from tests.runbooks.run_cli import run_runbook

ops_world = world.ops_world  # the fixture

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
T1 = "tenants/tenant-0001/"


def removal(world: OpsWorld, tmp_path: Path, **overrides: Any) -> DataRemoval:
    values: dict[str, Any] = {
        "s3": world.s3,
        "dr_s3": world.dr_s3,
        "database": world.db,
        "audit_log": AuditLog(tmp_path / "audit.jsonl"),
        "manifest_dir": tmp_path / "removals",
        "now": lambda: NOW,
        "out": out(),
    }
    values.update(overrides)
    return DataRemoval(world.deployment, **values)


def lines(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]


@pytest.fixture
def seeded(ops_world: OpsWorld) -> OpsWorld:
    ops_world.put_both(T1 + "a.pdf", versions=3)
    ops_world.put_both(T1 + "people/person-9/photo.png")
    ops_world.s3.delete_object(Bucket=ops_world.topo.content_bucket(PRIMARY), Key=T1 + "a.pdf")  # a delete marker
    ops_world.put_both("tenants/tenant-0002/keep.pdf")
    return ops_world


def test_licence_removal_deletes_every_version_in_both_buckets_and_the_records(
    seeded: OpsWorld, tmp_path: Path
) -> None:
    result = removal(seeded, tmp_path).run(RemovalRequest("tenant-0001", "REQ-1"), execute=True)
    assert result.exit_code == EXIT_OK, lines(tmp_path)
    assert seeded.versions(PRIMARY, T1) == [] and seeded.versions(DR, T1) == []
    assert len(seeded.versions(PRIMARY, "tenants/tenant-0002/")) == 1
    assert "tenant-0001" not in seeded.db.tenants
    assert all(r["clause"] == "DATA-1" and r["run_id"] == "REQ-1" for r in lines(tmp_path))
    manifest = json.loads((tmp_path / "removals" / "au-production-REQ-1-removal.json").read_text())
    primary = manifest["objects"][seeded.topo.content_bucket(PRIMARY)]
    assert len(primary) == 5 and sum(v["DeleteMarker"] for v in primary) == 1
    assert len(manifest["objects"][seeded.topo.content_bucket(DR)]) == 4
    held = {(h["backup"], h["location"].split(" ")[0]): h["holds_until"] for h in manifest["backups_still_holding"]}
    monthly = (NOW + timedelta(days=seeded.deployment.retention.monthly_archive_days)).date().isoformat()
    assert held[("database Monthly recovery points", "au-production-dr-vault")] == monthly
    assert any(b.startswith("RDS automated backups") for b, _ in held)


def test_personal_data_request_removes_the_persons_files_and_anonymises_the_records(
    seeded: OpsWorld, tmp_path: Path
) -> None:
    request = RemovalRequest("tenant-0001", "GDPR-7", person="person-9")
    assert removal(seeded, tmp_path).run(request, execute=True).exit_code == EXIT_OK
    keys = {v["Key"] for v in seeded.versions(PRIMARY, T1)}
    assert keys == {T1 + "a.pdf"} and {v["Key"] for v in seeded.versions(DR, T1)} == {T1 + "a.pdf"}
    assert seeded.db.calls == ["anonymise_person tenant-0001 person-9 GDPR-7"]
    assert "tenant-0001" in seeded.db.tenants


def test_dry_run_is_the_default_and_removes_nothing(seeded: OpsWorld, tmp_path: Path) -> None:
    result = removal(seeded, tmp_path).run(RemovalRequest("tenant-0001", "REQ-1"))
    assert result.outcome == "planned"
    assert len(seeded.versions(PRIMARY, T1)) == 5 and seeded.db.calls == []
    inventory = next(r for r in lines(tmp_path) if r["step"] == "inventory")
    assert inventory["status"] == "planned" and inventory["detail"]["versions"][seeded.topo.content_bucket(DR)] == 4


def test_second_run_of_the_same_request_changes_nothing(seeded: OpsWorld, tmp_path: Path) -> None:
    removal(seeded, tmp_path).run(RemovalRequest("tenant-0001", "REQ-1"), execute=True)
    before = (tmp_path / "audit.jsonl").read_text()
    again = removal(seeded, tmp_path).run(RemovalRequest("tenant-0001", "REQ-1"), execute=True)
    assert again.outcome == "already-completed" and again.exit_code == EXIT_OK
    assert (tmp_path / "audit.jsonl").read_text() == before
    assert seeded.db.calls == ["delete_tenant tenant-0001 REQ-1"]


def test_interrupted_removal_resumes_and_keeps_the_first_manifest(seeded: OpsWorld, tmp_path: Path) -> None:
    class Broken:
        def __init__(self, client: Any) -> None:
            self.client = client

        def __getattr__(self, name: str) -> Any:
            if name == "delete_objects":
                raise ConnectionError("network down")
            return getattr(self.client, name)

    first = removal(seeded, tmp_path, dr_s3=Broken(seeded.dr_s3)).run(
        RemovalRequest("tenant-0001", "REQ-2"), execute=True
    )
    assert first.failed_step == "remove-dr"
    second = removal(seeded, tmp_path).run(RemovalRequest("tenant-0001", "REQ-2"), execute=True)
    assert second.outcome == "completed"
    manifest = json.loads((tmp_path / "removals" / "au-production-REQ-2-removal.json").read_text())
    assert len(manifest["objects"][seeded.topo.content_bucket(DR)]) == 4  # written once, before any deletion
    assert [r["step"] for r in lines(tmp_path)].count("inventory") == 1


@pytest.mark.parametrize(
    ("request_", "overrides", "message"),
    [
        (RemovalRequest("tenant-9999", "REQ-1"), {}, "unknown tenant 'tenant-9999'"),
        (RemovalRequest("tenant-0001", "REQ-1", person="nobody"), {}, "unknown person 'nobody'"),
        (RemovalRequest("tenant-0001", "REQ-1"), {"dr_s3": None}, "needs a DR-region S3 client"),
        (RemovalRequest("tenant-0001", "REQ-1"), {"wrong_region": True}, "expected ap-southeast-2"),
    ],
)
def test_refusals_change_nothing(
    seeded: OpsWorld, tmp_path: Path, request_: RemovalRequest, overrides: dict[str, Any], message: str
) -> None:
    if overrides.pop("wrong_region", False):
        overrides["s3"] = boto3.client("s3", region_name="us-east-1")
    result = removal(seeded, tmp_path, **overrides).run(request_, execute=True)
    assert result.exit_code == EXIT_REFUSED
    assert message in lines(tmp_path)[-1]["detail"]["error"]
    assert len(seeded.versions(PRIMARY, T1)) == 5 and seeded.db.calls == []


def test_missing_bucket_is_refused(seeded: OpsWorld, tmp_path: Path) -> None:
    seeded.topo = seeded.topo  # the world stays; remove the DR bucket's objects and the bucket itself
    bucket = seeded.topo.content_bucket(DR)
    for version in seeded.versions(DR, ""):
        seeded.dr_s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
    seeded.dr_s3.delete_bucket(Bucket=bucket)
    result = removal(seeded, tmp_path).run(RemovalRequest("tenant-0001", "REQ-1"), execute=True)
    assert result.exit_code == EXIT_REFUSED and "not found" in lines(tmp_path)[-1]["detail"]["error"]


def test_empty_request_reference_is_refused(seeded: OpsWorld, tmp_path: Path) -> None:
    with pytest.raises(RefusedError, match="--request-ref is required"):
        removal(seeded, tmp_path).run(RemovalRequest("tenant-0001", " "))


def test_the_holdings_table_matches_the_backup_plan(seeded: OpsWorld) -> None:
    from patterns.backup_plan import tier_rules
    from patterns.tagging import BACKUP_TIER_DATABASE, TENANT_PREFIX_TEMPLATE

    rules = tier_rules(seeded.deployment.retention, seeded.deployment.timezone)[BACKUP_TIER_DATABASE]
    assert database_rules(seeded.deployment) == {r.name: r.delete_after_days for r in rules}
    assert ops.TENANT_PREFIX_TEMPLATE == TENANT_PREFIX_TEMPLATE


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--deployment", "au-production", "--request-ref", "R"], "--tenant"),
        (["--deployment", "au-production", "--tenant", "t-1"], "--request-ref"),
        (["--deployment", "au-production", "--tenant", "Bad_Tenant", "--request-ref", "R"], "lowercase letters"),
        (["--deployment", "mars-production", "--tenant", "t-1", "--request-ref", "R"], "allowed: au-production"),
        (["--deployment", "au-production", "--tenant", "t-1", "--request-ref", "R"], "--database-adapter is required"),
    ],
)
def test_cli_refuses_bad_arguments(argv: list[str], message: str) -> None:
    result = run_runbook("data_removal", *argv)
    assert result.returncode == EXIT_REFUSED and message in result.stderr


def test_cli_help_names_the_clause_and_the_dry_run_default() -> None:
    result = run_runbook("data_removal", "--help")
    assert result.returncode == 0 and "DATA-1" in result.stdout and "Dry run unless --execute" in result.stdout

"""Export of records (DATA-2) against moto: one archive in the encrypted, TLS-only export bucket."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from runbooks import ops
from runbooks.data_export import DataExport, ExportRequest
from runbooks.toolkit import EXIT_OK, EXIT_REFUSED, AuditLog, RefusedError
from tests.runbooks import ops_world as world
from tests.runbooks.ops_world import OpsWorld, out
from tests.runbooks.run_cli import run_runbook

ops_world = world.ops_world  # the fixture

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def export(world: OpsWorld, tmp_path: Path, **overrides: Any) -> DataExport:
    values: dict[str, Any] = {
        "s3": world.s3,
        "database": world.db,
        "audit_log": AuditLog(tmp_path / "audit.jsonl"),
        "now": lambda: NOW,
        "out": out(),
    }
    values.update(overrides)
    return DataExport(world.deployment, **values)


def lines(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]


@pytest.fixture
def seeded(ops_world: OpsWorld) -> OpsWorld:
    ops_world.put("tenants/tenant-0001/a.pdf", b"alpha")
    ops_world.put("tenants/tenant-0001/dir/b.txt", b"beta")
    ops_world.put("tenants/tenant-0002/other.pdf", b"not yours")
    return ops_world


def test_export_writes_one_encrypted_archive_and_an_expiring_link(seeded: OpsWorld, tmp_path: Path) -> None:
    job = export(seeded, tmp_path)
    result = job.run(ExportRequest("tenant-0001", "EXP-1", expires_hours=48), execute=True)
    assert result.exit_code == EXIT_OK, lines(tmp_path)
    bucket = ops.export_bucket(seeded.topo)
    key = "exports/tenant-0001/EXP-1/tenant-0001-export.zip"
    obj = seeded.s3.get_object(Bucket=bucket, Key=key)
    assert obj["ServerSideEncryption"] == "aws:kms" and obj["Metadata"]["request-ref"] == "EXP-1"
    archive = zipfile.ZipFile(io.BytesIO(obj["Body"].read()))
    assert sorted(archive.namelist()) == ["database.jsonl", "files/a.pdf", "files/dir/b.txt", "manifest.json"]
    manifest = json.loads(archive.read("manifest.json"))
    assert set(manifest["sha256"]) == {"database.jsonl", "files/a.pdf", "files/dir/b.txt"}
    link = next(r for r in lines(tmp_path) if r["step"] == "link")
    assert link["detail"]["expires_at"] == "2026-12-03T09:00:00+00:00" and "url" not in link["detail"]
    assert all(r["clause"] == "DATA-2" for r in lines(tmp_path))
    assert "download (expires 2026-12-03T09:00:00+00:00): https://" in job.out.getvalue()  # type: ignore[union-attr]


def test_dry_run_writes_nothing(seeded: OpsWorld, tmp_path: Path) -> None:
    result = export(seeded, tmp_path).run(ExportRequest("tenant-0001", "EXP-1"))
    assert result.outcome == "planned"
    assert seeded.s3.list_objects_v2(Bucket=ops.export_bucket(seeded.topo)).get("KeyCount") == 0
    assert next(r for r in lines(tmp_path) if r["step"] == "archive")["detail"]["files"] == 2


def test_second_run_changes_nothing_and_a_lost_record_skips_the_existing_archive(
    seeded: OpsWorld, tmp_path: Path
) -> None:
    export(seeded, tmp_path).run(ExportRequest("tenant-0001", "EXP-1"), execute=True)
    before = (tmp_path / "audit.jsonl").read_text()
    again = export(seeded, tmp_path).run(ExportRequest("tenant-0001", "EXP-1"), execute=True)
    assert again.outcome == "already-completed" and (tmp_path / "audit.jsonl").read_text() == before
    other_log = export(seeded, tmp_path, audit_log=AuditLog(tmp_path / "other.jsonl"))
    assert other_log.run(ExportRequest("tenant-0001", "EXP-1"), execute=True).exit_code == EXIT_OK
    archive = [json.loads(line) for line in (tmp_path / "other.jsonl").read_text().splitlines()][1]
    assert archive["status"] == "skipped"
    assert seeded.db.calls == ["export_tenant tenant-0001"]


@pytest.mark.parametrize(
    ("setup", "request_", "message"),
    [
        ("none", ExportRequest("tenant-9999", "EXP-1"), "unknown tenant 'tenant-9999'"),
        ("plain-bucket", ExportRequest("tenant-0001", "EXP-1"), "has no SSE-KMS default encryption"),
        ("no-policy", ExportRequest("tenant-0001", "EXP-1"), "no policy denying requests without TLS"),
        ("wrong-region", ExportRequest("tenant-0001", "EXP-1"), "expected ap-southeast-2"),
    ],
)
def test_refusals_write_nothing(
    seeded: OpsWorld, tmp_path: Path, setup: str, request_: ExportRequest, message: str
) -> None:
    bucket = ops.export_bucket(seeded.topo)
    overrides: dict[str, Any] = {}
    if setup == "plain-bucket":
        seeded.s3.delete_bucket_encryption(Bucket=bucket)
    elif setup == "no-policy":
        seeded.s3.delete_bucket_policy(Bucket=bucket)
    elif setup == "wrong-region":
        overrides["s3"] = boto3.client("s3", region_name="eu-west-2")
    result = export(seeded, tmp_path, **overrides).run(request_, execute=True)
    assert result.exit_code == EXIT_REFUSED and message in lines(tmp_path)[-1]["detail"]["error"]
    assert seeded.s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


@pytest.mark.parametrize("hours", [0, 169])
def test_link_lifetime_outside_the_allowed_range_is_refused(seeded: OpsWorld, tmp_path: Path, hours: int) -> None:
    with pytest.raises(RefusedError, match=r"allowed 1\.\.168"):
        export(seeded, tmp_path).run(ExportRequest("tenant-0001", "EXP-1", expires_hours=hours))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--deployment", "au-production", "--tenant", "t-1"], "--request-ref"),
        (["--deployment", "au-production", "--request-ref", "R"], "--tenant"),
        (
            ["--deployment", "au-production", "--tenant", "t-1", "--request-ref", "R", "--expires-hours", "500"],
            "1..168",
        ),
        (["--deployment", "xx-production", "--tenant", "t-1", "--request-ref", "R"], "allowed: au-production"),
    ],
)
def test_cli_refuses_bad_arguments(argv: list[str], message: str) -> None:
    result = run_runbook("data_export", *argv)
    assert result.returncode == EXIT_REFUSED and message in result.stderr


def test_cli_help_names_the_clause() -> None:
    result = run_runbook("data_export", "--help")
    assert result.returncode == 0 and "DATA-2" in result.stdout and "Dry run unless --execute" in result.stdout

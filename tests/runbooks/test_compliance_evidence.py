"""Compliance evidence (OPS-6, ACC-3) against moto: one dated bundle in the encrypted evidence bucket.

moto 5.2 has no AWS Backup job history and no SSM patch states: `FakeHistory` stands in
for `evidence_sources.JobHistory`; CloudTrail and S3 are moto's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from runbooks import ops
from runbooks.compliance_evidence import ComplianceEvidence
from runbooks.toolkit import EXIT_OK, EXIT_REFUSED, AuditLog, RefusedError
from tests.runbooks import ops_world as world
from tests.runbooks.ops_world import OpsWorld, out
from tests.runbooks.ops_world import locked as world_locked
from tests.runbooks.run_cli import run_runbook

ops_world = world.ops_world  # the fixture
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class FakeHistory:
    def __init__(self, *, failed_copy: bool = False, restores: bool = True, missing_patches: int = 0) -> None:
        self.failed_copy, self.restores, self.missing_patches = failed_copy, restores, missing_patches
        self.asked: list[tuple[str, datetime]] = []

    def jobs(self, kind: str, since: datetime) -> list[dict[str, Any]]:
        self.asked.append((kind, since))
        if kind == "restore" and not self.restores:
            return []
        state = "FAILED" if kind == "copy" and self.failed_copy else "COMPLETED"
        return [{"id": f"{kind}-1", "state": state, "resource": "arn:db", "created": "2026-11-30", "message": "m"}]

    def patch_states(self) -> list[dict[str, Any]]:
        return [{"instance": "i-1", "missing": self.missing_patches, "failed": 0, "installed": 40, "operation_end": ""}]


def trail(world: OpsWorld, *, validation: bool = True, logging: bool = True, lock: str | None = "COMPLIANCE") -> None:
    cloudtrail = boto3.client("cloudtrail", region_name=world.topo.primary_region)
    world.s3.create_bucket(
        Bucket="trail-bucket",
        CreateBucketConfiguration={"LocationConstraint": world.topo.primary_region},
        ObjectLockEnabledForBucket=lock is not None,
    )
    if lock is not None:
        world_locked(world.s3, "trail-bucket", lock)
    cloudtrail.create_trail(
        Name="au-production-trail",
        S3BucketName="trail-bucket",
        IsMultiRegionTrail=True,
        EnableLogFileValidation=validation,
        KmsKeyId="alias/au-production/logs",
    )
    if logging:
        cloudtrail.start_logging(Name="au-production-trail")


def evidence(
    world: OpsWorld, tmp_path: Path, history: FakeHistory | None = None, **overrides: Any
) -> ComplianceEvidence:
    report = tmp_path / "compliance-report.json"
    if not report.exists():
        report.write_text(json.dumps({"summary": {"fail": 0}, "clauses": [{"status": "PASS"}, {"status": "RUNBOOK"}]}))
    values: dict[str, Any] = {
        "s3": world.s3,
        "cloudtrail": boto3.client("cloudtrail", region_name=world.topo.primary_region),
        "history": history or FakeHistory(),
        "report_path": report,
        "audit_log": AuditLog(tmp_path / "audit.jsonl"),
        "output_dir": tmp_path / "out",
        "now": lambda: NOW,
        "out": out(),
    }
    values.update(overrides)
    return ComplianceEvidence(world.deployment, **values)


def bundle(world: OpsWorld) -> tuple[dict[str, Any], str]:
    bucket = ops.evidence_bucket(world.topo)
    body = world.s3.get_object(Bucket=bucket, Key="evidence/2026-12-01/au-production-evidence.json")
    markdown = world.s3.get_object(Bucket=bucket, Key="evidence/2026-12-01/au-production-evidence.md")
    assert body["ServerSideEncryption"] == "aws:kms"
    return json.loads(body["Body"].read()), markdown["Body"].read().decode()


def test_a_clean_period_produces_a_dated_bundle_without_findings(ops_world: OpsWorld, tmp_path: Path) -> None:
    trail(ops_world)
    history = FakeHistory()
    result = evidence(ops_world, tmp_path, history).run(execute=True)
    assert result.exit_code == EXIT_OK and result.run_id == "evidence-2026-12-01"
    data, markdown = bundle(ops_world)
    assert data["findings"] == [] and data["trails"][0]["log_file_validation"] and data["trails"][0]["logging"]
    assert data["compliance_report"]["clause_statuses"] == {"PASS": 1, "RUNBOOK": 1}
    assert {lock["bucket"]: (lock["enabled"], lock["mode"], lock["days"]) for lock in data["object_locks"]} == {
        "trail-bucket": (True, "COMPLIANCE", 2555),
        ops.evidence_bucket(ops_world.topo): (True, "COMPLIANCE", 2555),
    }
    assert "| trail-bucket | True | COMPLIANCE | 2555 |" in markdown
    assert {kind for kind, _ in history.asked} == {"backup", "copy", "restore"}
    assert history.asked[0][1] == datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
    assert (
        "# Compliance evidence: au-production (2026-12-01)" in markdown
        and "none: every gathered control held" in markdown
    )


def test_every_gap_is_a_finding(ops_world: OpsWorld, tmp_path: Path) -> None:
    trail(ops_world, validation=False, logging=False)
    history = FakeHistory(failed_copy=True, restores=False, missing_patches=3)
    job = evidence(ops_world, tmp_path, history, report_path=tmp_path / "missing.json")
    assert job.run(execute=True).exit_code == EXIT_OK
    findings = bundle(ops_world)[0]["findings"]
    assert any("not logging" in f for f in findings) and any("no log file validation" in f for f in findings)
    assert any("1 copy job(s) failed" in f for f in findings) and any("no restore test" in f for f in findings)
    assert any("3 missing" in f for f in findings) and any("no compliance report" in f for f in findings)


@pytest.mark.parametrize(
    ("lock", "expected"),
    [
        pytest.param(None, "audit bucket trail-bucket has no S3 Object Lock default retention (ACC-3)", id="unlocked"),
        pytest.param(
            "GOVERNANCE",
            "audit bucket trail-bucket is locked in GOVERNANCE mode, not COMPLIANCE (ACC-3)",
            id="governance",
        ),
    ],
)
def test_an_audit_bucket_that_production_could_delete_from_is_a_finding(
    ops_world: OpsWorld, tmp_path: Path, lock: str | None, expected: str
) -> None:
    trail(ops_world, lock=lock)
    assert evidence(ops_world, tmp_path).run(execute=True).exit_code == EXIT_OK
    assert bundle(ops_world)[0]["findings"] == [expected]


def test_dry_run_uploads_nothing_and_a_second_run_changes_nothing(ops_world: OpsWorld, tmp_path: Path) -> None:
    trail(ops_world)
    assert evidence(ops_world, tmp_path).run().outcome == "planned"
    bucket = ops.evidence_bucket(ops_world.topo)
    assert ops_world.s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    evidence(ops_world, tmp_path).run(execute=True)
    before = (tmp_path / "audit.jsonl").read_text()
    versions = len(ops_world.s3.list_object_versions(Bucket=bucket)["Versions"])
    assert evidence(ops_world, tmp_path).run(execute=True).outcome == "already-completed"
    assert (tmp_path / "audit.jsonl").read_text() == before
    other = evidence(ops_world, tmp_path, audit_log=AuditLog(tmp_path / "other.jsonl")).run(execute=True)
    assert other.exit_code == EXIT_OK and len(ops_world.s3.list_object_versions(Bucket=bucket)["Versions"]) == versions


@pytest.mark.parametrize("problem", ["no-encryption", "no-tls", "no-bucket", "wrong-region"])
def test_refusals_upload_nothing(ops_world: OpsWorld, tmp_path: Path, problem: str) -> None:
    bucket = ops.evidence_bucket(ops_world.topo)
    overrides: dict[str, Any] = {}
    if problem == "no-encryption":
        ops_world.s3.delete_bucket_encryption(Bucket=bucket)
    elif problem == "no-tls":
        ops_world.s3.delete_bucket_policy(Bucket=bucket)
    elif problem == "no-bucket":
        ops_world.s3.delete_bucket(Bucket=bucket)
    else:
        overrides["cloudtrail"] = boto3.client("cloudtrail", region_name="us-east-1")
    result = evidence(ops_world, tmp_path, **overrides).run(execute=True)
    assert result.exit_code == EXIT_REFUSED
    assert not (tmp_path / "out").exists()


def test_a_review_period_outside_the_allowed_range_is_refused(ops_world: OpsWorld, tmp_path: Path) -> None:
    with pytest.raises(RefusedError, match=r"allowed 1\.\.3650"):
        evidence(ops_world, tmp_path).run(days=0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "--deployment"),
        (["--deployment", "au-production", "--days", "0"], "allowed 1..3650"),
        (["--deployment", "mars-production"], "allowed: au-production"),
    ],
)
def test_cli_refuses_bad_arguments(argv: list[str], message: str) -> None:
    result = run_runbook("compliance_evidence", *argv)
    assert result.returncode == EXIT_REFUSED and message in result.stderr


def test_cli_help_names_the_clauses() -> None:
    result = run_runbook("compliance_evidence", "--help")
    assert result.returncode == 0 and "OPS-6" in result.stdout and "ACC-3" in result.stdout

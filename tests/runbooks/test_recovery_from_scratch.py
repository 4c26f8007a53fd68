"""Recovery from scratch (BAK-9) against moto in the DR region, from the DR vault's newest copy alone.

moto 5.2 has no recovery points or restore jobs: `CopyGateway` (a `BackupGateway`)
treats DR-region DB snapshots as the vault's copies and restores through RDS. The
vault, the fresh subnet group, tagging, validation, timing and cleanup are moto's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from config import load_config
from config.topology import DR, FailoverTopology
from runbooks.recovery_from_scratch import RebuildOptions, RecoveryFromScratch
from runbooks.restore_drill import RecoveryPoint, RestoreJob
from runbooks.toolkit import EXIT_OK, EXIT_REFUSED, EXIT_STEP_FAILED, AuditLog
from tests.runbooks.conftest import FakeClock
from tests.runbooks.ops_world import out
from tests.runbooks.run_cli import run_runbook

AU = load_config().get("au-production")
TOPO = FailoverTopology.of(AU)
REGION = TOPO.dr_region
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ROLE = "arn:aws:iam::111111111111:role/au-production-restore-testing"


class CopyGateway:
    def __init__(self, rds: Any, snapshots: dict[str, tuple[str, datetime, bool]]) -> None:
        self.rds, self.snapshots = rds, snapshots
        self.started: list[str] = []
        self.asked: list[tuple[str, str]] = []

    def latest_recovery_point(self, vault_name: str, resource_arn: str) -> RecoveryPoint | None:
        self.asked.append((vault_name, resource_arn))
        points = [RecoveryPoint(arn, resource_arn, created, enc) for arn, (_, created, enc) in self.snapshots.items()]
        return max(points, key=lambda p: p.created, default=None)

    def restore_metadata(self, vault_name: str, recovery_point_arn: str) -> dict[str, str]:
        return {"Engine": "postgres"}

    def start_restore(self, point: str, metadata: dict[str, str], role: str, resource_type: str, token: str) -> str:
        self.started.append(token)
        self.rds.restore_db_instance_from_db_snapshot(
            DBInstanceIdentifier=metadata["DBInstanceIdentifier"],
            DBSnapshotIdentifier=self.snapshots[point][0],
            DBSubnetGroupName=metadata["DBSubnetGroupName"],
            PubliclyAccessible=metadata["PubliclyAccessible"] == "true",
        )
        return f"job-{len(self.started)}"

    def describe_restore(self, job_id: str) -> RestoreJob:
        return RestoreJob(job_id, "COMPLETED")


class Dr:
    def __init__(self) -> None:
        self.rds = boto3.client("rds", region_name=REGION)
        self.backup = boto3.client("backup", region_name=REGION)
        ec2 = boto3.client("ec2", region_name=REGION)
        self.backup.create_backup_vault(BackupVaultName=TOPO.backup_vault_name(DR))
        vpc = ec2.create_vpc(CidrBlock="10.17.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.17.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"][
                "SubnetId"
            ]
            for i, z in ((1, "a"), (2, "b"))
        ]
        self.rds.create_db_subnet_group(
            DBSubnetGroupName="fresh", DBSubnetGroupDescription="fresh env", SubnetIds=subnets
        )
        self.rds.create_db_instance(
            DBInstanceIdentifier="copy-source",
            DBInstanceClass="db.r7g.large",
            Engine="postgres",
            AllocatedStorage=20,
            MasterUsername="app",
            MasterUserPassword="not-a-real-secret-1A!",
            StorageEncrypted=True,
        )
        old = self.rds.create_db_snapshot(DBInstanceIdentifier="copy-source", DBSnapshotIdentifier="copy-old")[
            "DBSnapshot"
        ]
        new = self.rds.create_db_snapshot(DBInstanceIdentifier="copy-source", DBSnapshotIdentifier="copy-new")[
            "DBSnapshot"
        ]
        self.rds.delete_db_instance(DBInstanceIdentifier="copy-source", SkipFinalSnapshot=True)
        self.gateway = CopyGateway(
            self.rds,
            {
                old["DBSnapshotArn"]: ("copy-old", NOW - timedelta(hours=30), True),
                new["DBSnapshotArn"]: ("copy-new", NOW - timedelta(hours=5), True),
            },
        )
        self.clock = FakeClock()

    def rebuild(self, log: Path, **overrides: Any) -> RecoveryFromScratch:
        values: dict[str, Any] = {
            "backup": self.backup,
            "rds": self.rds,
            "gateway": self.gateway,
            "audit_log": AuditLog(log),
            "sleep": self.clock.sleep,
            "clock": self.clock,
            "now": lambda: NOW,
            "out": out(),
        }
        values.update(overrides)
        return RecoveryFromScratch(AU, **values)

    def ids(self) -> set[str]:
        return {db["DBInstanceIdentifier"] for db in self.rds.describe_db_instances()["DBInstances"]}


@pytest.fixture
def dr() -> Iterator[Dr]:
    with mock_aws():
        yield Dr()


def lines(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


OPTIONS = RebuildOptions(db_subnet_group="fresh", restore_role_arn=ROLE)


def test_rebuild_restores_the_newest_copy_validates_measures_and_cleans_up(dr: Dr, tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    result = dr.rebuild(log).run(OPTIONS, run_id="2026q4", execute=True)
    assert result.exit_code == EXIT_OK, lines(log)
    steps = {r["step"]: r for r in lines(log) if r["status"] in ("done", "skipped")}
    assert steps["find-copy"]["detail"]["age_hours"] == 5.0
    assert dr.gateway.asked == [(TOPO.backup_vault_name(DR), TOPO.db_instance_arn("primary"))]
    assert steps["validate"]["detail"]["checks"] == {
        "available": True,
        "encrypted": True,
        "private": True,
        "subnet_group": True,
    }
    assert steps["measure"]["detail"]["within_objective"] is True and "measured_minutes" in steps["measure"]["detail"]
    assert steps["cleanup"]["detail"] == {"deleted": "au-production-rebuild-2026q4"}
    assert "au-production-rebuild-2026q4" not in dr.ids()
    assert all(r["clause"] == "BAK-9" for r in lines(log))


def test_keep_leaves_the_rebuilt_database_and_a_second_run_changes_nothing(dr: Dr, tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    keep = RebuildOptions("fresh", ROLE, keep=True)
    assert dr.rebuild(log).run(keep, run_id="real", execute=True).exit_code == EXIT_OK
    assert "au-production-rebuild-real" in dr.ids()
    before = log.read_text()
    again = dr.rebuild(log).run(keep, run_id="real", execute=True)
    assert again.outcome == "already-completed" and log.read_text() == before and dr.gateway.started == ["real"]


def test_dry_run_restores_nothing(dr: Dr, tmp_path: Path) -> None:
    assert dr.rebuild(tmp_path / "a.jsonl").run(OPTIONS, run_id="x").outcome == "planned"
    assert dr.gateway.started == [] and dr.ids() == set()


def test_an_interrupted_rebuild_resumes_without_a_second_restore(dr: Dr, tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    real_validate = RecoveryFromScratch._validate

    def crash(self: RecoveryFromScratch) -> dict[str, Any]:
        raise ConnectionError("laptop went to sleep")

    RecoveryFromScratch._validate = crash  # type: ignore[method-assign]
    try:
        first = dr.rebuild(log).run(OPTIONS, run_id="q4", execute=True)
    finally:
        RecoveryFromScratch._validate = real_validate  # type: ignore[method-assign]
    assert first.exit_code == EXIT_STEP_FAILED and first.failed_step == "validate"
    second = dr.rebuild(log).run(OPTIONS, run_id="q4", execute=True)
    assert second.exit_code == EXIT_OK, lines(log)
    assert dr.gateway.started == ["q4"]


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("no-vault", "DR vault au-production-dr-vault not found"),
        ("no-subnet-group", "--db-subnet-group nope not found"),
        ("stale", "copies are not arriving"),
        ("unencrypted", "is not encrypted"),
        ("no-copy", "no completed copy"),
        ("wrong-region", "expected ap-southeast-4"),
        ("not-fresh", "is not fresh"),
    ],
)
def test_refusals_restore_nothing(dr: Dr, tmp_path: Path, problem: str, message: str) -> None:
    options, overrides = OPTIONS, {}
    if problem == "no-vault":
        dr.backup.delete_backup_vault(BackupVaultName=TOPO.backup_vault_name(DR))
    elif problem == "no-subnet-group":
        options = RebuildOptions("nope", ROLE)
    elif problem == "stale":
        options = RebuildOptions("fresh", ROLE, max_age_hours=4)
    elif problem == "unencrypted":
        dr.gateway.snapshots = {k: (v[0], v[1], False) for k, v in dr.gateway.snapshots.items()}
    elif problem == "no-copy":
        dr.gateway.snapshots = {}
    elif problem == "wrong-region":
        overrides["rds"] = boto3.client("rds", region_name=TOPO.primary_region)
    else:
        dr.rebuild(tmp_path / "first.jsonl").run(RebuildOptions("fresh", ROLE, keep=True), run_id="dup", execute=True)
        dr.gateway.started.clear()
    run_id = "dup" if problem == "not-fresh" else "r1"
    result = dr.rebuild(tmp_path / "a.jsonl", **overrides).run(options, run_id=run_id, execute=True)
    assert result.exit_code == EXIT_REFUSED, lines(tmp_path / "a.jsonl")
    assert message in lines(tmp_path / "a.jsonl")[-1]["detail"]["error"]
    assert dr.gateway.started == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--deployment", "au-production", "--restore-role-arn", ROLE], "--db-subnet-group"),
        (["--deployment", "au-production", "--db-subnet-group", "f"], "--restore-role-arn"),
        (
            [
                "--deployment",
                "au-production",
                "--db-subnet-group",
                "f",
                "--restore-role-arn",
                ROLE,
                "--max-age-hours",
                "0",
            ],
            "must be > 0",
        ),
        (
            ["--deployment", "mars-production", "--db-subnet-group", "f", "--restore-role-arn", ROLE],
            "allowed: au-production",
        ),
    ],
)
def test_cli_refuses_bad_arguments(argv: list[str], message: str) -> None:
    result = run_runbook("recovery_from_scratch", *argv)
    assert result.returncode == EXIT_REFUSED and message in result.stderr


def test_cli_help_names_the_clause() -> None:
    result = run_runbook("recovery_from_scratch", "--help")
    assert result.returncode == 0 and "BAK-9" in result.stdout and "Dry run unless --execute" in result.stdout

"""Restore-drill automation (BAK-9) against moto.

moto 5.2.5 implements AWS Backup vaults but no recovery points or restore jobs, so
the drill's `BackupGateway` is replaced by `MotoRestoreGateway`, which treats an RDS
snapshot / EBS snapshot as the recovery point and performs the restore with the RDS
and EC2 APIs that moto does implement. Preconditions (vault, isolated subnet),
tagging, validation, cleanup and the audit log all run against moto unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from runbooks.restore_drill import DrillRequest, RecoveryPoint, RestoreDrill, RestoreJob
from runbooks.toolkit import EXIT_OK, EXIT_REFUSED, EXIT_STEP_FAILED, AuditLog
from tests.runbooks.run_cli import run_runbook

REGION = "ap-southeast-2"
VAULT = "au-production-primary-vault"
ROLE = "arn:aws:iam::123456789012:role/au-production-restore-testing"


@dataclass
class Env:
    backup: Any
    rds: Any
    ec2: Any
    subnet_id: str
    public_subnet_id: str
    db_arn: str
    snapshot_arn: str
    volume_arn: str
    ebs_snapshot_id: str


class MotoRestoreGateway:
    """A stand-in for the AWS Backup restore calls, doing the restore through RDS/EC2."""

    def __init__(self, env: Env, *, recovery_point: bool = True, final_status: str = "COMPLETED") -> None:
        self.env = env
        self.recovery_point = recovery_point
        self.final_status = final_status
        self.started: list[tuple[str, dict[str, str], str]] = []
        self.jobs: dict[str, str] = {}
        self.polls = 0

    def latest_recovery_point(self, vault_name: str, resource_arn: str) -> RecoveryPoint | None:
        assert vault_name == VAULT
        if not self.recovery_point:
            return None
        point = self.env.snapshot_arn if resource_arn == self.env.db_arn else self.env.ebs_snapshot_id
        return RecoveryPoint(arn=point, resource_arn=resource_arn, created=datetime.now(UTC), encrypted=True)

    def restore_metadata(self, vault_name: str, recovery_point_arn: str) -> dict[str, str]:
        return {"Engine": "postgres"} if ":snapshot:" in recovery_point_arn else {"volumeType": "gp3"}

    def start_restore(
        self, recovery_point_arn: str, metadata: dict[str, str], role_arn: str, resource_type: str, token: str
    ) -> str:
        self.started.append((recovery_point_arn, metadata, token))
        if resource_type == "RDS":
            response = self.env.rds.restore_db_instance_from_db_snapshot(
                DBInstanceIdentifier=metadata["DBInstanceIdentifier"],
                DBSnapshotIdentifier=recovery_point_arn.rsplit(":", 1)[-1],
                DBSubnetGroupName=metadata["DBSubnetGroupName"],
                PubliclyAccessible=metadata["PubliclyAccessible"] == "true",
            )
            created = response["DBInstance"]["DBInstanceArn"]
        else:
            volume = self.env.ec2.create_volume(
                SnapshotId=recovery_point_arn,
                AvailabilityZone=metadata["availabilityZone"],
                Encrypted=metadata["encrypted"] == "true",
            )
            created = f"arn:aws:ec2:{REGION}:123456789012:volume/{volume['VolumeId']}"
        job_id = f"job-{len(self.started)}"
        self.jobs[job_id] = created
        return job_id

    def describe_restore(self, job_id: str) -> RestoreJob:
        self.polls += 1
        if self.polls == 1:
            return RestoreJob(job_id=job_id, status="RUNNING")
        return RestoreJob(job_id=job_id, status=self.final_status, created_resource_arn=self.jobs[job_id])


@pytest.fixture
def env() -> Iterator[Env]:
    with mock_aws():
        backup = boto3.client("backup", region_name=REGION)
        rds = boto3.client("rds", region_name=REGION)
        ec2 = boto3.client("ec2", region_name=REGION)
        backup.create_backup_vault(BackupVaultName=VAULT)
        vpc = ec2.create_vpc(CidrBlock="10.16.0.0/16")["Vpc"]["VpcId"]
        isolated = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.16.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"][
                "SubnetId"
            ]
            for i, z in ((1, "a"), (2, "b"))
        ]
        public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.16.9.0/24", AvailabilityZone=f"{REGION}a")["Subnet"][
            "SubnetId"
        ]
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        ec2.associate_route_table(RouteTableId=table, SubnetId=public)
        rds.create_db_subnet_group(
            DBSubnetGroupName="drill-isolated", DBSubnetGroupDescription="isolated", SubnetIds=isolated
        )
        db = rds.create_db_instance(
            DBInstanceIdentifier="orders",
            DBInstanceClass="db.t4g.medium",
            Engine="postgres",
            AllocatedStorage=20,
            MasterUsername="app",
            MasterUserPassword="not-a-real-secret-1A!",
            StorageEncrypted=True,
            DBSubnetGroupName="drill-isolated",
        )["DBInstance"]
        snapshot = rds.create_db_snapshot(DBInstanceIdentifier="orders", DBSnapshotIdentifier="orders-rp")["DBSnapshot"]
        volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8, Encrypted=True)
        ebs_snapshot = ec2.create_snapshot(VolumeId=volume["VolumeId"])
        yield Env(
            backup=backup,
            rds=rds,
            ec2=ec2,
            subnet_id=isolated[0],
            public_subnet_id=public,
            db_arn=db["DBInstanceArn"],
            snapshot_arn=snapshot["DBSnapshotArn"],
            volume_arn=f"arn:aws:ec2:{REGION}:123456789012:volume/{volume['VolumeId']}",
            ebs_snapshot_id=ebs_snapshot["SnapshotId"],
        )


def _request(env: Env, drill_id: str = "2026q4-orders", **overrides: Any) -> DrillRequest:
    values: dict[str, Any] = {
        "drill_id": drill_id,
        "vault_name": VAULT,
        "resource_arn": env.db_arn,
        "resource_type": "RDS",
        "restore_role_arn": ROLE,
        "isolated_subnet_id": env.subnet_id,
        "db_subnet_group": "drill-isolated",
    }
    values.update(overrides)
    return DrillRequest(**values)


def _drill(env: Env, log: Path, gateway: MotoRestoreGateway) -> RestoreDrill:
    return RestoreDrill(
        backup=env.backup, rds=env.rds, ec2=env.ec2, audit_log=AuditLog(log), gateway=gateway, sleep=lambda _: None
    )


def _lines(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def _db_ids(env: Env) -> set[str]:
    return {db["DBInstanceIdentifier"] for db in env.rds.describe_db_instances()["DBInstances"]}


def test_dry_run_is_the_default_and_changes_nothing(env: Env, tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    gateway = MotoRestoreGateway(env)
    result = _drill(env, log, gateway).run(_request(env))
    assert result.outcome == "planned"
    assert gateway.started == []
    assert _db_ids(env) == {"orders"}
    records = _lines(log)
    assert all(r["dry_run"] is True and r["clause"] == "BAK-9" for r in records)
    assert [(r["step"], r["status"]) for r in records][:2] == [
        ("preconditions", "done"),
        ("find-recovery-point", "done"),
    ]
    assert [r["step"] for r in records if r["status"] == "planned"] == [
        "start-restore",
        "wait",
        "tag",
        "validate",
        "cleanup",
    ]
    planned = next(r for r in records if r["step"] == "start-restore")
    assert planned["detail"]["metadata"]["DBSubnetGroupName"] == "drill-isolated"
    assert planned["detail"]["metadata"]["PubliclyAccessible"] == "false"


def test_rds_drill_restores_validates_cleans_up_and_records_every_step(env: Env, tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    gateway = MotoRestoreGateway(env)
    result = _drill(env, log, gateway).run(_request(env), execute=True)
    assert result.outcome == "completed" and result.exit_code == EXIT_OK, _lines(log)
    assert [(r["step"], r["status"]) for r in _lines(log)] == [
        ("preconditions", "done"),
        ("find-recovery-point", "done"),
        ("start-restore", "done"),
        ("wait", "done"),
        ("tag", "done"),
        ("validate", "done"),
        ("cleanup", "done"),
        ("drill", "done"),
    ]
    [(point, metadata, token)] = gateway.started
    assert point == env.snapshot_arn
    assert token == "2026q4-orders"
    assert metadata["DBInstanceIdentifier"] == "drill-2026q4-orders"
    validate = next(r for r in _lines(log) if r["step"] == "validate")
    assert validate["detail"]["checks"] == {
        "status": "available",
        "encrypted": True,
        "publicly_accessible": False,
        "subnet_group": "drill-isolated",
    }
    # The restored copy is gone; the source database is untouched.
    assert _db_ids(env) == {"orders"}
    assert result.restored_resource_arn is not None
    assert result.restored_resource_arn.endswith(":db:drill-2026q4-orders")


def test_second_run_with_the_same_drill_id_does_nothing_new(env: Env, tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    gateway = MotoRestoreGateway(env)
    first = _drill(env, log, gateway).run(_request(env), execute=True)
    assert first.outcome == "completed"
    before = log.read_text()
    second = _drill(env, log, gateway).run(_request(env), execute=True)
    assert second.outcome == "already-completed"
    assert second.restored_resource_arn == first.restored_resource_arn
    assert second.run.records == []
    assert log.read_text() == before
    assert len(gateway.started) == 1


def test_interrupted_drill_resumes_the_recorded_job_instead_of_starting_another(env: Env, tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    gateway = MotoRestoreGateway(env, final_status="FAILED")
    first = _drill(env, log, gateway).run(_request(env), execute=True)
    assert first.outcome == "failed" and first.exit_code == EXIT_STEP_FAILED
    assert first.run.failed_step == "wait" and "ended FAILED" in _lines(log)[-1]["detail"]["error"]
    gateway.final_status = "COMPLETED"
    second = _drill(env, log, gateway).run(_request(env), execute=True)
    assert second.outcome == "completed"
    assert len(gateway.started) == 1  # the recorded job is polled again, not restarted
    assert [(r["step"], r["status"]) for r in _lines(log)].count(("start-restore", "done")) == 1


def test_ebs_drill_restores_an_encrypted_volume_in_the_isolated_az_and_deletes_it(env: Env, tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    volumes_before = {v["VolumeId"] for v in env.ec2.describe_volumes()["Volumes"]}
    request = _request(env, "2026q4-web", resource_arn=env.volume_arn, resource_type="EBS", db_subnet_group="")
    result = _drill(env, log, MotoRestoreGateway(env)).run(request, execute=True)
    assert result.outcome == "completed", _lines(log)
    validate = next(r for r in _lines(log) if r["step"] == "validate")
    assert validate["detail"]["checks"] == {"state": "available", "encrypted": True}
    assert {v["VolumeId"] for v in env.ec2.describe_volumes()["Volumes"]} == volumes_before


def test_missing_vault_fails_the_preconditions_and_starts_nothing(env: Env, tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    gateway = MotoRestoreGateway(env)
    result = _drill(env, log, gateway).run(_request(env, vault_name="no-such-vault"), execute=True)
    assert result.outcome == "refused" and result.exit_code == EXIT_REFUSED
    assert gateway.started == []
    [failure] = _lines(log)
    assert failure["step"] == "preconditions" and failure["detail"]["refused"] is True
    assert "no-such-vault" in failure["detail"]["error"]


def test_subnet_with_an_internet_route_is_refused(env: Env, tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    gateway = MotoRestoreGateway(env)
    result = _drill(env, log, gateway).run(_request(env, isolated_subnet_id=env.public_subnet_id), execute=True)
    assert result.outcome == "refused" and result.exit_code == EXIT_REFUSED
    assert "not isolated" in _lines(log)[-1]["detail"]["error"]
    assert gateway.started == []


def test_no_recovery_point_is_a_recorded_failure(env: Env, tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    result = _drill(env, log, MotoRestoreGateway(env, recovery_point=False)).run(_request(env), execute=True)
    assert result.outcome == "failed" and result.exit_code == EXIT_STEP_FAILED  # a finding, not a wrong call
    assert "no completed recovery point" in _lines(log)[-1]["detail"]["error"]


def test_cleanup_refuses_a_resource_without_the_drill_tag(env: Env, tmp_path: Path) -> None:
    drill = _drill(env, tmp_path / "audit.jsonl", MotoRestoreGateway(env))
    with pytest.raises(Exception, match="refusing to delete"):
        drill._cleanup(_request(env), env.db_arn)  # the production database itself
    assert "orders" in _db_ids(env)


def test_cli_help_names_the_clause_and_the_dry_run_default() -> None:
    result = run_runbook("restore_drill", "--help")
    assert result.returncode == 0, result.stderr
    assert "BAK-9" in result.stdout
    assert "--execute" in result.stdout
    assert "Dry run unless --execute" in result.stdout

"""Recovery from scratch (BAK-9, quarterly): rebuild the data tier from the newest cross-region backup copy.

Read `runbooks/recovery_from_scratch.md` first. In the DR region, from the DR vault
`<deployment>-dr-vault` alone (no replica, no primary region): find the newest
completed, encrypted copy of the primary database's recovery points, restore it into
a fresh environment (a DB subnet group the operator names; the restored instance is
`<deployment>-rebuild-<run id>`, tagged `recovery-from-scratch=<run id>`), wait,
validate (available, encrypted, not public, in the named subnet group), and record
the measured time against the DR-1 objective (24 h). Then delete the copy, unless
`--keep` (a real rebuild keeps it). Dry run by default; the run id makes a rerun
resume: a restore recorded `started` is waited for, never started twice.

The AWS Backup calls go through `restore_drill.BackupGateway` (moto 5.2 has no
recovery points or restore jobs); `VaultGateway` looks the copies up by vault.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from config.model import Deployment
from config.names import DeploymentNames
from config.topology import DR, PRIMARY, FailoverTopology
from runbooks import ops
from runbooks.restore_drill import AwsBackupGateway, BackupGateway, RecoveryPoint
from runbooks.toolkit import AuditLog, RefusedError, RunResult, Skip, Step, StepFailedError, wait_until

CLAUSE = "BAK-9"
PROCEDURE = "recovery-from-scratch"
TAG = "recovery-from-scratch"
OBJECTIVE_HOURS = 24  # DR-1: full service in < 24 h


class VaultGateway(AwsBackupGateway):
    """Copies in the DR vault keep the source resource's ARN: list them by vault, not by resource."""

    def latest_recovery_point(self, vault_name: str, resource_arn: str) -> RecoveryPoint | None:
        latest: RecoveryPoint | None = None
        paginator = self.backup.get_paginator("list_recovery_points_by_backup_vault")
        for page in paginator.paginate(BackupVaultName=vault_name, ByResourceArn=resource_arn):
            for point in page.get("RecoveryPoints", []):
                if point.get("Status") != "COMPLETED":
                    continue
                candidate = RecoveryPoint(
                    point["RecoveryPointArn"], resource_arn, point["CreationDate"], bool(point.get("IsEncrypted"))
                )
                if latest is None or candidate.created > latest.created:
                    latest = candidate
        return latest


@dataclass(frozen=True)
class RebuildOptions:
    db_subnet_group: str
    restore_role_arn: str
    keep: bool = False
    max_age_hours: float = 26.0  # the newest copy must be at most this old (daily rule + copy time)


class RecoveryFromScratch:
    def __init__(
        self,
        deployment: Deployment,
        *,
        backup: Any,
        rds: Any,
        gateway: BackupGateway,
        audit_log: AuditLog,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        poll_s: float = 30.0,
        timeout_s: float = 4 * 3600.0,
        out: TextIO | None = None,
    ) -> None:
        self.topo = FailoverTopology.of(deployment)
        self.vault = DeploymentNames.of(deployment).backup_vault_name(DR)
        self.backup, self.rds, self.gateway, self.audit = backup, rds, gateway, audit_log
        self.sleep, self.clock, self.now, self.poll_s, self.timeout_s, self.out = (
            sleep,
            clock,
            now,
            poll_s,
            timeout_s,
            out,
        )

    def run(self, options: RebuildOptions, *, run_id: str, execute: bool = False) -> RunResult:
        self.options, self.run_id = options, run_id
        self.target = f"{self.topo.deployment}-rebuild-{run_id}".lower()[:63]
        runner = ops.runner(
            self.audit, run_id=run_id, clause=CLAUSE, execute=execute, out=self.out, procedure=PROCEDURE
        )
        return runner.run(
            [
                Step(
                    "preconditions",
                    "check the DR vault and the fresh environment",
                    lambda _: self._preconditions(),
                    check=True,
                ),
                Step("find-copy", "find the newest cross-region copy", lambda _: self._find(), plan=self._find),
                Step(
                    "start-restore",
                    "start the restore",
                    self._start,
                    plan=lambda: {"target": self.target},
                    irreversible=True,
                ),
                Step("wait", "wait for the restored database", lambda _: self._wait()),
                Step("validate", "validate the restored database", lambda _: self._validate()),
                Step("measure", "record the measured time", lambda _: self._measure()),
                Step("cleanup", "delete the rebuilt copy (unless --keep)", lambda _: self._cleanup()),
            ]
        )

    def _db(self) -> dict[str, Any] | None:
        try:
            return dict(self.rds.describe_db_instances(DBInstanceIdentifier=self.target)["DBInstances"][0])
        except self.rds.exceptions.DBInstanceNotFoundFault:
            return None

    def _preconditions(self) -> dict[str, Any]:
        ops.require_region(self.rds, self.topo.dr_region, "RDS")
        ops.require_region(self.backup, self.topo.dr_region, "Backup")
        try:
            self.backup.describe_backup_vault(BackupVaultName=self.vault)
        except Exception as error:
            raise RefusedError(f"DR vault {self.vault} not found in {self.topo.dr_region}") from error
        try:
            self.rds.describe_db_subnet_groups(DBSubnetGroupName=self.options.db_subnet_group)
        except Exception as error:
            raise RefusedError(
                f"--db-subnet-group {self.options.db_subnet_group} not found in {self.topo.dr_region}"
            ) from error
        resumed = self.audit.latest(self.run_id, "start-restore", ("started", "done")) is not None
        if self._db() is not None and not resumed:
            raise RefusedError(f"{self.target} already exists: the target environment is not fresh (new --run-id)")
        return {"vault": self.vault, "target": self.target, "resumed": resumed}

    def _find(self) -> dict[str, Any]:
        source = self.topo.db_instance_arn(PRIMARY)
        point = self.gateway.latest_recovery_point(self.vault, source)
        if point is None:
            raise RefusedError(f"no completed copy of {source} in {self.vault}")
        if not point.encrypted:
            raise RefusedError(f"the newest copy {point.arn} is not encrypted (ENC-1)")
        age_h = (self.now() - point.created).total_seconds() / 3600
        if age_h > self.options.max_age_hours:
            raise RefusedError(
                f"the newest copy is {age_h:.1f} h old (> {self.options.max_age_hours} h): copies are not arriving"
            )
        return {"recovery_point": point.arn, "created": point.created.isoformat(), "age_hours": round(age_h, 2)}

    def _start(self, earlier: dict[str, Any] | None) -> dict[str, Any]:
        found = self.audit.done(self.run_id, "find-copy")
        assert found is not None
        if earlier is not None and self._db() is not None:
            return {"target": self.target, "resumed": True}
        metadata = self.gateway.restore_metadata(self.vault, found["detail"]["recovery_point"])
        metadata.update(
            {
                "DBInstanceIdentifier": self.target,
                "DBSubnetGroupName": self.options.db_subnet_group,
                "PubliclyAccessible": "false",
            }
        )
        job = self.gateway.start_restore(
            found["detail"]["recovery_point"], metadata, self.options.restore_role_arn, "RDS", self.run_id
        )
        return {"target": self.target, "job_id": job}

    def _wait(self) -> dict[str, Any]:
        def available() -> bool:
            db = self._db()
            return db is not None and db["DBInstanceStatus"] == "available"

        wait_until(
            f"{self.target} to be available",
            available,
            timeout_s=self.timeout_s,
            poll_s=self.poll_s,
            sleep=self.sleep,
            clock=self.clock,
        )
        db = self._db()
        assert db is not None
        self.rds.add_tags_to_resource(ResourceName=db["DBInstanceArn"], Tags=[{"Key": TAG, "Value": self.run_id}])
        return {"target": self.target, "arn": db["DBInstanceArn"]}

    def _validate(self) -> dict[str, Any]:
        db = self._db()
        if db is None:
            raise StepFailedError(f"{self.target} disappeared")
        checks = {
            "available": db["DBInstanceStatus"] == "available",
            "encrypted": bool(db.get("StorageEncrypted")),
            "private": not db.get("PubliclyAccessible"),
            "subnet_group": db.get("DBSubnetGroup", {}).get("DBSubnetGroupName") == self.options.db_subnet_group,
        }
        if not all(checks.values()):
            raise StepFailedError(f"validation failed: {[name for name, ok in checks.items() if not ok]}")
        return {"checks": checks, "engine": db.get("Engine"), "endpoint": db.get("Endpoint", {}).get("Address")}

    def _measure(self) -> dict[str, Any]:
        first = next(iter(r for r in self.audit.records(self.run_id) if r.get("started_at") and not r["dry_run"]), None)
        start = datetime.fromisoformat(first["started_at"]) if first else self.now()
        minutes = round((self.now() - start).total_seconds() / 60, 1)
        within = minutes <= OBJECTIVE_HOURS * 60
        if self.out is not None:
            verdict = "met" if within else "MISSED"
            print(f"measured recovery time: {minutes} min (objective {OBJECTIVE_HOURS} h: {verdict})", file=self.out)
        return {"measured_minutes": minutes, "objective_hours": OBJECTIVE_HOURS, "within_objective": within}

    def _cleanup(self) -> dict[str, Any] | Skip:
        if self.options.keep:
            return Skip("--keep: the rebuilt database stays", {"target": self.target})
        db = self._db()
        if db is None:
            return Skip("already deleted", {"target": self.target})
        tags = self.rds.list_tags_for_resource(ResourceName=db["DBInstanceArn"])["TagList"]
        if {"Key": TAG, "Value": self.run_id} not in tags:
            raise StepFailedError(f"{self.target} lacks the tag {TAG}={self.run_id}: not deleting it")
        self.rds.delete_db_instance(
            DBInstanceIdentifier=self.target, SkipFinalSnapshot=True, DeleteAutomatedBackups=True
        )
        return {"deleted": self.target}


def main(argv: Sequence[str] | None = None) -> int:
    import boto3

    from runbooks.toolkit import add_common_args, new_run_id

    parser = argparse.ArgumentParser(
        prog="python -m runbooks.recovery_from_scratch",
        description=(
            "Recovery from scratch (BAK-9, quarterly): restore the primary database's newest cross-region copy from "
            "the DR vault into a fresh environment, validate it, record the measured time. Dry run unless --execute."
        ),
    )
    add_common_args(parser, procedure=PROCEDURE)
    parser.add_argument("--db-subnet-group", required=True, help="the fresh environment's DB subnet group (DR region)")
    parser.add_argument("--restore-role-arn", required=True, help="the role AWS Backup restores with")
    parser.add_argument("--keep", action="store_true", help="keep the rebuilt database (a real rebuild)")
    parser.add_argument("--max-age-hours", type=float, default=26.0, help="refuse a newest copy older than this")
    args = parser.parse_args(argv)
    if args.max_age_hours <= 0:
        parser.error(f"--max-age-hours {args.max_age_hours}: must be > 0")
    deployment = ops.deployment_of(parser, args)
    region = deployment.dr_region
    backup = boto3.client("backup", region_name=region)
    rebuild = RecoveryFromScratch(
        deployment,
        backup=backup,
        rds=boto3.client("rds", region_name=region),
        gateway=VaultGateway(backup),
        audit_log=ops.audit_log(args, FailoverTopology.of(deployment), PROCEDURE),
        out=sys.stdout,
    )
    options = RebuildOptions(args.db_subnet_group, args.restore_role_arn, args.keep, args.max_age_hours)
    return ops.finish(PROCEDURE, rebuild.run(options, run_id=args.run_id or new_run_id(), execute=args.execute))


if __name__ == "__main__":
    sys.exit(main())

"""Restore drill automation (BAK-9): restore the latest recovery point of one resource
into an isolated network, validate it, record every step, clean up.

Read `runbooks/restore_drill.md` first. Properties the tests hold this to:

- every AWS client is passed in (`backup`, `rds`, `ec2`); nothing reads credentials
  or configuration at import time;
- it runs on the runbook toolkit (`runbooks/toolkit.py`): **dry run by default** (the
  read steps run, the others are recorded `planned`), exit codes 0 done, 1 a step failed,
  2 a precondition refused; the drill id is the run id;
- **idempotent**: the audit log (JSON lines) is the drill's state. A finished drill
  id is never run again (a second run appends nothing and calls nothing that
  mutates); an interrupted drill resumes at its first step not done (a recorded
  restore job is polled, not started again; the restore job also carries the drill
  id as idempotency token);
- the restored resource is named and tagged after the drill id
  (`restore-drill=<drill id>`) and cleanup deletes only a resource with that tag;
- the AWS Backup calls (`list_recovery_points_by_resource`, `start_restore_job`,
  `describe_restore_job`, `get_recovery_point_restore_metadata`) go through the thin
  `BackupGateway` protocol: moto 5.2.5 does not implement them, so the tests inject a
  gateway that performs the restore through the RDS/EC2 APIs moto does implement,
  and everything else (preconditions, validation, tagging, cleanup, audit) runs
  against moto for real.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

from runbooks.toolkit import (
    AuditLog,
    RefusedError,
    RunResult,
    Step,
    StepFailedError,
    StepRunner,
    new_run_id,
    wait_until,
)

CLAUSE = "BAK-9"
PROCEDURE = "drill"
DRILL_TAG = "restore-drill"
RESOURCE_TYPES = ("RDS", "EBS")
TERMINAL_JOB_STATES = ("COMPLETED", "ABORTED", "FAILED")


@dataclass(frozen=True)
class RecoveryPoint:
    arn: str
    resource_arn: str
    created: datetime
    encrypted: bool


@dataclass(frozen=True)
class RestoreJob:
    job_id: str
    status: str  # PENDING | RUNNING | COMPLETED | ABORTED | FAILED
    created_resource_arn: str | None = None
    message: str = ""


class BackupGateway(Protocol):
    """The AWS Backup calls of a drill: thin and injectable (see module docstring)."""

    def latest_recovery_point(self, vault_name: str, resource_arn: str) -> RecoveryPoint | None: ...

    def restore_metadata(self, vault_name: str, recovery_point_arn: str) -> dict[str, str]: ...

    def start_restore(
        self, recovery_point_arn: str, metadata: dict[str, str], role_arn: str, resource_type: str, token: str
    ) -> str: ...

    def describe_restore(self, job_id: str) -> RestoreJob: ...


class AwsBackupGateway:
    """The real gateway over a boto3 `backup` client."""

    def __init__(self, backup: Any) -> None:
        self.backup = backup

    def latest_recovery_point(self, vault_name: str, resource_arn: str) -> RecoveryPoint | None:
        latest: RecoveryPoint | None = None
        paginator = self.backup.get_paginator("list_recovery_points_by_resource")
        for page in paginator.paginate(ResourceArn=resource_arn):
            for point in page.get("RecoveryPoints", []):
                if point.get("BackupVaultName") != vault_name or point.get("Status") != "COMPLETED":
                    continue
                candidate = RecoveryPoint(
                    arn=point["RecoveryPointArn"],
                    resource_arn=resource_arn,
                    created=point["CreationDate"],
                    encrypted=bool(point.get("IsEncrypted", point.get("EncryptionKeyArn"))),
                )
                if latest is None or candidate.created > latest.created:
                    latest = candidate
        return latest

    def restore_metadata(self, vault_name: str, recovery_point_arn: str) -> dict[str, str]:
        response = self.backup.get_recovery_point_restore_metadata(
            BackupVaultName=vault_name, RecoveryPointArn=recovery_point_arn
        )
        return dict(response.get("RestoreMetadata", {}))

    def start_restore(
        self, recovery_point_arn: str, metadata: dict[str, str], role_arn: str, resource_type: str, token: str
    ) -> str:
        response = self.backup.start_restore_job(
            RecoveryPointArn=recovery_point_arn,
            Metadata=metadata,
            IamRoleArn=role_arn,
            IdempotencyToken=token,
            ResourceType=resource_type,
        )
        return str(response["RestoreJobId"])

    def describe_restore(self, job_id: str) -> RestoreJob:
        response = self.backup.describe_restore_job(RestoreJobId=job_id)
        return RestoreJob(
            job_id=job_id,
            status=response["Status"],
            created_resource_arn=response.get("CreatedResourceArn"),
            message=response.get("StatusMessage", ""),
        )


@dataclass(frozen=True)
class DrillRequest:
    drill_id: str  # e.g. "2026-q4-orders-db"; names and tags the restored resource
    vault_name: str
    resource_arn: str  # the protected (source) resource
    resource_type: str  # RDS | EBS
    restore_role_arn: str
    isolated_subnet_id: str  # the drill network: no route to an internet gateway
    db_subnet_group: str = ""  # RDS: a subnet group over isolated subnets
    security_group_ids: tuple[str, ...] = ()

    @property
    def restored_name(self) -> str:
        return f"drill-{self.drill_id}"[:63]


@dataclass
class DrillResult:
    """The toolkit's run result, and the restored resource when the drill got that far."""

    run: RunResult
    restored_resource_arn: str | None = None

    @property
    def outcome(self) -> str:
        return self.run.outcome

    @property
    def exit_code(self) -> int:
        return self.run.exit_code


class RestoreDrill:
    def __init__(
        self,
        *,
        backup: Any,
        rds: Any,
        ec2: Any,
        audit_log: AuditLog,
        gateway: BackupGateway | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        poll_seconds: float = 30.0,
        timeout_seconds: float = 2 * 3600.0,
        out: TextIO | None = None,
    ) -> None:
        self.backup = backup
        self.rds = rds
        self.ec2 = ec2
        self.audit = audit_log
        self.gateway: BackupGateway = gateway or AwsBackupGateway(backup)
        self.sleep = sleep
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.out = out

    # -- the drill ---------------------------------------------------------------

    def run(self, request: DrillRequest, *, execute: bool = False) -> DrillResult:
        """The toolkit's rules: dry run by default (read steps run, the others are `planned`), every
        step recorded, a rerun with the same drill id resumes (done steps are not repeated) and a
        finished drill does nothing; a refused precondition exits 2, a failed step 1."""
        self.request = request
        self.point: RecoveryPoint | None = None
        self.metadata: dict[str, str] = {}
        runner = StepRunner(
            self.audit, run_id=request.drill_id, clause=CLAUSE, execute=execute, clock=self.clock, out=self.out,
            final_step=PROCEDURE,
        )  # fmt: skip
        result = runner.run(self.steps())
        return DrillResult(result, self._recorded("wait", "restored_resource_arn"))

    def steps(self) -> list[Step]:
        return [
            Step("preconditions", "check the vault and isolated subnet", lambda _: self._preconditions(), check=True),
            Step("find-recovery-point", "find the latest recovery point", lambda _: self._find(), check=True),
            Step("start-restore", "start the restore job", lambda _: self._start(), plan=self._plan_start),
            Step("wait", "wait for the restore job", lambda _: self._wait()),
            Step("tag", "tag the restored resource", lambda _: self._tag()),
            Step("validate", "validate the restored resource", lambda _: self._validate()),
            Step("cleanup", "delete the restored resource", lambda _: self._cleanup(self.request, self._restored())),
        ]  # fmt: skip

    def _recorded(self, step: str, key: str) -> Any:
        record = self.audit.done(self.request.drill_id, step)
        return record["detail"].get(key) if record is not None else None

    def _restored(self) -> str:
        arn = self._recorded("wait", "restored_resource_arn")
        if not arn:
            raise StepFailedError("no restored resource recorded by the wait step")
        return str(arn)

    # -- steps -------------------------------------------------------------------

    def _preconditions(self) -> dict[str, Any]:
        request = self.request
        if request.resource_type not in RESOURCE_TYPES:
            raise RefusedError(f"resource type {request.resource_type!r} unsupported; allowed: {RESOURCE_TYPES}")
        if request.resource_type == "RDS" and not request.db_subnet_group:
            raise RefusedError("an RDS drill needs --db-subnet-group (isolated subnets)")
        try:
            self.backup.describe_backup_vault(BackupVaultName=request.vault_name)
        except Exception as error:  # botocore ClientError: the vault does not exist or is not readable
            raise RefusedError(f"backup vault {request.vault_name!r} not readable: {error}") from error
        subnets = self.ec2.describe_subnets(SubnetIds=[request.isolated_subnet_id])["Subnets"]
        if not subnets:
            raise RefusedError(f"subnet {request.isolated_subnet_id} not found")
        tables = self.ec2.describe_route_tables(
            Filters=[{"Name": "association.subnet-id", "Values": [request.isolated_subnet_id]}]
        )["RouteTables"]
        for table in tables:
            for route in table.get("Routes", []):
                if str(route.get("GatewayId", "")).startswith("igw-") or route.get("NatGatewayId"):
                    raise RefusedError(
                        f"subnet {request.isolated_subnet_id} is not isolated: it routes to the internet"
                    )
        return {"vault": request.vault_name, "subnet": request.isolated_subnet_id}

    def _find(self) -> dict[str, Any]:
        """A missing or unencrypted recovery point fails the drill (exit 1): that is the finding a drill
        exists to make (BAK-9, ENC-1), not a wrong invocation."""
        request = self.request
        point = self.gateway.latest_recovery_point(request.vault_name, request.resource_arn)
        if point is None:
            raise StepFailedError(f"no completed recovery point of {request.resource_arn} in {request.vault_name}")
        if not point.encrypted:
            raise StepFailedError(f"recovery point {point.arn} is not encrypted (ENC-1)")
        self.point, self.metadata = point, self._metadata(request, point)
        return {"recovery_point_arn": point.arn, "created": point.created.isoformat()}

    def _plan_start(self) -> dict[str, Any]:
        return {"metadata": self.metadata}

    def _start(self) -> dict[str, Any]:
        """The drill id is the restore job's idempotency token: a rerun after a crash between the call
        and its record gets the same job back, not a second restore (API_StartRestoreJob)."""
        assert self.point is not None  # find-recovery-point runs on every run (a check step)
        job_id = self.gateway.start_restore(
            self.point.arn,
            self.metadata,
            self.request.restore_role_arn,
            self.request.resource_type,
            token=self.request.drill_id,
        )
        return {"job_id": job_id, "recovery_point_arn": self.point.arn, "metadata": self.metadata}

    def _wait(self) -> dict[str, Any]:
        job_id = str(self._recorded("start-restore", "job_id"))
        found: list[RestoreJob] = []

        def finished() -> bool:
            job = self.gateway.describe_restore(job_id)
            if job.status not in TERMINAL_JOB_STATES:
                return False
            found.append(job)
            return True

        wait_until(
            f"restore job {job_id}",
            finished,
            timeout_s=self.timeout_seconds,
            poll_s=self.poll_seconds,
            sleep=self.sleep,
            clock=self.clock,
            out=self.out,
        )
        job = found[-1]
        if job.status != "COMPLETED" or not job.created_resource_arn:
            raise StepFailedError(f"restore job {job_id} ended {job.status}: {job.message}")
        return {"job_id": job_id, "restored_resource_arn": job.created_resource_arn}

    def _tag(self) -> dict[str, Any]:
        resource_arn, drill_id = self._restored(), self.request.drill_id
        if self.request.resource_type == "RDS":
            self.rds.add_tags_to_resource(ResourceName=resource_arn, Tags=[{"Key": DRILL_TAG, "Value": drill_id}])
        else:
            self.ec2.create_tags(Resources=[_ec2_id(resource_arn)], Tags=[{"Key": DRILL_TAG, "Value": drill_id}])
        return {"tag": {DRILL_TAG: drill_id}}

    def _metadata(self, request: DrillRequest, point: RecoveryPoint) -> dict[str, str]:
        metadata = self.gateway.restore_metadata(request.vault_name, point.arn)
        if request.resource_type == "RDS":
            metadata.update(
                {
                    "DBInstanceIdentifier": request.restored_name,
                    "DBSubnetGroupName": request.db_subnet_group,
                    "PubliclyAccessible": "false",
                    "MultiAZ": "false",
                }
            )
            if request.security_group_ids:
                metadata["VpcSecurityGroupIds"] = json.dumps(list(request.security_group_ids))
        else:
            subnet = self.ec2.describe_subnets(SubnetIds=[request.isolated_subnet_id])["Subnets"][0]
            metadata.update({"availabilityZone": subnet["AvailabilityZone"], "encrypted": "true"})
        return metadata

    def _validate(self) -> dict[str, Any]:
        request, resource_arn = self.request, self._restored()
        if request.resource_type == "RDS":
            instance = self._db_instance(resource_arn)
            checks = {
                "status": instance["DBInstanceStatus"],
                "encrypted": bool(instance.get("StorageEncrypted")),
                "publicly_accessible": bool(instance.get("PubliclyAccessible")),
                "subnet_group": instance.get("DBSubnetGroup", {}).get("DBSubnetGroupName"),
            }
            expected = {
                "status": "available",
                "encrypted": True,
                "publicly_accessible": False,
                "subnet_group": request.db_subnet_group,
            }
        else:
            volume = self.ec2.describe_volumes(VolumeIds=[_ec2_id(resource_arn)])["Volumes"][0]
            checks = {"state": volume["State"], "encrypted": bool(volume.get("Encrypted"))}
            expected = {"state": "available", "encrypted": True}
        wrong = {key: value for key, value in checks.items() if value != expected[key]}
        if wrong:
            raise StepFailedError(f"restored resource {resource_arn} failed validation: {wrong} (expected {expected})")
        return {"checks": checks}

    def _cleanup(self, request: DrillRequest, resource_arn: str) -> dict[str, Any]:
        if request.resource_type == "RDS":
            instance = self._db_instance(resource_arn)
            tags = self.rds.list_tags_for_resource(ResourceName=instance["DBInstanceArn"])["TagList"]
            _require_drill_tag(request, resource_arn, tags)
            self.rds.delete_db_instance(
                DBInstanceIdentifier=instance["DBInstanceIdentifier"],
                SkipFinalSnapshot=True,
                DeleteAutomatedBackups=True,
            )
        else:
            volume = self.ec2.describe_volumes(VolumeIds=[_ec2_id(resource_arn)])["Volumes"][0]
            _require_drill_tag(request, resource_arn, volume.get("Tags", []))
            self.ec2.delete_volume(VolumeId=volume["VolumeId"])
        return {"deleted": resource_arn}

    def _db_instance(self, resource_arn: str) -> dict[str, Any]:
        identifier = resource_arn.rsplit(":", 1)[-1]
        instances: list[dict[str, Any]] = self.rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
        return instances[0]


def _ec2_id(resource_arn: str) -> str:
    return resource_arn.rsplit("/", 1)[-1]


def _require_drill_tag(request: DrillRequest, resource_arn: str, tags: Sequence[dict[str, str]]) -> None:
    if {"Key": DRILL_TAG, "Value": request.drill_id} not in [{"Key": t["Key"], "Value": t["Value"]} for t in tags]:
        raise StepFailedError(f"refusing to delete {resource_arn}: it lacks tag {DRILL_TAG}={request.drill_id}")


# -- CLI -------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m runbooks.restore_drill",
        description=(
            "Restore drill (BAK-9): restore the latest recovery point of one resource into an isolated "
            "subnet, validate it, clean up, and record every step as JSON lines. Dry run unless --execute."
        ),
    )
    parser.add_argument(
        "--run-id", default=None, help="the drill id: names and tags the drill, reuse it to resume (default: new)"
    )
    parser.add_argument("--region", required=True)
    parser.add_argument("--vault", required=True, help="backup vault name, e.g. au-production-primary-vault")
    parser.add_argument("--resource-arn", required=True, help="the protected resource to restore")
    parser.add_argument("--resource-type", required=True, choices=RESOURCE_TYPES)
    parser.add_argument("--restore-role-arn", required=True, help="e.g. the <deployment>-restore-testing role")
    parser.add_argument("--subnet-id", required=True, help="an isolated subnet (no internet route)")
    parser.add_argument("--db-subnet-group", default="", help="RDS: a subnet group of isolated subnets")
    parser.add_argument("--security-group-id", action="append", default=[], dest="security_group_ids")
    parser.add_argument("--audit-log", type=Path, default=Path("restore-drill-audit.jsonl"))
    parser.add_argument("--execute", action="store_true", help="really restore (default: dry run)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    import boto3  # only the CLI creates clients; the automation takes them as arguments

    session = boto3.Session(region_name=args.region)
    drill = RestoreDrill(
        backup=session.client("backup"),
        rds=session.client("rds"),
        ec2=session.client("ec2"),
        audit_log=AuditLog(args.audit_log),
        out=sys.stdout,
    )
    request = DrillRequest(
        drill_id=args.run_id or new_run_id(),
        vault_name=args.vault,
        resource_arn=args.resource_arn,
        resource_type=args.resource_type,
        restore_role_arn=args.restore_role_arn,
        isolated_subnet_id=args.subnet_id,
        db_subnet_group=args.db_subnet_group,
        security_group_ids=tuple(args.security_group_ids),
    )
    result = drill.run(request, execute=args.execute)
    print(json.dumps({"run_id": request.drill_id, "outcome": result.outcome, "audit_log": str(args.audit_log)}))
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())

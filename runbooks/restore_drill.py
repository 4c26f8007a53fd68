"""Restore drill automation (BAK-9): restore the latest recovery point of one resource
into an isolated network, validate it, record every step, clean up.

Read `runbooks/restore_drill.md` first. Properties the tests hold this to:

- every AWS client is passed in (`backup`, `rds`, `ec2`); nothing reads credentials
  or configuration at import time;
- **dry run by default**: only read calls; each step is recorded as `planned`;
- **idempotent**: the audit log (JSON lines) is the drill's state. A finished drill
  id is never run again (a second run appends nothing and calls nothing that
  mutates); an interrupted drill resumes (a recorded restore job is polled, not
  started again; the restore job also carries the drill id as idempotency token);
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
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from runbooks import toolkit

CLAUSE = "BAK-9"
DRILL_TAG = "restore-drill"
RESOURCE_TYPES = ("RDS", "EBS")
TERMINAL_JOB_STATES = ("COMPLETED", "ABORTED", "FAILED")


class DrillError(RuntimeError):
    """A precondition or a step failed; the audit log says which."""


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
class AuditRecord(toolkit.AuditRecord):
    """The toolkit's record with this drill's clause; its run id is the drill id."""

    clause: str = CLAUSE

    @property
    def drill_id(self) -> str:
        return self.run_id


class AuditLog(toolkit.AuditLog):
    """The toolkit's audit log; drill logs key runs by `drill_id` (the format predates the toolkit)."""

    id_field = "drill_id"


@dataclass
class DrillResult:
    drill_id: str
    outcome: str  # planned | completed | already-completed | failed
    records: list[AuditRecord] = field(default_factory=list)
    restored_resource_arn: str | None = None


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
        poll_seconds: float = 30.0,
        max_polls: int = 240,
    ) -> None:
        self.backup = backup
        self.rds = rds
        self.ec2 = ec2
        self.audit = audit_log
        self.gateway: BackupGateway = gateway or AwsBackupGateway(backup)
        self.sleep = sleep
        self.poll_seconds = poll_seconds
        self.max_polls = max_polls

    # -- the drill ---------------------------------------------------------------

    def run(self, request: DrillRequest, *, execute: bool = False) -> DrillResult:
        result = DrillResult(drill_id=request.drill_id, outcome="planned")
        finished = self.audit.done(request.drill_id, "drill")
        if finished is not None:
            result.outcome = "already-completed"
            result.restored_resource_arn = finished["detail"].get("restored_resource_arn")
            return result  # nothing new: no AWS call, no audit record

        def record(step: str, status: str, **detail: Any) -> None:
            result.records.append(
                self.audit.append(AuditRecord(request.drill_id, step, status, detail, dry_run=not execute))
            )

        try:
            self._preconditions(request)
            record("preconditions", "done", vault=request.vault_name, subnet=request.isolated_subnet_id)

            point = self.gateway.latest_recovery_point(request.vault_name, request.resource_arn)
            if point is None:
                raise DrillError(f"no completed recovery point of {request.resource_arn} in {request.vault_name}")
            if not point.encrypted:
                raise DrillError(f"recovery point {point.arn} is not encrypted (ENC-1)")
            record("find-recovery-point", "done", recovery_point_arn=point.arn, created=point.created.isoformat())

            metadata = self._metadata(request, point)
            if not execute:
                for step in ("start-restore", "wait", "tag", "validate", "cleanup"):
                    record(step, "planned", metadata=metadata if step == "start-restore" else {})
                return result

            job_id = self._start(request, point, metadata, record)
            job = self._wait(job_id)
            if job.status != "COMPLETED" or not job.created_resource_arn:
                raise DrillError(f"restore job {job_id} ended {job.status}: {job.message}")
            result.restored_resource_arn = job.created_resource_arn
            record("wait", "done", job_id=job_id, restored_resource_arn=job.created_resource_arn)

            self._tag(request, job.created_resource_arn)
            record("tag", "done", tag={DRILL_TAG: request.drill_id})

            checks = self._validate(request, job.created_resource_arn)
            record("validate", "done", checks=checks)

            self._cleanup(request, job.created_resource_arn)
            record("cleanup", "done", deleted=job.created_resource_arn)

            record("drill", "done", restored_resource_arn=job.created_resource_arn)
            result.outcome = "completed"
        except DrillError as error:
            record("drill", "failed", error=str(error))
            result.outcome = "failed"
        return result

    # -- steps -------------------------------------------------------------------

    def _preconditions(self, request: DrillRequest) -> None:
        if request.resource_type not in RESOURCE_TYPES:
            raise DrillError(f"resource type {request.resource_type!r} unsupported; allowed: {RESOURCE_TYPES}")
        if request.resource_type == "RDS" and not request.db_subnet_group:
            raise DrillError("an RDS drill needs --db-subnet-group (isolated subnets)")
        try:
            self.backup.describe_backup_vault(BackupVaultName=request.vault_name)
        except Exception as error:  # botocore ClientError: the vault does not exist or is not readable
            raise DrillError(f"backup vault {request.vault_name!r} not readable: {error}") from error
        subnets = self.ec2.describe_subnets(SubnetIds=[request.isolated_subnet_id])["Subnets"]
        if not subnets:
            raise DrillError(f"subnet {request.isolated_subnet_id} not found")
        tables = self.ec2.describe_route_tables(
            Filters=[{"Name": "association.subnet-id", "Values": [request.isolated_subnet_id]}]
        )["RouteTables"]
        for table in tables:
            for route in table.get("Routes", []):
                if str(route.get("GatewayId", "")).startswith("igw-") or route.get("NatGatewayId"):
                    raise DrillError(f"subnet {request.isolated_subnet_id} is not isolated: it routes to the internet")

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

    def _start(
        self,
        request: DrillRequest,
        point: RecoveryPoint,
        metadata: dict[str, str],
        record: Callable[..., None],
    ) -> str:
        started = self.audit.done(request.drill_id, "start-restore")
        if started is not None:  # resume an interrupted drill: poll the same job
            job_id = str(started["detail"]["job_id"])
            record("start-restore", "skipped", job_id=job_id, reason="already started by an earlier run")
            return job_id
        job_id = self.gateway.start_restore(
            point.arn, metadata, request.restore_role_arn, request.resource_type, token=request.drill_id
        )
        record("start-restore", "done", job_id=job_id, recovery_point_arn=point.arn)
        return job_id

    def _wait(self, job_id: str) -> RestoreJob:
        for _ in range(self.max_polls):
            job = self.gateway.describe_restore(job_id)
            if job.status in TERMINAL_JOB_STATES:
                return job
            self.sleep(self.poll_seconds)
        raise DrillError(f"restore job {job_id} did not finish after {self.max_polls} polls")

    def _tag(self, request: DrillRequest, resource_arn: str) -> None:
        if request.resource_type == "RDS":
            self.rds.add_tags_to_resource(
                ResourceName=resource_arn, Tags=[{"Key": DRILL_TAG, "Value": request.drill_id}]
            )
        else:
            self.ec2.create_tags(
                Resources=[_ec2_id(resource_arn)], Tags=[{"Key": DRILL_TAG, "Value": request.drill_id}]
            )

    def _validate(self, request: DrillRequest, resource_arn: str) -> dict[str, Any]:
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
            raise DrillError(f"restored resource {resource_arn} failed validation: {wrong} (expected {expected})")
        return checks

    def _cleanup(self, request: DrillRequest, resource_arn: str) -> None:
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

    def _db_instance(self, resource_arn: str) -> dict[str, Any]:
        identifier = resource_arn.rsplit(":", 1)[-1]
        instances: list[dict[str, Any]] = self.rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
        return instances[0]


def _ec2_id(resource_arn: str) -> str:
    return resource_arn.rsplit("/", 1)[-1]


def _require_drill_tag(request: DrillRequest, resource_arn: str, tags: Sequence[dict[str, str]]) -> None:
    if {"Key": DRILL_TAG, "Value": request.drill_id} not in [{"Key": t["Key"], "Value": t["Value"]} for t in tags]:
        raise DrillError(f"refusing to delete {resource_arn}: it lacks tag {DRILL_TAG}={request.drill_id}")


# -- CLI -------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m runbooks.restore_drill",
        description=(
            "Restore drill (BAK-9): restore the latest recovery point of one resource into an isolated "
            "subnet, validate it, clean up, and record every step as JSON lines. Dry run unless --execute."
        ),
    )
    parser.add_argument("--drill-id", default=None, help="names and tags the drill (default: a new id)")
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
    )
    request = DrillRequest(
        drill_id=args.drill_id or datetime.now(UTC).strftime("%Y%m%d") + "-" + uuid.uuid4().hex[:8],
        vault_name=args.vault,
        resource_arn=args.resource_arn,
        resource_type=args.resource_type,
        restore_role_arn=args.restore_role_arn,
        isolated_subnet_id=args.subnet_id,
        db_subnet_group=args.db_subnet_group,
        security_group_ids=tuple(args.security_group_ids),
    )
    result = drill.run(request, execute=args.execute)
    print(json.dumps({"drill_id": result.drill_id, "outcome": result.outcome, "audit_log": str(args.audit_log)}))
    return toolkit.EXIT_STEP_FAILED if result.outcome == "failed" else toolkit.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

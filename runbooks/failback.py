"""Planned failback to the primary region, and re-arming the standby (DR-1, DR-2, OPS-5).

Read `runbooks/failback.md` first. Unlike a failover this is planned work: it runs
inside the announced maintenance window (OPS-5) unless `--outside-window` with a
`--reason`, and it needs both regions to answer. The old primary database is never
reused as a writer (it missed every write made during the failover): it is renamed
`<id>-fenced-<run id>` and a new replica of the DR writer takes its name; it is created with
what `CreateDBInstanceReadReplica` takes and then modified (and rebooted) to every setting its
stack's deployed template declares (`runbooks/declared_db.py`). Before the new primary is
promoted, DR stops writing: its web tier is scaled to zero and its writer fenced (renamed), so
every row written in DR has replicated when the promotion starts. The same toolkit rules as the
failover apply: dry run by default, every step recorded, the irreversible steps (renames,
promotion) recorded `started` before the call and never issued twice, a rerun resumes; a run
refuses a topology that is not the failed-over one it starts from, whatever its run id.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from config.topology import DR, PRIMARY, FailoverTopology
from runbooks import master_secret, standby
from runbooks.declared_db import DeclarationError, DeclaredInstance, needs_reboot, read_declared_instance
from runbooks.standby import PublicAnswer
from runbooks.toolkit import (
    AuditLog,
    RefusedError,
    RunResult,
    Skip,
    Step,
    StepFailedError,
    StepRunner,
    check_run_id,
    maintenance_window,
    wait_until,
)

CLAUSE = "DR-2"
PROCEDURE = "failback"
RUN_TAG = "failback-run"  # on the new primary replica until the standby is re-armed: which run made it
# The stacks that declare each region's DB instance (stacks/base.py: <deployment>-<role>-<id>).
DATA_STACK = {PRIMARY: "data", DR: "standbydata"}


@dataclass(frozen=True)
class FailbackOptions:
    reason: str = ""
    outside_window: bool = False
    since: datetime | None = None  # when DR started taking writes; default: the failover audit log
    failover_audit_log: Path | None = None


@dataclass(frozen=True)
class Timeouts:
    poll_s: float = 30.0
    db_s: float = 4 * 3600.0  # creating a cross-region replica copies the whole database
    lag_s: float = 3600.0
    targets_s: float = 900.0
    dns_s: float = 600.0


@dataclass(frozen=True)
class RegionClients:
    rds: Any
    autoscaling: Any
    cloudwatch: Any
    s3: Any
    elbv2: Any
    secretsmanager: Any
    cloudformation: Any  # reads the deployed template that declares the region's DB instance


class Failback:
    def __init__(
        self,
        topology: FailoverTopology,
        *,
        dr: RegionClients,
        primary: RegionClients,
        public_answer: PublicAnswer,
        audit_log: AuditLog,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        timeouts: Timeouts = Timeouts(),
        out: TextIO | None = None,
    ) -> None:
        self.topo = topology
        self.dr = dr
        self.primary = primary
        self.public_answer = public_answer
        self.audit = audit_log
        self.sleep = sleep
        self.clock = clock
        self.now = now
        self.timeouts = timeouts
        self.out = out
        self.primary_id = topology.db_instance_id(PRIMARY)
        self.dr_id = topology.db_instance_id(DR)

    def run(self, options: FailbackOptions, *, run_id: str, execute: bool = False) -> RunResult:
        self.options = options
        self.run_id = run_id
        try:
            check_run_id(run_id, [self.primary_id, self.dr_id])
        except RefusedError as error:
            if self.out is not None:
                print(f"{PROCEDURE}: refused: {error}", file=self.out, flush=True)
            return RunResult(run_id=run_id, outcome="refused")
        self.fenced_id = f"{self.primary_id}-fenced-{run_id}"
        self.retired_id = f"{self.dr_id}-retired-{run_id}"
        runner = StepRunner(
            self.audit, run_id=run_id, clause=CLAUSE, execute=execute, clock=self.clock, out=self.out,
            final_step=PROCEDURE,
        )  # fmt: skip
        return runner.run(self.steps())

    def steps(self) -> list[Step]:
        return [
            Step("preconditions", "check window and preconditions", lambda _: self._preconditions(), check=True),
            Step("pause-primary-rotation", "pause the primary master secret's rotation", lambda _: self._pause()),
            Step("fence-old-primary", "rename the old primary DB", self._fence, irreversible=True),
            Step("create-primary-replica", "create the primary replica of the DR writer", lambda _: self._replica()),
            Step("reverse-replication", "replicate and copy DR objects and deletions back", lambda _: self._reverse()),
            Step("scale-primary-web", "scale the primary web tier", lambda _: self._scale_primary()),
            Step("stop-dr-web", "scale the DR web tier to zero (DR stops writing)", lambda _: self._stop_dr()),
            Step("retire-dr-writer", "fence the DR writer (rename)", self._retire, irreversible=True),
            Step("promote-primary", "promote the primary replica", self._promote, irreversible=True),
            Step("reset-primary-password", "new writer takes the primary secret's password", lambda _: self._reset()),
            Step("flip-switch", "switch traffic back (0)", lambda _: self._flip()),
            Step("verify", "verify traffic reaches the primary", lambda _: self._verify()),
            Step("create-dr-replica", "re-arm the DR replica", lambda _: self._rearm()),
            Step("replicate-secret", "replicate the master secret to DR again", lambda _: self._replicate_secret()),
            Step("resume-rotation", "turn the primary secret's rotation back on", lambda _: self._resume()),
            Step("remove-reverse-replication", "remove the reverse replication", lambda _: self._unreverse()),
            Step("scale-dr-web", "scale the DR web tier to standby", lambda _: self._scale_dr()),
        ]  # fmt: skip

    # -- preconditions -------------------------------------------------------------------

    def _recorded(self, step: str) -> bool:
        return self.audit.latest(self.run_id, step, ("started", "done")) is not None

    def _preconditions(self) -> dict[str, Any]:
        now = self.now()
        start, end = maintenance_window(
            now, self.topo.maintenance_day, self.topo.maintenance_start_utc, self.topo.maintenance_duration_hours
        )
        inside = start <= now < end
        if not inside:
            if not self.options.outside_window:
                raise RefusedError(
                    f"{now:%a %H:%M} UTC is outside the announced maintenance window (OPS-5: "
                    f"{self.topo.maintenance_day} {self.topo.maintenance_start_utc} UTC for "
                    f"{self.topo.maintenance_duration_hours} h); --outside-window with --reason to override"
                )
            if not self.options.reason.strip():
                raise RefusedError("--outside-window needs --reason (who approved it, and why)")
        try:
            primary_db = standby.describe_db(self.primary.rds, self.primary_id)
        except Exception as error:
            raise RefusedError(f"the primary region does not answer: {type(error).__name__}: {error}") from error
        self._refuse_a_failed_back_primary(primary_db)
        dr_db = standby.describe_db(self.dr.rds, self.dr_id)
        if not self._recorded("retire-dr-writer") and (dr_db is None or standby.is_replica(dr_db)):
            raise RefusedError(f"{self.dr_id} is not a writer: there was no failover to fail back from")
        declared = {role: self._declared(role).stack_name for role in (PRIMARY, DR)}
        return {
            "reason": self.options.reason,
            "window": {"start": start.isoformat(), "end": end.isoformat(), "inside": inside},
            "since": self._since().isoformat(),
            "primary_db": primary_db["DBInstanceStatus"] if primary_db else "missing",
            "declared_by": declared,
        }

    def _refuse_a_failed_back_primary(self, primary_db: dict[str, Any] | None) -> None:
        """A writer named like the primary that a failback made (tagged with its run id) means traffic
        already came back: fencing it would take the live writer away (whatever this run's id)."""
        if primary_db is None or standby.is_replica(primary_db) or self._recorded("fence-old-primary"):
            return
        tags = self.primary.rds.list_tags_for_resource(ResourceName=primary_db["DBInstanceArn"])["TagList"]
        made_by = next((t["Value"] for t in tags if t["Key"] == RUN_TAG), None)
        if made_by is not None:
            raise RefusedError(
                f"{self.primary_id} is a writer made by failback run {made_by}: traffic is already back on the "
                f"primary region; resume that run (--run-id {made_by}) instead of starting another"
            )

    def _declared(self, role: str) -> DeclaredInstance:
        clients = self.primary if role == PRIMARY else self.dr
        stack = f"{self.topo.prefix(role)}-{DATA_STACK[role]}"
        try:
            return read_declared_instance(
                clients.cloudformation,
                stack,
                self.topo.db_instance_id(role),
                account=self.topo.account,
                region=self.topo.region(role),
            )
        except DeclarationError as error:
            raise RefusedError(f"the settings of the new DB instance are unknown: {error}") from error

    def _since(self) -> datetime:
        if self.options.since is not None:
            return self.options.since
        path = self.options.failover_audit_log or Path(self.topo.audit_log_name("failover"))
        flips = [r for r in _all_records(path) if r["step"] == "flip-switch" and r["status"] == "done"]
        flips = [r for r in flips if not r["dry_run"]]
        if not flips:
            raise RefusedError(f"no executed flip-switch record in {path}: pass --since (when DR took writes)")
        _refuse_an_unfenced_failover(path, str(flips[-1]["run_id"]))
        return datetime.fromisoformat(str(flips[-1].get("started_at") or flips[-1]["at"]))

    # -- database ------------------------------------------------------------------------

    def _fence(self, earlier: dict[str, Any] | None) -> dict[str, Any] | Skip:
        old = standby.describe_db(self.primary.rds, self.primary_id)
        if earlier is None and old is not None and not standby.is_replica(old):
            self.primary.rds.modify_db_instance(
                DBInstanceIdentifier=self.primary_id, NewDBInstanceIdentifier=self.fenced_id, ApplyImmediately=True
            )
        elif earlier is None:
            return Skip(f"no old writer named {self.primary_id} in {self.topo.primary_region}")
        self._wait_db(self.primary.rds, self.fenced_id, writer=False)
        return {"renamed": self.primary_id, "to": self.fenced_id}

    def _replica(self) -> dict[str, Any]:
        declared = self._declared(PRIMARY)
        existing = standby.describe_db(self.primary.rds, self.primary_id)
        created = existing is None
        if existing is None:
            self.primary.rds.create_db_instance_read_replica(
                **_placement(declared, standby.describe_db(self.primary.rds, self.fenced_id)),
                **declared.create_arguments(),
                DBInstanceIdentifier=self.primary_id,
                SourceDBInstanceIdentifier=self.topo.db_instance_arn(DR),
                KmsKeyId=self.topo.customer_key_alias_arn(PRIMARY),
                SourceRegion=self.topo.dr_region,
            )
        elif not standby.is_replica(existing):
            raise StepFailedError(f"{self.primary_id} exists and is a writer: not the replica this step creates")
        self._tag_run(self.primary.rds, self.primary_id)
        configured = self._configure(self.primary.rds, self.primary_id, declared)
        self._wait_lag()
        return {"replica": self.primary_id, "source": self.topo.db_instance_arn(DR), "created": created, **configured}

    def _tag_run(self, rds: Any, identifier: str) -> None:
        arn = self._wait_db(rds, identifier, writer=False)["DBInstanceArn"]
        rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": RUN_TAG, "Value": self.run_id}])

    def _configure(self, rds: Any, identifier: str, declared: DeclaredInstance) -> dict[str, Any]:
        """Modify the new replica to what its stack declares, and reboot it onto the declared parameter
        group (a new group's static parameters apply only after a reboot)."""
        db = self._wait_db(rds, identifier, writer=False)
        changes = declared.modifications(db)
        if changes:
            rds.modify_db_instance(DBInstanceIdentifier=identifier, ApplyImmediately=True, **changes)
            db = self._wait_db(rds, identifier, writer=False)
        rebooted = "DBParameterGroupName" in changes or needs_reboot(db)
        if rebooted:
            rds.reboot_db_instance(DBInstanceIdentifier=identifier)
            self._wait_db(rds, identifier, writer=False)
        return {"declared_by": declared.stack_name, "modified": sorted(changes), "rebooted": rebooted}

    def _wait_lag(self) -> None:
        wait_until(
            f"{self.primary_id} ReplicaLag == 0",
            lambda: standby.replica_lag_seconds(self.primary.cloudwatch, self.primary_id, self.now()) == 0,
            timeout_s=self.timeouts.lag_s,
            poll_s=self.timeouts.poll_s,
            sleep=self.sleep,
            clock=self.clock,
        )

    def _promote(self, earlier: dict[str, Any] | None) -> dict[str, Any]:
        db = standby.describe_db(self.primary.rds, self.primary_id)
        called = False
        if earlier is None and db is not None and standby.is_replica(db):
            self._wait_lag()  # DR is fenced: once the lag is 0, every row written in DR is here
            self.primary.rds.promote_read_replica(
                DBInstanceIdentifier=self.primary_id, BackupRetentionPeriod=self.topo.db_backup_retention_days
            )
            called = True
        writer = self._wait_db(self.primary.rds, self.primary_id, writer=True)
        self.primary.rds.add_tags_to_resource(
            ResourceName=writer["DBInstanceArn"], Tags=[{"Key": "backup-tier", "Value": "database"}]
        )
        return {"db": self.primary_id, "promote_called": called}

    def _retire(self, earlier: dict[str, Any] | None) -> dict[str, Any]:
        old = standby.describe_db(self.dr.rds, self.dr_id)
        if earlier is None and old is not None and not standby.is_replica(old):
            self.dr.rds.modify_db_instance(
                DBInstanceIdentifier=self.dr_id, NewDBInstanceIdentifier=self.retired_id, ApplyImmediately=True
            )
        self._wait_db(self.dr.rds, self.retired_id, writer=True)
        return {"renamed": self.dr_id, "to": self.retired_id}

    def _rearm(self) -> dict[str, Any]:
        declared = self._declared(DR)
        created = standby.describe_db(self.dr.rds, self.dr_id) is None
        if created:
            self.dr.rds.create_db_instance_read_replica(
                **_placement(declared, standby.describe_db(self.dr.rds, self.retired_id)),
                **declared.create_arguments(),
                DBInstanceIdentifier=self.dr_id,
                SourceDBInstanceIdentifier=self.topo.db_instance_arn(PRIMARY),
                KmsKeyId=self.topo.customer_key_alias_arn(DR),
                SourceRegion=self.topo.primary_region,
            )
        configured = self._configure(self.dr.rds, self.dr_id, declared)
        # The standby is armed again: the primary writer is no longer "made by this run" (see preconditions).
        writer = self._wait_db(self.primary.rds, self.primary_id, writer=True)
        self.primary.rds.remove_tags_from_resource(ResourceName=writer["DBInstanceArn"], TagKeys=[RUN_TAG])
        return {"replica": self.dr_id, "source": self.topo.db_instance_arn(PRIMARY), "created": created, **configured}

    def _wait_db(self, rds: Any, identifier: str, *, writer: bool) -> dict[str, Any]:
        found: dict[str, Any] = {}

        def ready() -> bool:
            db = standby.describe_db(rds, identifier)
            if db is None or db["DBInstanceStatus"] != "available" or (writer and standby.is_replica(db)):
                return False
            found.update(db)
            return True

        kind = "an available writer" if writer else "available"
        wait_until(
            f"{identifier} to be {kind}",
            ready,
            timeout_s=self.timeouts.db_s,
            poll_s=self.timeouts.poll_s,
            sleep=self.sleep,
            clock=self.clock,
        )
        return found

    # -- content -------------------------------------------------------------------------

    def _reverse(self) -> dict[str, Any]:
        source, target = self.topo.content_bucket(DR), self.topo.content_bucket(PRIMARY)
        self.dr.s3.put_bucket_replication(Bucket=source, ReplicationConfiguration=self._reverse_rule(target))
        since = self._since()
        # LastModified has one-second resolution: a write in the flip's own second (after the flip) reads
        # as earlier than `since`; copying from the start of that second also copies it (a copy is harmless).
        cutoff = since.replace(microsecond=0)
        copies: dict[str, tuple[str, int]] = {}  # key -> (version the copy made in the primary, size)
        for page in self.dr.s3.get_paginator("list_object_versions").paginate(Bucket=source):
            for version in page.get("Versions", []):
                if version.get("IsLatest") and version["LastModified"] >= cutoff:
                    made = self.primary.s3.copy_object(
                        Bucket=target,
                        Key=version["Key"],
                        CopySource={"Bucket": source, "Key": version["Key"], "VersionId": version["VersionId"]},
                    )
                    copies[version["Key"]] = (str(made.get("VersionId")), int(version["Size"]))
        copied = list(copies)
        deleted = self._carry_deletions(source, target)
        pending = [key for key, (made, size) in copies.items() if not self._landed(target, key, made, size)]
        if pending:
            raise StepFailedError(f"objects still pending in {target}: {pending[:10]}")
        return {
            "from": source,
            "to": target,
            "since": since.isoformat(),
            "copied": len(copied),
            "deleted": len(deleted),
            "deleted_keys": deleted[:100],
        }

    def _reverse_rule(self, target: str) -> dict[str, Any]:
        """Its own role (the forward role may only read the primary and write DR), and the SSE-KMS
        settings without which S3 skips every object of these buckets (all are SSE-KMS)."""
        role = f"arn:aws:iam::{self.topo.account}:role/{self.topo.reverse_replication_role_name()}"
        rule = {
            "ID": f"failback-{self.run_id}"[:255],
            "Status": "Enabled",
            "Priority": 1,
            "Filter": {},
            "DeleteMarkerReplication": {"Status": "Enabled"},
            "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
            "Destination": {
                "Bucket": f"arn:aws:s3:::{target}",
                "EncryptionConfiguration": {"ReplicaKmsKeyID": self.topo.customer_key_alias_arn(PRIMARY)},
            },
        }
        return {"Role": role, "Rules": [rule]}

    def _carry_deletions(self, source: str, target: str) -> list[str]:
        """Objects current in the primary but not in DR were deleted in DR (e.g. DATA-1 removals): delete
        them in the primary too, with a delete marker (the versions stay for the retention period)."""
        in_dr = _current_keys(self.dr.s3, source)
        gone = sorted(_current_keys(self.primary.s3, target) - in_dr)
        for key in gone:
            self.primary.s3.delete_object(Bucket=target, Key=key)
        return gone

    def _landed(self, target: str, key: str, version: str, size: int) -> bool:
        """The primary's current version of `key` is the one the copy made, of the source's size. Not the
        ETag: an SSE-KMS object's ETag is not the MD5 of its data, so a copy's never equals its source's
        (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html)."""
        try:
            there = self.primary.s3.head_object(Bucket=target, Key=key)
        except Exception:
            return False
        return bool(there.get("VersionId") == version and int(there["ContentLength"]) == size)

    def _replicate_secret(self) -> dict[str, Any] | Skip:
        """The failover made the DR copy of the master secret standalone; the primary's stack
        declares it as a replica (ReplicaRegions), so put it back, overwriting the standalone
        copy: otherwise the next deploy of the primary's Data stack fails with "already exists"."""
        secret_id = standby.master_secret_id(self.topo)
        described = self.primary.secretsmanager.describe_secret(SecretId=secret_id)
        regions = {r.get("Region"): r.get("Status") for r in described.get("ReplicationStatus", [])}
        if regions.get(self.topo.dr_region) in ("InSync", "InProgress"):
            return Skip("the master secret already replicates to the DR region", {"secret": secret_id})
        alias = self.topo.customer_key_alias().replace("/customer", "/system")
        self.primary.secretsmanager.replicate_secret_to_regions(
            SecretId=secret_id,
            AddReplicaRegions=[{"Region": self.topo.dr_region, "KmsKeyId": alias}],
            ForceOverwriteReplicaSecret=True,
        )
        return {"secret": secret_id, "replica_region": self.topo.dr_region, "key": alias}

    def _pause(self) -> dict[str, Any]:
        """No rotation while the writer moves: it would change the password of a database that is
        about to be fenced, or of the new one halfway through its promotion (runbooks/master_secret.py)."""
        return master_secret.pause_rotation(self.primary.secretsmanager, standby.master_secret_id(self.topo))

    def _reset(self) -> dict[str, Any]:
        """The promoted writer inherited the DR writer's password; the primary web tier, the rotation
        function and (from replicate-secret on) the DR copy all read the primary secret."""
        try:
            reset = master_secret.reset_master_password(
                self.primary.rds,
                self.primary.secretsmanager,
                secret_id=standby.master_secret_id(self.topo),
                db_instance_id=self.primary_id,
            )
        except ValueError as error:
            raise StepFailedError(str(error)) from error
        self._wait_db(self.primary.rds, self.primary_id, writer=True)
        return reset

    def _resume(self) -> dict[str, Any] | Skip:
        secret_id = standby.master_secret_id(self.topo)
        paused = self.audit.latest(self.run_id, "pause-primary-rotation", ("done",))
        resumed = master_secret.resume_rotation(
            self.primary.secretsmanager, secret_id, paused["detail"] if paused else None
        )
        if resumed is None:
            return Skip("the rotation was off before the failback, or is on again", {"secret": secret_id})
        return resumed

    def _unreverse(self) -> dict[str, Any]:
        self.dr.s3.delete_bucket_replication(Bucket=self.topo.content_bucket(DR))
        return {"bucket": self.topo.content_bucket(DR)}

    # -- web tier and verification -------------------------------------------------------

    def _scale_primary(self) -> dict[str, Any]:
        size = self.topo.primary_web_min_capacity
        standby.scale_asg(self.primary.autoscaling, self.topo.web_asg_name(PRIMARY), min_size=size, desired=size)
        return {"asg": self.topo.web_asg_name(PRIMARY), "capacity": size}

    def _stop_dr(self) -> dict[str, Any]:
        asg = self.topo.web_asg_name(DR)
        group = standby.describe_asg(self.dr.autoscaling, asg) or {}
        previous = {"min": group.get("MinSize"), "desired": group.get("DesiredCapacity")}  # for the rollback
        standby.scale_asg(self.dr.autoscaling, asg, min_size=0, desired=0)
        wait_until(
            f"no instance in service in {asg}",
            lambda: standby.in_service(standby.describe_asg(self.dr.autoscaling, asg) or {}) == 0,
            timeout_s=self.timeouts.targets_s,
            poll_s=self.timeouts.poll_s,
            sleep=self.sleep,
            clock=self.clock,
        )
        return {"asg": asg, "capacity": 0, "previous": previous}

    def _scale_dr(self) -> dict[str, Any]:
        size = self.topo.standby_web_min_capacity
        standby.scale_asg(self.dr.autoscaling, self.topo.web_asg_name(DR), min_size=size, desired=size)
        return {"asg": self.topo.web_asg_name(DR), "capacity": size}

    def _flip(self) -> dict[str, Any]:
        return standby.publish_switch(self.dr.cloudwatch, self.topo, 0, self.now())

    def _verify(self) -> dict[str, Any]:
        asg = self.topo.web_asg_name(PRIMARY)
        target_group, dns = standby.web_entry(self.primary.autoscaling, self.primary.elbv2, asg)
        waits: dict[str, Any] = {"poll_s": self.timeouts.poll_s, "sleep": self.sleep, "clock": self.clock}
        wait_until(
            f"a healthy target in {target_group}",
            lambda: standby.healthy_targets(self.primary.elbv2, target_group) >= 1,
            timeout_s=self.timeouts.targets_s,
            **waits,
        )
        wait_until(
            f"{self.topo.domain_name} to answer with {dns}",
            lambda: self.public_answer.resolves_to(self.topo.domain_name, dns),
            timeout_s=self.timeouts.dns_s,
            **waits,
        )
        return {"domain": self.topo.domain_name, "alb": dns, "target_group": target_group}


def _placement(declared: DeclaredInstance, replaced: dict[str, Any] | None) -> dict[str, Any]:
    """Subnet group and security groups the template names by a reference that did not resolve:
    those of the instance the new replica replaces (the same stack made it)."""
    if replaced is None:
        return {}
    found: dict[str, Any] = {}
    if "DBSubnetGroupName" in declared.unresolved and replaced.get("DBSubnetGroup", {}).get("DBSubnetGroupName"):
        found["DBSubnetGroupName"] = replaced["DBSubnetGroup"]["DBSubnetGroupName"]
    groups = [group["VpcSecurityGroupId"] for group in replaced.get("VpcSecurityGroups", [])]
    if "VpcSecurityGroupIds" in declared.unresolved and groups:
        found["VpcSecurityGroupIds"] = groups
    return found


def _current_keys(s3: Any, bucket: str) -> set[str]:
    """Keys whose current version is an object (not a delete marker)."""
    keys: set[str] = set()
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        keys.update(v["Key"] for v in page.get("Versions", []) if v.get("IsLatest"))
    return keys


def _refuse_an_unfenced_failover(path: Path, run_id: str) -> None:
    """A failover whose fence of the old primary is still pending (the region did not answer) left the old
    web tier and writer live: failing back now would rebuild over rows they may still take. Finish it first."""
    finals = [r for r in _all_records(path) if r["run_id"] == run_id and r["step"] == "failover"]
    if finals and finals[-1]["status"] == "pending":
        raise RefusedError(
            f"failover run {run_id} is not complete: its fence of the old primary is pending; first run "
            f"`python -m runbooks.failover --deployment <deployment> --run-id {run_id} --reason '<reason>' --execute` "
            "once the primary region answers"
        )


def _all_records(path: Path) -> list[dict[str, Any]]:
    import json

    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# -- CLI ---------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    from runbooks.toolkit import add_common_args

    parser = argparse.ArgumentParser(
        prog="python -m runbooks.failback",
        description=(
            "Planned failback to the primary region inside the maintenance window (DR-1, DR-2, OPS-5), then "
            "re-arm the standby. Every step is recorded as JSON lines. Dry run unless --execute."
        ),
    )
    add_common_args(parser, procedure=PROCEDURE)
    parser.add_argument("--reason", default="", help="who approved the failback, and why (required outside the window)")
    parser.add_argument("--outside-window", action="store_true", help="run outside the OPS-5 window (needs --reason)")
    parser.add_argument("--since", type=datetime.fromisoformat, default=None, help="ISO time DR started taking writes")
    parser.add_argument("--failover-audit-log", type=Path, default=None, help="default: <deployment>-failover.jsonl")
    parser.add_argument("--hosted-zone-id", default=None, help="verify with Route 53 TestDNSAnswer, not DNS")
    return parser, parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    from runbooks.cli import build_clients, public_answer
    from runbooks.ops import finish
    from runbooks.toolkit import new_run_id, resolve_topology

    parser, args = parse_args(argv)
    topology = resolve_topology(parser, args)
    dr, primary = build_clients(topology)

    def clients(region: Any) -> RegionClients:
        services = ("rds", "autoscaling", "cloudwatch", "s3", "elbv2", "secretsmanager", "cloudformation")
        return RegionClients(*(region.client(s) for s in services))

    failback = Failback(
        topology,
        dr=clients(dr),
        primary=clients(primary),
        public_answer=public_answer(dr, args.hosted_zone_id),
        audit_log=AuditLog(args.audit_log or Path(topology.audit_log_name(PROCEDURE))),
        out=sys.stdout,
    )
    options = FailbackOptions(args.reason, args.outside_window, args.since, args.failover_audit_log)
    return finish(PROCEDURE, failback.run(options, run_id=args.run_id or new_run_id(), execute=args.execute))


if __name__ == "__main__":
    sys.exit(main())

"""Failover to the warm standby (DR-1, DR-2): promote the DR replica, move traffic, verify.

Read `runbooks/failover.md` first. The properties the tests hold this to:

- every AWS client is passed in; the DR-region clients do the work, the optional
  primary-region clients are used only to probe and fence the old primary. Only a
  region that does not answer (no connection, timeout, reset) counts as down and lets
  the fence be skipped; an answer that is an error (throttling, AccessDenied) refuses
  the failover unless --force, and a fence that errors fails its step;
- dry run by default (read calls only, steps recorded `planned`);
- idempotent through the audit log (`runbooks/toolkit.py`): a rerun with the same run
  id resumes and never repeats a done step; the promotion is recorded `started`
  before the call, and a rerun asks RDS what happened (still a replica: promote;
  promoting or promoted: wait) instead of trusting the record;
- traffic moves only through the failover switch metric (a CloudWatch data-plane
  call in the DR region); the automation never changes Route 53 records.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from config.topology import DR, PRIMARY, SWITCH_METRIC, SWITCH_NAMESPACE, FailoverTopology
from runbooks import master_secret, standby
from runbooks.release import check_release_skew
from runbooks.standby import PublicAnswer
from runbooks.toolkit import (
    AuditLog,
    AuditRecord,
    MirroredAuditLog,
    RefusedError,
    RunResult,
    Skip,
    Step,
    StepFailedError,
    StepRunner,
    check_run_id,
    wait_until,
)

CLAUSE = "DR-2"
PROCEDURE = "failover"
RUN_TAG = "dr-failover-run-id"  # set on the DR database just before its promotion: the state AWS keeps


@dataclass(frozen=True)
class FailoverOptions:
    reason: str  # the decision: who decided, and why
    accept_data_loss: bool = False
    accept_release_skew: bool = False  # OPS-7: fail over although the standby runs another release
    force: bool = False  # fail over although the primary answers as healthy
    fence: bool = True
    capacity: int | None = None


@dataclass(frozen=True)
class Timeouts:
    poll_s: float = 15.0
    promote_s: float = 3600.0
    targets_s: float = 900.0
    dns_s: float = 600.0


@dataclass(frozen=True)
class PrimaryProbe:
    answered: bool  # the region answered (possibly with an error)
    healthy: bool
    desired: int | None
    detail: str
    error: str | None = None  # the answer was an error (e.g. ThrottlingException, AccessDenied)
    db_available: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "answered": self.answered,
            "healthy": self.healthy,
            "desired": self.desired,
            "error": self.error,
            "detail": self.detail,
        }


class Failover:
    def __init__(
        self,
        topology: FailoverTopology,
        *,
        rds: Any,
        autoscaling: Any,
        elbv2: Any,
        cloudwatch: Any,
        secretsmanager: Any,
        public_answer: PublicAnswer,
        audit_log: AuditLog,
        primary_rds: Any | None = None,
        primary_autoscaling: Any | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        timeouts: Timeouts = Timeouts(),
        out: TextIO | None = None,
        ssm: Any | None = None,  # the DR region's: the release records (runbooks/release.py)
        primary_secretsmanager: Any | None = None,  # the master secret's replication status
    ) -> None:
        self.ssm = ssm
        self.primary_secretsmanager = primary_secretsmanager
        self.topo = topology
        self.rds = rds
        self.autoscaling = autoscaling
        self.elbv2 = elbv2
        self.cloudwatch = cloudwatch
        self.secretsmanager = secretsmanager
        self.public_answer = public_answer
        self.audit = audit_log
        self.primary_rds = primary_rds
        self.primary_autoscaling = primary_autoscaling
        self.sleep = sleep
        self.clock = clock
        self.now = now
        self.timeouts = timeouts
        self.out = out
        self.replica_id = topology.db_instance_id(DR)
        self._probe: PrimaryProbe | None = None

    def run(self, options: FailoverOptions, *, run_id: str, execute: bool = False) -> RunResult:
        self.options = options
        self.run_id = run_id
        self._probe = None
        try:
            check_run_id(run_id, [self.topo.db_instance_id(PRIMARY), self.replica_id])
        except RefusedError as error:
            if self.out is not None:
                print(f"{PROCEDURE}: refused: {error}", file=self.out, flush=True)
            return RunResult(run_id=run_id, outcome="refused")
        if execute:
            self._restore_state()
        runner = StepRunner(
            self.audit,
            run_id=run_id,
            clause=CLAUSE,
            execute=execute,
            clock=self.clock,
            out=self.out,
            final_step=PROCEDURE,
        )
        return runner.run(self.steps())

    def steps(self) -> list[Step]:
        return [
            Step("preconditions", "check preconditions", lambda _: self._preconditions(), check=True),
            Step("fence-primary", "fence the old primary", lambda _: self._fence(), plan=self._plan_fence),
            Step("scale-dr-web", "scale the DR web tier", lambda _: self._scale(), plan=self._plan_scale),
            Step("promote-replica", "promote replica", self._promote, plan=self._plan_promote, irreversible=True),
            Step("flip-switch", "flip the failover switch", lambda _: self._flip(), plan=self._plan_flip),
            Step("verify", "verify traffic reaches DR", lambda _: self._verify(), plan=self._plan_verify),
            Step("harden-writer", "Multi-AZ, backups and tags on the new writer", lambda _: self._harden()),
            Step("promote-secret", "make the DR master secret standalone", lambda _: self._promote_secret()),
        ]

    # -- resume without the local log ---------------------------------------------------

    def _restore_state(self) -> None:
        """A run the local log does not know: its durable copy, else what AWS says this run did."""
        if any(True for _ in self.audit.records(self.run_id)):
            return
        if isinstance(self.audit, MirroredAuditLog) and self.audit.restore(self.run_id):
            self._say(f"{PROCEDURE} {self.run_id}: restored the audit records from {self.audit.group}")
            return
        found = self._state_in_aws()
        if found is None:
            return
        self._say(f"{PROCEDURE} {self.run_id}: no audit record of this run; reconstructed from AWS: {found}")
        group = standby.describe_asg(self.autoscaling, self.topo.web_asg_name(DR))
        capacity = int(group["DesiredCapacity"]) if group else None
        scaled = {"asg": self.topo.web_asg_name(DR), "capacity": capacity, "reconstructed": found}
        # The tag is set after the fence and the scale and before the promotion call (steps() order).
        self._append("scale-dr-web", "done", scaled)
        self._append("promote-replica", "started", {"reconstructed": found})

    def _state_in_aws(self) -> dict[str, Any] | None:
        db = standby.describe_db(self.rds, self.replica_id)
        if db is None:
            return None
        tags = {
            t["Key"]: t["Value"] for t in self.rds.list_tags_for_resource(ResourceName=db["DBInstanceArn"])["TagList"]
        }
        if tags.get(RUN_TAG) != self.run_id:
            return None
        return {
            "db": "replica" if standby.is_replica(db) else "writer",
            "db_status": db["DBInstanceStatus"],
            "run_tag": self.run_id,
            "backup_tier_tag": tags.get("backup-tier"),
            "switch": self._switch_value(),
        }

    def _switch_value(self) -> float | None:
        """The switch's latest value over the last 3 hours (None: none published, or unreadable)."""
        try:
            points = self.cloudwatch.get_metric_statistics(
                Namespace=SWITCH_NAMESPACE,
                MetricName=SWITCH_METRIC,
                Dimensions=[{"Name": k, "Value": v} for k, v in self.topo.switch_dimensions.items()],
                StartTime=self.now() - timedelta(hours=3),
                EndTime=self.now() + timedelta(minutes=1),
                Period=60,
                Statistics=["Maximum"],
            )["Datapoints"]
        except Exception:
            return None
        return float(max(points, key=lambda p: p["Timestamp"])["Maximum"]) if points else None

    def _append(self, step: str, status: str, detail: dict[str, Any]) -> None:
        self.audit.append(AuditRecord(self.run_id, step, status, detail, dry_run=False, clause=CLAUSE))

    def _say(self, text: str) -> None:
        if self.out is not None:
            print(text, file=self.out, flush=True)

    # -- preconditions -----------------------------------------------------------------

    def _promotion_recorded(self) -> bool:
        return self.audit.latest(self.run_id, "promote-replica", ("started", "done")) is not None

    def _promoted_by_this_run(self, replica: dict[str, Any]) -> bool:
        """Past the point of no return, by what RDS says: this run recorded the promotion and the
        instance is no longer a replica or is busy being promoted (`modifying`, ...)."""
        if not self._promotion_recorded():
            return False
        return not standby.is_replica(replica) or replica["DBInstanceStatus"] != "available"

    def _preconditions(self) -> dict[str, Any]:
        if not self.options.reason.strip():
            raise RefusedError("--reason is required: record who decided to fail over, and why")
        if self.options.capacity is not None and self.options.capacity < 1:
            raise RefusedError(f"--capacity {self.options.capacity} is not allowed (allowed: 1 or more)")
        replica = standby.describe_db(self.rds, self.replica_id)
        if replica is None:
            raise RefusedError(f"replica {self.replica_id} not found in {self.topo.dr_region}")
        promoted = self._promoted_by_this_run(replica)
        detail: dict[str, Any] = {
            "reason": self.options.reason,
            "replica": self.replica_id,
            "replica_status": replica["DBInstanceStatus"],
            "resumed_after_promotion": promoted,
        }
        if promoted:  # past the point of no return: only forward
            return detail
        if replica["DBInstanceStatus"] != "available":
            raise RefusedError(f"replica {self.replica_id} is {replica['DBInstanceStatus']}, not available")
        if not standby.is_replica(replica):
            raise RefusedError(f"{self.replica_id} is not a read replica (already promoted by another run?)")
        # OPS-7 / DR-1: the standby must run the release the primary last ran (runbooks/release.py).
        detail["release"] = check_release_skew(self.ssm, self.topo, accept=self.options.accept_release_skew)
        probe = self._primary_probe()
        detail["primary"] = probe.as_json()
        if probe.error and not self.options.force:
            raise RefusedError(
                f"the primary region answered with an error ({probe.error}): it is up, not down; "
                "fix the access or wait, or --force to fail over anyway"
            )
        if probe.healthy and not self.options.force:
            raise RefusedError(f"the primary answers as healthy ({probe.detail}); --force to fail over anyway")
        detail["replica_lag"] = self._check_lag(probe)
        detail["secret_replication"] = self._check_secret_replication()
        detail["capacity"] = self._capacity(check_only=True)
        return detail

    def _check_secret_replication(self) -> dict[str, Any]:
        """The DR copy of the master secret must be `InSync`, or the DR web tier would hold a password
        the promoted database does not accept (a rotation that failed to replicate)."""
        status = self._secret_replication()
        if status["status"] == "Failed" and not self.options.force:
            raise RefusedError(
                f"the DR replica of {status['secret']} is Failed ({status.get('message') or 'no message'}): its "
                "password may be stale; fix the replication (the DR key's grant) or --force to fail over anyway"
            )
        if status["status"] == "Failed":
            status["forced"] = True
        return status

    def _secret_replication(self) -> dict[str, Any]:
        """ReplicationStatus for the DR region, as the primary region reports it; when the primary does not
        answer (or there is no client), what the DR replica itself says: its LastChangedDate."""
        secret_id = standby.master_secret_id(self.topo)
        found: dict[str, Any] = {"secret": secret_id, "region": self.topo.dr_region}
        if self.primary_secretsmanager is not None:
            try:
                primary = self.primary_secretsmanager.describe_secret(SecretId=secret_id)
            except Exception as error:
                if not standby.did_not_answer(error):
                    raise RefusedError(
                        f"the primary region answered describe_secret with {standby.describe_error(error)}"
                    ) from error
                found["primary_error"] = standby.describe_error(error)
            else:
                for replica in primary.get("ReplicationStatus", []):
                    if replica.get("Region") == self.topo.dr_region:
                        message = replica.get("StatusMessage")
                        return {**found, "status": replica.get("Status"), "message": message, "basis": "primary"}
                return {
                    **found,
                    "status": "Failed",
                    "message": "the primary does not replicate to DR",
                    "basis": "primary",
                }
        replica = self.secretsmanager.describe_secret(SecretId=secret_id)
        changed = replica.get("LastChangedDate")
        return {
            **found,
            "status": "Unknown",
            "basis": "the DR replica (the primary did not answer): check the password after promotion",
            "replica_last_changed": changed.isoformat() if isinstance(changed, datetime) else changed,
        }

    def _check_lag(self, probe: PrimaryProbe) -> dict[str, Any]:
        """The data at risk: the lag when the source was last seen once it is gone (see standby.lag_at_risk)."""
        source_gone = not probe.answered or (probe.error is None and not probe.db_available)
        series = standby.replica_lag_series(self.cloudwatch, self.replica_id, self.now())
        lag = standby.lag_at_risk(series, source_gone=source_gone)
        if not self.options.accept_data_loss:
            if lag.at_risk_s is None:
                raise RefusedError(f"ReplicaLag unknown ({lag.basis}): --accept-data-loss to fail over anyway")
            if lag.at_risk_s > self.topo.failover_max_lag_seconds:
                raise RefusedError(
                    f"replica lag {lag.at_risk_s:.0f} s > failover_max_lag_seconds "
                    f"{self.topo.failover_max_lag_seconds} ({lag.basis}; --accept-data-loss to fail over anyway)"
                )
        return {**lag.as_json(), "source_gone": source_gone}

    def _primary_probe(self) -> PrimaryProbe:
        """Probe once per run; later steps reuse the answer instead of calling the primary again."""
        if self._probe is not None:
            return self._probe
        if self.primary_rds is None or self.primary_autoscaling is None:
            self._probe = PrimaryProbe(False, False, None, "no primary-region clients")
            return self._probe
        try:
            db = standby.describe_db(self.primary_rds, self.topo.db_instance_id(PRIMARY))
            group = standby.describe_asg(self.primary_autoscaling, self.topo.web_asg_name(PRIMARY))
        except Exception as error:
            text = standby.describe_error(error)
            if standby.did_not_answer(error):  # only a region that does not answer counts as down
                self._probe = PrimaryProbe(False, False, None, f"the primary region did not answer ({text})")
            else:
                self._probe = PrimaryProbe(True, False, None, f"the primary region answered {text}", error=text)
            return self._probe
        db_ok = db is not None and db["DBInstanceStatus"] == "available"
        serving = standby.in_service(group) if group else 0
        desired = int(group["DesiredCapacity"]) if group else None
        status = db["DBInstanceStatus"] if db else "missing"
        detail = f"db {status}, {serving} web in service"
        self._probe = PrimaryProbe(True, db_ok and serving > 0, desired, detail, db_available=db_ok)
        return self._probe

    def _first_seen_desired(self) -> int | None:
        """The primary's desired capacity as the run's first probe saw it (a rerun after the fence sees 0)."""
        for record in self.audit.records(self.run_id):
            if record["step"] == "preconditions" and record["status"] == "done" and not record["dry_run"]:
                desired = record["detail"].get("primary", {}).get("desired")
                if desired:
                    return int(desired)
        return self._primary_probe().desired

    # -- fence ---------------------------------------------------------------------------

    def _plan_fence(self) -> dict[str, Any]:
        if not self.options.fence:
            return {"skip": "--no-fence"}
        probe = self._primary_probe()
        return {
            "asg": self.topo.web_asg_name(PRIMARY),
            "set": {"MinSize": 0, "DesiredCapacity": 0},
            "probe": probe.detail,
        }

    def _fence(self) -> dict[str, Any] | Skip:
        if not self.options.fence:
            return Skip("--no-fence")
        if self.primary_autoscaling is None:
            return Skip("no primary-region clients")
        name = self.topo.web_asg_name(PRIMARY)
        try:
            standby.scale_asg(self.primary_autoscaling, name, min_size=0, desired=0)
        except Exception as error:
            text = standby.describe_error(error)
            if standby.did_not_answer(error):  # the region is down: fence it once it answers (rerun)
                return Skip("primary unreachable", {"error": text, "asg": name}, pending=True)
            raise StepFailedError(
                f"the fence of {name} failed with an answer ({text}): the old primary may still serve; "
                "fix the cause and rerun with the same --run-id (or --no-fence to decide otherwise)"
            ) from error
        return {"asg": name, "previous_desired": self._first_seen_desired()}

    # -- scale ---------------------------------------------------------------------------

    def _capacity(self, *, check_only: bool = False) -> int:
        fenced = self.audit.done(self.run_id, "fence-primary")
        previous = fenced["detail"].get("previous_desired") if fenced else None
        if self.options.capacity is not None:
            capacity = self.options.capacity
        elif previous:
            capacity = int(previous)
        elif seen := self._first_seen_desired():
            capacity = seen
        else:
            capacity = self.topo.primary_web_min_capacity
        group = standby.describe_asg(self.autoscaling, self.topo.web_asg_name(DR))
        if group is None:
            raise RefusedError(f"DR auto scaling group {self.topo.web_asg_name(DR)} not found")
        if capacity > int(group["MaxSize"]):
            raise RefusedError(
                f"capacity {capacity} is above the DR group's MaxSize {group['MaxSize']}: "
                "raise the DR maximum (deploy) or pass a smaller --capacity"
            )
        return capacity

    def _plan_scale(self) -> dict[str, Any]:
        return {"asg": self.topo.web_asg_name(DR), "capacity": self._capacity()}

    def _scale(self) -> dict[str, Any]:
        capacity = self._capacity()
        standby.scale_asg(self.autoscaling, self.topo.web_asg_name(DR), min_size=capacity, desired=capacity)
        return {"asg": self.topo.web_asg_name(DR), "capacity": capacity}

    # -- promote -------------------------------------------------------------------------

    def _plan_promote(self) -> dict[str, Any]:
        return {"db": self.replica_id, "BackupRetentionPeriod": self.topo.db_backup_retention_days}

    def _promote(self, earlier: dict[str, Any] | None) -> dict[str, Any]:
        """Ask RDS, not the record: a `started` record whose call never went out (a crash between the
        record and the call, or the call failing) is retried; a promotion under way or done is waited for."""
        replica = standby.describe_db(self.rds, self.replica_id)
        if replica is None:
            raise StepFailedError(f"{self.replica_id} disappeared")
        if standby.is_replica(replica) and replica["DBInstanceStatus"] != "available":
            replica = self._wait_settled()  # a promotion (an earlier call's) may be under way
        called = False
        if standby.is_replica(replica):
            self._tag_run(replica)
            called = self._call_promote(resumed=earlier is not None)
        self._wait_writer(self.rds, self.replica_id, self.timeouts.promote_s)
        return {"db": self.replica_id, "promote_called": called, "resumed": earlier is not None}

    def _tag_run(self, replica: dict[str, Any]) -> None:
        """Name this run on the database before promoting it: what a rerun without its local log finds."""
        tag = {"Key": RUN_TAG, "Value": self.run_id}
        self.rds.add_tags_to_resource(ResourceName=replica["DBInstanceArn"], Tags=[tag])

    def _call_promote(self, *, resumed: bool) -> bool:
        try:
            self.rds.promote_read_replica(
                DBInstanceIdentifier=self.replica_id, BackupRetentionPeriod=self.topo.db_backup_retention_days
            )
        except Exception as error:
            # On a rerun, RDS refusing the state means our earlier call is being carried out: wait for it.
            if resumed and standby.error_code(error) == "InvalidDBInstanceState":
                return False
            raise
        return True

    def _wait_settled(self) -> dict[str, Any]:
        """Wait until the instance is a writer or an available replica again; return it."""
        found: dict[str, Any] = {}

        def settled() -> bool:
            db = standby.describe_db(self.rds, self.replica_id)
            found["db"] = db
            return db is not None and (not standby.is_replica(db) or db["DBInstanceStatus"] == "available")

        self._wait(f"{self.replica_id} to finish what it is doing", settled, self.timeouts.promote_s)
        return dict(found["db"])

    def _wait(self, what: str, check: Callable[[], bool], timeout_s: float) -> None:
        wait_until(
            what,
            check,
            timeout_s=timeout_s,
            poll_s=self.timeouts.poll_s,
            sleep=self.sleep,
            clock=self.clock,
            out=self.out,
        )

    def _wait_writer(self, rds: Any, identifier: str, timeout_s: float) -> None:
        def is_writer() -> bool:
            db = standby.describe_db(rds, identifier)
            return db is not None and db["DBInstanceStatus"] == "available" and not standby.is_replica(db)

        self._wait(f"{identifier} to be an available writer", is_writer, timeout_s)

    # -- switch and verification ---------------------------------------------------------

    def _plan_flip(self) -> dict[str, Any]:
        alarm = standby.switch_alarm(self.cloudwatch, self.topo)
        return {"alarm": self.topo.switch_alarm_name, "alarm_exists": alarm is not None, "value": 1}

    def _flip(self) -> dict[str, Any]:
        return standby.publish_switch(self.cloudwatch, self.topo, 1, self.now())

    def _plan_verify(self) -> dict[str, Any]:
        target_group, dns = standby.web_entry(self.autoscaling, self.elbv2, self.topo.web_asg_name(DR))
        return {"target_group": target_group, "alb": dns, "domain": self.topo.domain_name}

    def _verify(self) -> dict[str, Any]:
        target_group, dns = standby.web_entry(self.autoscaling, self.elbv2, self.topo.web_asg_name(DR))
        self._wait(
            f"a healthy target in {target_group}",
            lambda: standby.healthy_targets(self.elbv2, target_group) >= 1,
            self.timeouts.targets_s,
        )
        secret = self.secretsmanager.describe_secret(SecretId=standby.master_secret_id(self.topo))
        self._wait(
            f"{self.topo.domain_name} to answer with {dns}'s addresses",
            lambda: self.public_answer.resolves_to(self.topo.domain_name, dns),
            self.timeouts.dns_s,
        )
        return {
            "healthy_targets": standby.healthy_targets(self.elbv2, target_group),
            "secret": secret["Name"],
            "domain": self.topo.domain_name,
            "alb": dns,
        }

    # -- follow-ups ----------------------------------------------------------------------

    def _harden(self) -> dict[str, Any]:
        writer = standby.describe_db(self.rds, self.replica_id)
        if writer is None:
            raise StepFailedError(f"{self.replica_id} disappeared")
        changes: dict[str, Any] = {}
        if self.topo.db_multi_az and not writer.get("MultiAZ"):
            changes["MultiAZ"] = True
        if int(writer.get("BackupRetentionPeriod", 0)) < self.topo.db_backup_retention_days:
            changes["BackupRetentionPeriod"] = self.topo.db_backup_retention_days
        if changes:
            self.rds.modify_db_instance(DBInstanceIdentifier=self.replica_id, ApplyImmediately=True, **changes)
        self.rds.add_tags_to_resource(
            ResourceName=writer["DBInstanceArn"], Tags=[{"Key": "backup-tier", "Value": "database"}]
        )
        return {"db": self.replica_id, "modified": changes, "tags": {"backup-tier": "database"}}

    def _promote_secret(self) -> dict[str, Any] | Skip:
        secret_id = standby.master_secret_id(self.topo)
        secret = self.secretsmanager.describe_secret(SecretId=secret_id)
        if secret.get("PrimaryRegion") in (None, self.topo.dr_region):
            return Skip("the DR secret is already standalone", {"secret": secret_id})
        try:
            self.secretsmanager.stop_replication_to_replica(SecretId=secret_id)
        except Exception as error:
            if "standalone" in str(error).lower() or "not a replica" in str(error).lower():
                return Skip("the DR secret is already standalone", {"secret": secret_id, "error": str(error)})
            raise
        return {"secret": secret_id, "promoted": True, "rotation": self._pause_rotation(secret_id)}

    def _pause_rotation(self, secret_id: str) -> dict[str, Any]:
        """The standalone DR secret must not rotate while DR serves: a rotation there and one in the
        returning primary would diverge. Failback overwrites it with the primary's secret and gives the
        new primary writer that password (runbooks/master_secret.py)."""
        paused = master_secret.pause_rotation(self.secretsmanager, secret_id)
        return {**paused, "reenable_at_failback": True, "reconcile_password_at_failback": True}


# -- CLI ---------------------------------------------------------------------------------


def durable_log_group(topology: FailoverTopology) -> str:
    """The CloudWatch Logs group in the DR region that keeps a copy of every audit record."""
    return f"/{topology.prefix(DR)}/runbooks"


def parse_args(argv: Sequence[str] | None = None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    from runbooks.toolkit import add_common_args, positive_int

    parser = argparse.ArgumentParser(
        prog="python -m runbooks.failover",
        description=(
            "Failover to the warm standby (DR-1, DR-2): fence the primary, scale the DR web tier, promote the DR "
            "replica, flip the failover switch, verify. Every step is recorded as JSON lines. Dry run unless --execute."
        ),
    )
    add_common_args(parser, procedure=PROCEDURE)
    parser.add_argument("--reason", default="", help="required: who decided to fail over, and why")
    parser.add_argument("--accept-data-loss", action="store_true", help="fail over although the lag is over/unknown")
    parser.add_argument("--force", action="store_true", help="fail over although the primary answers as healthy")
    parser.add_argument(
        "--accept-release-skew", action="store_true", help="fail over although DR runs another release (OPS-7)"
    )
    parser.add_argument("--no-fence", dest="fence", action="store_false", help="do not scale the primary web to 0")
    parser.add_argument(
        "--capacity", type=positive_int, default=None, help="DR web capacity, 1 or more (default: the primary's)"
    )
    parser.add_argument("--hosted-zone-id", default=None, help="verify with Route 53 TestDNSAnswer, not DNS")
    return parser, parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    from runbooks.cli import build_clients, public_answer
    from runbooks.ops import finish
    from runbooks.toolkit import new_run_id, resolve_topology

    parser, args = parse_args(argv)
    topology = resolve_topology(parser, args)
    dr, primary = build_clients(topology)
    failover = Failover(
        topology,
        rds=dr.client("rds"),
        autoscaling=dr.client("autoscaling"),
        elbv2=dr.client("elbv2"),
        cloudwatch=dr.client("cloudwatch"),
        secretsmanager=dr.client("secretsmanager"),
        public_answer=public_answer(dr, args.hosted_zone_id),
        audit_log=MirroredAuditLog(
            args.audit_log or Path(topology.audit_log_name(PROCEDURE)),
            dr.client("logs"),
            durable_log_group(topology),
            prefix=f"{PROCEDURE}-",
            out=sys.stdout,
        ),
        primary_rds=primary.client("rds"),
        primary_autoscaling=primary.client("autoscaling"),
        out=sys.stdout,
        ssm=dr.client("ssm"),
        primary_secretsmanager=primary.client("secretsmanager"),
    )
    options = FailoverOptions(
        reason=args.reason,
        accept_data_loss=args.accept_data_loss,
        accept_release_skew=args.accept_release_skew,
        force=args.force,
        fence=args.fence,
        capacity=args.capacity,
    )
    result = failover.run(options, run_id=args.run_id or new_run_id(), execute=args.execute)
    code = finish(PROCEDURE, result)
    if result.pending:
        print(result.summary(PROCEDURE))
    return code


if __name__ == "__main__":
    sys.exit(main())

"""Failover to the warm standby (DR-1, DR-2): promote the DR replica, move traffic, verify.

Read `runbooks/failover.md` first. The properties the tests hold this to:

- every AWS client is passed in; the DR-region clients do the work, the optional
  primary-region clients are used only to probe and fence the old primary, and any
  error from them is recorded and never fatal (the usual reason to fail over is that
  the primary region does not answer);
- dry run by default (read calls only, steps recorded `planned`);
- idempotent through the audit log (`runbooks/toolkit.py`): a rerun with the same run
  id resumes and never repeats a done step; the promotion is recorded `started`
  before the call and is never issued twice;
- traffic moves only through the failover switch metric (a CloudWatch data-plane
  call in the DR region); the automation never changes Route 53 records.
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
from runbooks import standby
from runbooks.release import check_release_skew
from runbooks.standby import PublicAnswer
from runbooks.toolkit import AuditLog, RefusedError, RunResult, Skip, Step, StepFailedError, StepRunner, wait_until

CLAUSE = "DR-2"
PROCEDURE = "failover"


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
    answered: bool
    healthy: bool
    desired: int | None
    detail: str


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
    ) -> None:
        self.ssm = ssm
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

    # -- preconditions -----------------------------------------------------------------

    def _promotion_recorded(self) -> bool:
        return self.audit.latest(self.run_id, "promote-replica", ("started", "done")) is not None

    def _preconditions(self) -> dict[str, Any]:
        if not self.options.reason.strip():
            raise RefusedError("--reason is required: record who decided to fail over, and why")
        replica = standby.describe_db(self.rds, self.replica_id)
        if replica is None:
            raise RefusedError(f"replica {self.replica_id} not found in {self.topo.dr_region}")
        promoted = self._promotion_recorded()
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
        lag = standby.replica_lag_seconds(self.cloudwatch, self.replica_id, self.now())
        detail["replica_lag_s"] = lag
        if not self.options.accept_data_loss:
            if lag is None:
                raise RefusedError("no ReplicaLag datapoint in the last 5 minutes: lag unknown (--accept-data-loss)")
            if lag > self.topo.failover_max_lag_seconds:
                raise RefusedError(
                    f"replica lag {lag:.0f} s > failover_max_lag_seconds {self.topo.failover_max_lag_seconds} "
                    "(--accept-data-loss to fail over anyway)"
                )
        # OPS-7 / DR-1: the standby must run the release the primary last ran (runbooks/release.py).
        detail["release"] = check_release_skew(self.ssm, self.topo, accept=self.options.accept_release_skew)
        probe = self._primary_probe()
        detail["primary"] = {"answered": probe.answered, "healthy": probe.healthy, "detail": probe.detail}
        if probe.healthy and not self.options.force:
            raise RefusedError(f"the primary answers as healthy ({probe.detail}); --force to fail over anyway")
        detail["capacity"] = self._capacity(check_only=True)
        return detail

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
        except Exception as error:  # the region does not answer: it counts as down
            self._probe = PrimaryProbe(False, False, None, f"{type(error).__name__}: {error}")
            return self._probe
        db_ok = db is not None and db["DBInstanceStatus"] == "available"
        serving = standby.in_service(group) if group else 0
        desired = int(group["DesiredCapacity"]) if group else None
        status = db["DBInstanceStatus"] if db else "missing"
        self._probe = PrimaryProbe(True, db_ok and serving > 0, desired, f"db {status}, {serving} web in service")
        return self._probe

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
        except Exception as error:  # never fatal: the primary region is usually what failed
            return Skip("the primary region did not answer", {"error": f"{type(error).__name__}: {error}"})
        return {"asg": name, "previous_desired": self._primary_probe().desired}

    # -- scale ---------------------------------------------------------------------------

    def _capacity(self, *, check_only: bool = False) -> int:
        fenced = self.audit.done(self.run_id, "fence-primary")
        previous = fenced["detail"].get("previous_desired") if fenced else None
        probe = self._primary_probe()
        if self.options.capacity is not None:
            capacity = self.options.capacity
        elif previous:
            capacity = int(previous)
        elif probe.answered and probe.desired:
            capacity = probe.desired
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
        replica = standby.describe_db(self.rds, self.replica_id)
        if replica is None:
            raise StepFailedError(f"{self.replica_id} disappeared")
        called = False
        if earlier is None and standby.is_replica(replica):
            self.rds.promote_read_replica(
                DBInstanceIdentifier=self.replica_id, BackupRetentionPeriod=self.topo.db_backup_retention_days
            )
            called = True
        self._wait_writer(self.rds, self.replica_id, self.timeouts.promote_s)
        return {"db": self.replica_id, "promote_called": called}

    def _wait_writer(self, rds: Any, identifier: str, timeout_s: float) -> None:
        def is_writer() -> bool:
            db = standby.describe_db(rds, identifier)
            return db is not None and db["DBInstanceStatus"] == "available" and not standby.is_replica(db)

        wait_until(
            f"{identifier} to be an available writer",
            is_writer,
            timeout_s=timeout_s,
            poll_s=self.timeouts.poll_s,
            sleep=self.sleep,
            clock=self.clock,
        )

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
        waits = {"timeout_s": self.timeouts.targets_s, "poll_s": self.timeouts.poll_s}
        wait_until(
            f"a healthy target in {target_group}",
            lambda: standby.healthy_targets(self.elbv2, target_group) >= 1,
            sleep=self.sleep,
            clock=self.clock,
            **waits,
        )
        secret = self.secretsmanager.describe_secret(SecretId=standby.master_secret_id(self.topo))
        wait_until(
            f"{self.topo.domain_name} to answer with {dns}",
            lambda: self.public_answer.resolves_to(self.topo.domain_name, dns),
            timeout_s=self.timeouts.dns_s,
            poll_s=self.timeouts.poll_s,
            sleep=self.sleep,
            clock=self.clock,
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
        return {"secret": secret_id, "promoted": True}


# -- CLI ---------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    from runbooks.toolkit import add_common_args

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
    parser.add_argument("--capacity", type=int, default=None, help="DR web capacity (default: the primary's)")
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
        audit_log=AuditLog(args.audit_log or Path(topology.audit_log_name(PROCEDURE))),
        primary_rds=primary.client("rds"),
        primary_autoscaling=primary.client("autoscaling"),
        out=sys.stdout,
        ssm=dr.client("ssm"),
    )
    options = FailoverOptions(
        reason=args.reason,
        accept_data_loss=args.accept_data_loss,
        accept_release_skew=args.accept_release_skew,
        force=args.force,
        fence=args.fence,
        capacity=args.capacity,
    )
    return finish(PROCEDURE, failover.run(options, run_id=args.run_id or new_run_id(), execute=args.execute))


if __name__ == "__main__":
    sys.exit(main())

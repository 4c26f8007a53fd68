"""Failover automation (DR-2) against moto in two regions (see conftest.py for moto's gaps)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from config.topology import DR, PRIMARY, SWITCH_METRIC, SWITCH_NAMESPACE
from runbooks.failover import Failover, FailoverOptions
from runbooks.toolkit import EXIT_OK, EXIT_PENDING, EXIT_REFUSED, EXIT_STEP_FAILED, AuditLog
from tests.runbooks.conftest import FakeAnswer, Recorder, Standby, Unreachable, is_mutating
from tests.runbooks.run_cli import run_runbook

STEPS = [
    "preconditions",
    "fence-primary",
    "scale-dr-web",
    "promote-replica",
    "flip-switch",
    "verify",
    "harden-writer",
    "promote-secret",
]
REASON = "incident 42: ap-southeast-2 down, decided by on-call lead"


class NoLag:
    """A CloudWatch client that has no ReplicaLag datapoint (the replica stopped reporting)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def get_metric_statistics(self, **_: Any) -> dict[str, Any]:
        return {"Datapoints": []}


class PutCapture:
    """A CloudWatch client that keeps the arguments of every `put_metric_data`, then makes the call."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.puts: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def put_metric_data(self, **kwargs: Any) -> Any:
        self.puts.append(kwargs)
        return self.client.put_metric_data(**kwargs)


def switch_in_minute_of(world: Standby, moment: datetime, stat: str) -> float | None:
    """The switch metric's `stat` over the minute holding `moment` (what the 60 s alarm sees), per moto."""
    start = moment.replace(second=0, microsecond=0)
    points = world.dr.cloudwatch.get_metric_statistics(
        Namespace=SWITCH_NAMESPACE,
        MetricName=SWITCH_METRIC,
        Dimensions=[{"Name": k, "Value": v} for k, v in world.topo.switch_dimensions.items()],
        StartTime=start,
        EndTime=start + timedelta(minutes=1),
        Period=60,
        Statistics=[stat],
    )["Datapoints"]
    return float(points[0][stat]) if points else None


class Harness:
    def __init__(self, world: Standby, log: Path, *, primary: str = "up", answer: bool = True) -> None:
        self.world = world
        self.log = log
        self.calls: list[tuple[str, str]] = []
        self.answer = FakeAnswer(answer)
        dr = world.dr
        self.rds = Recorder(dr.rds, dr.name, self.calls)
        self.cloudwatch = Recorder(dr.cloudwatch, dr.name, self.calls)
        self.autoscaling = Recorder(dr.autoscaling, dr.name, self.calls)
        self.primary_rds: Any
        self.primary_autoscaling: Any
        if primary == "up":
            self.primary_rds = Recorder(world.primary.rds, world.primary.name, self.calls)
            self.primary_autoscaling = Recorder(world.primary.autoscaling, world.primary.name, self.calls)
        elif primary == "unreachable":
            self.primary_rds = Unreachable(world.primary.name, self.calls)
            self.primary_autoscaling = Unreachable(world.primary.name, self.calls)
        else:
            self.primary_rds = self.primary_autoscaling = None

    def failover(self) -> Failover:
        dr = self.world.dr
        return Failover(
            self.world.topo,
            rds=self.rds,
            autoscaling=self.autoscaling,
            elbv2=Recorder(dr.elbv2, dr.name, self.calls),
            cloudwatch=self.cloudwatch,
            secretsmanager=Recorder(self.world.secrets, dr.name, self.calls),
            public_answer=self.answer,
            audit_log=AuditLog(self.log),
            primary_rds=self.primary_rds,
            primary_autoscaling=self.primary_autoscaling,
            sleep=self.world.clock.sleep,
            clock=self.world.clock,
            out=io.StringIO(),
        )

    def run(self, run_id: str = "fo-1", *, execute: bool = True, **options: Any) -> Any:
        values: dict[str, Any] = {"reason": REASON, "force": True}
        values.update(options)
        return self.failover().run(FailoverOptions(**values), run_id=run_id, execute=execute)

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def count(self, method: str) -> int:
        return sum(1 for _, name in self.calls if name == method)


@pytest.fixture
def h(world: Standby, tmp_path: Path) -> Harness:
    return Harness(world, tmp_path / "failover.jsonl")


def test_failover_runs_every_step_in_order_and_moves_to_dr(h: Harness, world: Standby) -> None:
    result = h.run()
    assert result.exit_code == EXIT_OK, h.lines()
    steps = [(r["step"], r["status"]) for r in h.lines()]
    assert steps == [
        ("preconditions", "done"),
        ("fence-primary", "done"),
        ("scale-dr-web", "done"),
        ("promote-replica", "started"),
        ("promote-replica", "done"),
        ("flip-switch", "done"),
        ("verify", "done"),
        ("harden-writer", "done"),
        ("promote-secret", "done"),
        ("failover", "done"),
    ]
    assert all(r["clause"] == "DR-2" and r["dry_run"] is False and r["run_id"] == "fo-1" for r in h.lines())
    assert all("duration_s" in r for r in h.lines() if r["status"] == "done" and r["step"] != "failover")
    topo = world.topo
    writer = world.db(world.dr, topo.db_instance_id(DR))
    assert writer is not None and not writer.get("ReadReplicaSourceDBInstanceIdentifier")
    assert writer["MultiAZ"] is True
    tags = world.dr.rds.list_tags_for_resource(ResourceName=writer["DBInstanceArn"])["TagList"]
    assert {"Key": "backup-tier", "Value": "database"} in tags
    assert world.asg(world.dr, topo.web_asg_name(DR))["DesiredCapacity"] == topo.primary_web_min_capacity
    assert world.asg(world.primary, topo.web_asg_name(PRIMARY))["DesiredCapacity"] == 0
    assert world.switch_values() == [1.0]
    assert h.answer.asked and h.answer.asked[-1][0] == topo.domain_name
    assert world.secrets.stopped == [f"{topo.db_instance_id(PRIMARY)}/master"]
    assert h.count("promote_read_replica") == 1


def test_the_switch_is_stamped_with_the_runners_clock(h: Harness, world: Standby) -> None:
    # 42 s behind the real time: the fixture's ReplicaLag datapoint stays inside the lag window.
    stamp = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=42)
    capture = PutCapture(world.dr.cloudwatch)
    h.cloudwatch = Recorder(capture, world.dr.name, h.calls)
    failover = h.failover()
    failover.now = lambda: stamp
    assert failover.run(FailoverOptions(reason=REASON, force=True), run_id="fo-t", execute=True).exit_code == EXIT_OK
    (put,) = capture.puts
    assert put["Namespace"] == SWITCH_NAMESPACE
    (datum,) = put["MetricData"]
    assert (datum["MetricName"], datum["Value"], datum["Timestamp"]) == (SWITCH_METRIC, 1.0, stamp)
    flip = next(r for r in h.lines() if r["step"] == "flip-switch" and r["status"] == "done")
    assert flip["detail"]["timestamp"] == stamp.isoformat()
    assert switch_in_minute_of(world, stamp, "Maximum") == 1.0


def test_progress_lines_count_the_steps(h: Harness) -> None:
    failover = h.failover()
    out = io.StringIO()
    failover.out = out
    failover.run(FailoverOptions(reason=REASON, force=True), run_id="fo-p", execute=True)
    lines = out.getvalue().splitlines()
    assert lines[3].startswith("[4/8] promote replica ... done (")
    assert lines[3].endswith(" s)")


def test_dry_run_is_the_default_and_calls_nothing_that_mutates(h: Harness, world: Standby) -> None:
    result = h.run(execute=False)
    assert result.outcome == "planned" and result.exit_code == EXIT_OK
    assert [c for c in h.calls if is_mutating(c[1])] == []
    assert [(r["step"], r["status"]) for r in h.lines()] == [("preconditions", "done")] + [
        (step, "planned") for step in STEPS[1:]
    ]
    assert all(r["dry_run"] for r in h.lines())
    assert world.switch_values() == []


@pytest.mark.parametrize(
    ("setup", "options", "message"),
    [
        ("delete-replica", {}, "not found"),
        ("promote-outside", {}, "not a read replica"),
        ("lag-600", {}, "replica lag 600 s > failover_max_lag_seconds 300"),
        ("no-lag", {}, "no ReplicaLag datapoint"),
        ("none", {"force": False}, "the primary answers as healthy"),
        ("none", {"reason": " "}, "--reason is required"),
        ("none", {"capacity": 7}, "above the DR group's MaxSize 6"),
    ],
)
def test_refusals_change_nothing(
    world: Standby, tmp_path: Path, setup: str, options: dict[str, Any], message: str
) -> None:
    replica = world.topo.db_instance_id(DR)
    if setup == "delete-replica":  # moto cannot delete a cross-region replica: detach it first
        world.dr.rds.promote_read_replica(DBInstanceIdentifier=replica)
        world.dr.rds.delete_db_instance(DBInstanceIdentifier=replica, SkipFinalSnapshot=True)
    elif setup == "promote-outside":
        world.dr.rds.promote_read_replica(DBInstanceIdentifier=replica)
    elif setup == "lag-600":
        world.publish_lag(600.0)
    h = Harness(world, tmp_path / "audit.jsonl")
    if setup == "no-lag":
        h.cloudwatch = Recorder(NoLag(world.dr.cloudwatch), world.dr.name, h.calls)
    result = h.run(**options)
    assert result.outcome == "refused" and result.exit_code == EXIT_REFUSED
    [record] = h.lines()
    assert record["step"] == "preconditions" and record["status"] == "failed"
    assert message in record["detail"]["error"]
    assert [c for c in h.calls if is_mutating(c[1])] == []


def test_accept_data_loss_overrides_the_lag_checks(world: Standby, tmp_path: Path) -> None:
    world.publish_lag(900.0)
    h = Harness(world, tmp_path / "audit.jsonl")
    assert h.run(accept_data_loss=True).exit_code == EXIT_OK


def test_primary_down_by_its_own_probe_needs_no_force(world: Standby, tmp_path: Path) -> None:
    world.primary.rds.stop_db_instance(DBInstanceIdentifier=world.topo.db_instance_id(PRIMARY))
    h = Harness(world, tmp_path / "audit.jsonl")
    result = h.run(force=False)
    assert result.exit_code == EXIT_OK, h.lines()
    assert h.lines()[0]["detail"]["primary"]["healthy"] is False


def test_crash_after_promotion_resumes_without_a_second_promotion(h: Harness, world: Standby) -> None:
    h.cloudwatch.fail["put_metric_data"] = lambda: RuntimeError("process killed")
    first = h.run()
    assert first.exit_code == EXIT_STEP_FAILED and first.failed_step == "flip-switch"
    assert h.count("promote_read_replica") == 1
    second = h.run()
    assert second.exit_code == EXIT_OK, h.lines()
    assert h.count("promote_read_replica") == 1
    assert world.switch_values() == [1.0]
    resumed = [r for r in h.lines() if r["step"] == "preconditions"][-1]
    assert resumed["detail"]["resumed_after_promotion"] is True
    before, calls_before = h.log.read_text(), len(h.calls)
    third = h.run()
    assert third.outcome == "already-completed" and third.exit_code == EXIT_OK
    assert h.log.read_text() == before
    assert [c for c in h.calls[calls_before:] if is_mutating(c[1])] == []


def test_lost_promotion_response_is_waited_for_not_repeated(h: Harness, world: Standby) -> None:
    replica = world.topo.db_instance_id(DR)

    def promoted_but_response_lost() -> Exception:
        world.dr.rds.promote_read_replica(DBInstanceIdentifier=replica)  # RDS did receive the request
        return ConnectionError("connection reset while reading the response")

    h.rds.fail["promote_read_replica"] = promoted_but_response_lost
    first = h.run()
    assert first.failed_step == "promote-replica"
    assert [(r["step"], r["status"]) for r in h.lines()][-2:] == [
        ("promote-replica", "started"),
        ("promote-replica", "failed"),
    ]
    second = h.run()
    assert second.exit_code == EXIT_OK, h.lines()
    assert h.count("promote_read_replica") == 1
    promote = [r for r in h.lines() if r["step"] == "promote-replica"][-1]
    assert promote["status"] == "done" and promote["detail"]["promote_called"] is False


def test_primary_region_unreachable_completes_without_touching_it(world: Standby, tmp_path: Path) -> None:
    h = Harness(world, tmp_path / "audit.jsonl", primary="unreachable")
    result = h.run(force=False)
    assert result.outcome == "completed" and result.exit_code == EXIT_PENDING, h.lines()
    fence = next(r for r in h.lines() if r["step"] == "fence-primary")
    assert fence["status"] == "skipped" and "EndpointConnectionError" in fence["detail"]["error"]
    assert fence["detail"]["pending"] is True
    primary_calls = [name for region, name in h.calls if region == world.primary.name]
    assert [name for name in primary_calls if is_mutating(name)] == ["update_auto_scaling_group"]
    assert set(primary_calls) <= {"describe_db_instances", "describe_auto_scaling_groups", "update_auto_scaling_group"}
    assert not [name for _, name in h.calls if "resource_record" in name or "route53" in name]
    scale = next(r for r in h.lines() if r["step"] == "scale-dr-web")
    assert scale["detail"]["capacity"] == world.topo.primary_web_min_capacity
    assert world.switch_values() == [1.0]


def test_no_primary_clients_skips_the_fence_with_a_reason(world: Standby, tmp_path: Path) -> None:
    h = Harness(world, tmp_path / "audit.jsonl", primary="absent")
    assert h.run(force=False).exit_code == EXIT_OK
    fence = next(r for r in h.lines() if r["step"] == "fence-primary")
    assert fence["status"] == "skipped" and fence["detail"]["reason"] == "no primary-region clients"


def test_capacity_follows_the_primary_and_can_be_overridden(world: Standby, tmp_path: Path) -> None:
    world.primary.autoscaling.update_auto_scaling_group(
        AutoScalingGroupName=world.topo.web_asg_name(PRIMARY), DesiredCapacity=4
    )
    h = Harness(world, tmp_path / "a.jsonl")
    h.run()
    assert world.asg(world.dr, world.topo.web_asg_name(DR))["DesiredCapacity"] == 4
    assert next(r for r in h.lines() if r["step"] == "fence-primary")["detail"]["previous_desired"] == 4


def test_capacity_override(world: Standby, tmp_path: Path) -> None:
    h = Harness(world, tmp_path / "a.jsonl")
    assert h.run(capacity=5).exit_code == EXIT_OK
    assert world.asg(world.dr, world.topo.web_asg_name(DR))["DesiredCapacity"] == 5


def test_verification_times_out_when_the_public_answer_never_moves(world: Standby, tmp_path: Path) -> None:
    h = Harness(world, tmp_path / "audit.jsonl", answer=False)
    result = h.run()
    assert result.exit_code == EXIT_STEP_FAILED and result.failed_step == "verify"
    assert "timed out" in h.lines()[-1]["detail"]["error"]


def test_cli_help_names_the_clauses_and_the_dry_run_default() -> None:
    result = run_runbook("failover", "--help")
    assert result.returncode == 0, result.stderr
    assert "DR-2" in result.stdout and "--execute" in result.stdout and "Dry run unless --execute" in result.stdout


def test_cli_unknown_deployment_lists_the_allowed_names() -> None:
    result = run_runbook("failover", "--deployment", "mars-production")
    assert result.returncode == EXIT_REFUSED
    assert "allowed: au-production" in result.stderr


def test_release_skew_refuses_unless_accepted_and_the_acceptance_is_recorded(world: Standby, tmp_path: Path) -> None:
    """OPS-7 / DR-1: the standby must run what the primary last ran (runbooks/release.py records both in DR)."""
    import boto3

    ssm = boto3.client("ssm", region_name=world.topo.dr_region)
    record = {"version": "2.0.0", "sha256": "a" * 64, "primary": {"version": "1.0.0", "sha256": "b" * 64}}
    ssm.put_parameter(Name=world.topo.release_parameter(DR), Value=json.dumps(record), Type="String")
    h = Harness(world, tmp_path / "failover.jsonl")
    plain = h.failover

    def with_release_records() -> Failover:
        failover = plain()
        failover.ssm = ssm
        return failover

    h.failover = with_release_records  # type: ignore[method-assign]
    assert h.run(run_id="skew").exit_code == EXIT_REFUSED
    assert h.count("promote_read_replica") == 0
    assert h.run(run_id="accepted", accept_release_skew=True).exit_code == EXIT_OK
    checked = next(r for r in h.lines() if r["run_id"] == "accepted" and r["step"] == "preconditions")["detail"]
    assert checked["release"]["accepted"] is True and "'1.0.0'" in checked["release"]["skew"]
    assert checked["reason"] == REASON


# -- issue 16: what AWS does in a real outage ----------------------------------------------


def publish_lag_series(world: Standby, points: list[tuple[datetime, float]]) -> None:
    dimensions = [{"Name": "DBInstanceIdentifier", "Value": world.topo.db_instance_id(DR)}]
    world.dr.cloudwatch.put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {"MetricName": "ReplicaLag", "Dimensions": dimensions, "Value": lag, "Timestamp": at} for at, lag in points
        ],
    )


def outage_lag(world: Standby, *, healthy_lag: float, outage_minutes_ago: int) -> None:
    """What RDS publishes (PostgreSQL: now() - last replay): steady, then +1 s/s once the source is gone."""
    now = datetime.now(UTC).replace(microsecond=0)
    outage = now - timedelta(minutes=outage_minutes_ago)
    points = [(outage - timedelta(minutes=m), healthy_lag) for m in range(10, 0, -1)]
    points += [(outage + timedelta(minutes=m), healthy_lag + 60 * m) for m in range(1, outage_minutes_ago + 1)]
    publish_lag_series(world, points)


def test_a_real_outage_passes_the_lag_gate_by_the_lag_when_the_source_was_last_seen(
    world: Standby, tmp_path: Path
) -> None:
    outage_lag(world, healthy_lag=3.0, outage_minutes_ago=20)  # ReplicaLag now about 1200 s
    h = Harness(world, tmp_path / "audit.jsonl", primary="unreachable")
    result = h.run(force=False)
    assert result.exit_code == EXIT_PENDING, h.lines()
    lag = h.lines()[0]["detail"]["replica_lag"]
    assert lag["at_risk_s"] <= 63 and lag["now_s"] >= 1200 and lag["source_gone"] is True


def test_a_stalled_replay_is_judged_by_the_current_lag_while_the_primary_answers(
    world: Standby, tmp_path: Path
) -> None:
    outage_lag(world, healthy_lag=3.0, outage_minutes_ago=20)  # replication broken, the source alive
    h = Harness(world, tmp_path / "audit.jsonl")  # primary up, --force
    result = h.run()
    assert result.exit_code == EXIT_REFUSED
    assert "failover_max_lag_seconds 300" in h.lines()[0]["detail"]["error"]


def test_a_lag_that_was_already_too_high_before_the_outage_refuses(world: Standby, tmp_path: Path) -> None:
    outage_lag(world, healthy_lag=400.0, outage_minutes_ago=10)
    h = Harness(world, tmp_path / "audit.jsonl", primary="unreachable")
    assert h.run(force=False).exit_code == EXIT_REFUSED
    # 400 s before the stall, 460 s at its first datapoint: the bound, at one period's resolution
    assert "replica lag 460 s > failover_max_lag_seconds 300" in h.lines()[0]["detail"]["error"]


class Answers:
    """A primary-region client that answers every call with an AWS error (the region is up)."""

    def __init__(self, code: str, region: str, calls: list[tuple[str, str]]) -> None:
        self.code, self.region, self.calls = code, region, calls

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((self.region, name))
            raise ClientError({"Error": {"Code": self.code, "Message": "injected"}}, name)

        return call


@pytest.mark.parametrize("code", ["ThrottlingException", "AccessDenied", "InternalFailure"])
def test_an_error_answer_from_the_primary_is_not_an_outage(world: Standby, tmp_path: Path, code: str) -> None:
    h = Harness(world, tmp_path / "audit.jsonl")
    h.primary_rds = Answers(code, world.primary.name, h.calls)
    result = h.run(force=False)
    assert result.exit_code == EXIT_REFUSED, h.lines()
    (record,) = h.lines()
    assert f"answered with an error ({code}" in record["detail"]["error"]
    assert "did not answer" not in json.dumps(record)
    assert [c for c in h.calls if is_mutating(c[1])] == []


@pytest.mark.parametrize("code", ["ThrottlingException", "AccessDenied"])
def test_a_fence_that_errors_is_not_a_fence(world: Standby, tmp_path: Path, code: str) -> None:
    h = Harness(world, tmp_path / "audit.jsonl")
    h.primary_autoscaling.fail["update_auto_scaling_group"] = lambda: ClientError(
        {"Error": {"Code": code, "Message": "injected"}}, "UpdateAutoScalingGroup"
    )
    result = h.run()  # --force: the primary answers
    assert result.exit_code == EXIT_STEP_FAILED and result.failed_step == "fence-primary"
    fence = h.lines()[-1]
    assert (
        fence["status"] == "failed"
        and code in fence["detail"]["error"]
        and "may still serve" in fence["detail"]["error"]
    )
    assert h.count("promote_read_replica") == 0 and world.switch_values() == []
    assert h.run().exit_code == EXIT_OK, h.lines()  # the rerun retries the fence
    assert world.asg(world.primary, world.topo.web_asg_name(PRIMARY))["DesiredCapacity"] == 0


class Replaced:
    """A client with one method replaced."""

    def __init__(self, client: Any, method: str, replacement: Any) -> None:
        self.client, self.method, self.replacement = client, method, replacement

    def __getattr__(self, name: str) -> Any:
        return self.replacement if name == self.method else getattr(self.client, name)


class Crash(BaseException):
    """The process killed: not an Exception, so nothing records a failure."""


def final_state(world: Standby) -> dict[str, Any]:
    topo = world.topo
    writer = world.db(world.dr, topo.db_instance_id(DR)) or {}
    return {
        "replica": bool(writer.get("ReadReplicaSourceDBInstanceIdentifier")),
        "multi_az": writer.get("MultiAZ"),
        "backup_retention": writer.get("BackupRetentionPeriod"),
        "dr_web": world.asg(world.dr, topo.web_asg_name(DR))["DesiredCapacity"],
        "primary_web": world.asg(world.primary, topo.web_asg_name(PRIMARY))["DesiredCapacity"],
        "switch": world.switch_values(),
        "secret": world.secrets.stopped[-1:],
    }


CRASH_POINTS = [
    ("primary_autoscaling", "update_auto_scaling_group"),  # fence-primary
    ("autoscaling", "update_auto_scaling_group"),  # scale-dr-web
    ("rds", "promote_read_replica"),  # promote-replica, the irreversible step
    ("cloudwatch", "put_metric_data"),  # flip-switch
    ("rds", "add_tags_to_resource"),  # harden-writer
]


@pytest.mark.parametrize("when", ["before the call", "after the call"])
@pytest.mark.parametrize(("client", "method"), CRASH_POINTS)
def test_a_crash_at_any_step_then_a_rerun_ends_like_an_uninterrupted_run(
    world: Standby, tmp_path: Path, client: str, method: str, when: str
) -> None:
    h = Harness(world, tmp_path / "audit.jsonl")
    target = getattr(h, client)
    real = getattr(target.client, method)

    def crash(**kwargs: Any) -> Any:
        if when == "after the call":
            real(**kwargs)
        raise Crash(f"killed {when} {method}")

    original = target.client
    target.client = type(
        "Crashing", (), {"__getattr__": lambda _, name: crash if name == method else getattr(original, name)}
    )()
    with pytest.raises(Crash):
        h.run(run_id="crash-1")
    target.client = original
    assert h.run(run_id="crash-1").exit_code == EXIT_OK, h.lines()
    lost = when == "before the call" and method == "promote_read_replica"
    assert h.count("promote_read_replica") == 1 + lost  # made once: never repeated, never lost
    promote = [r for r in h.lines() if r["step"] == "promote-replica" and r["status"] == "done"]
    assert [r["detail"]["promote_called"] for r in promote] == [method != "promote_read_replica" or lost]
    assert final_state(world) == {
        "replica": False,
        "multi_az": True,
        "backup_retention": world.topo.db_backup_retention_days,
        "dr_web": world.topo.primary_web_min_capacity,
        "primary_web": 0,
        "switch": [1.0],
        "secret": [f"{world.topo.db_instance_id(PRIMARY)}/master"],
    }
    fence = next(r for r in h.lines() if r["step"] == "fence-primary" and r["status"] == "done")
    assert fence["detail"]["previous_desired"] == world.topo.primary_web_min_capacity


def test_a_promotion_that_never_went_out_is_made_on_the_rerun(h: Harness, world: Standby) -> None:
    h.rds.fail["promote_read_replica"] = lambda: ClientError(
        {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "PromoteReadReplica"
    )
    first = h.run()
    assert first.failed_step == "promote-replica" and world.switch_values() == []
    second = h.run()
    assert second.exit_code == EXIT_OK, h.lines()
    promote = [r for r in h.lines() if r["step"] == "promote-replica"][-1]
    assert promote["detail"]["promote_called"] is True and promote["detail"]["resumed"] is True
    resumed = [r for r in h.lines() if r["step"] == "preconditions"][-1]
    assert resumed["detail"]["resumed_after_promotion"] is False  # nothing had been promoted
    assert world.switch_values() == [1.0]


@pytest.mark.parametrize(
    ("run_id", "allowed"),
    [
        ("20261201T1408-abc123", True),
        ("fo_1", False),
        ("fo--1", False),
        ("fo-1-", False),
        ("-fo", False),
        ("fo 1", False),
        ("a" * 24, True),
        ("a" * 25, False),  # au-production-primary-postgres-retired-<25> would be 64 characters
    ],
)
def test_run_ids_must_fit_into_rds_identifiers(h: Harness, run_id: str, allowed: bool) -> None:
    result = h.run(run_id=run_id, execute=False)
    assert (result.exit_code == EXIT_OK) is allowed
    if not allowed:
        assert result.exit_code == EXIT_REFUSED and not h.log.exists()


@pytest.mark.parametrize("capacity", [0, -1])
def test_a_capacity_below_one_is_refused(h: Harness, capacity: int) -> None:
    assert h.run(capacity=capacity).exit_code == EXIT_REFUSED
    assert "--capacity" in h.lines()[0]["detail"]["error"]
    assert [c for c in h.calls if is_mutating(c[1])] == []


@pytest.mark.parametrize("capacity", ["0", "-1", "two"])
def test_the_cli_refuses_a_capacity_below_one(capacity: str) -> None:
    result = run_runbook("failover", "--deployment", "au-production", "--capacity", capacity)
    assert result.returncode == EXIT_REFUSED and "--capacity" in result.stderr and "1 or more" in result.stderr


def test_one_failed_poll_does_not_fail_the_wait_and_the_wait_prints_progress(h: Harness) -> None:
    failures = iter([ClientError({"Error": {"Code": "Throttling", "Message": "x"}}, "DescribeTargetHealth")] * 2)
    out = io.StringIO()
    failover = h.failover()
    failover.out = out
    elbv2 = failover.elbv2
    real = elbv2.describe_target_health

    def flaky(**kwargs: Any) -> Any:
        error = next(failures, None)
        if error is not None:
            raise error
        return real(**kwargs)

    failover.elbv2 = type(
        "Flaky", (), {"__getattr__": lambda _, n: flaky if n == "describe_target_health" else getattr(elbv2, n)}
    )()
    result = failover.run(FailoverOptions(reason=REASON, force=True), run_id="fo-poll", execute=True)
    assert result.exit_code == EXIT_OK, h.lines()
    assert "waiting for a healthy target" in out.getvalue() and "last poll failed: ClientError" in out.getvalue()

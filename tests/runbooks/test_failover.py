"""Failover automation (DR-2) against moto in two regions (see conftest.py for moto's gaps)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from config.topology import DR, PRIMARY, SWITCH_METRIC, SWITCH_NAMESPACE
from runbooks.failover import Failover, FailoverOptions
from runbooks.toolkit import EXIT_OK, EXIT_REFUSED, EXIT_STEP_FAILED, AuditLog
from tests.runbooks.conftest import FakeAnswer, Recorder, Standby, Unreachable, is_mutating

REPO = Path(__file__).resolve().parents[2]
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
    assert result.exit_code == EXIT_OK, h.lines()
    fence = next(r for r in h.lines() if r["step"] == "fence-primary")
    assert fence["status"] == "skipped" and "EndpointConnectionError" in fence["detail"]["error"]
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
    result = subprocess.run(
        [sys.executable, "-m", "runbooks.failover", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "DR-2" in result.stdout and "--execute" in result.stdout and "Dry run unless --execute" in result.stdout


def test_cli_unknown_deployment_lists_the_allowed_names() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "runbooks.failover", "--deployment", "mars-production"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
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

"""Failback automation (DR-2, OPS-5) against moto: fail over first, then come back."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import moto.rds.models
import moto.s3.models
import pytest
from moto.core.utils import utcnow

from config.topology import DR, PRIMARY
from runbooks.failback import Failback, FailbackOptions, RegionClients
from runbooks.toolkit import EXIT_OK, EXIT_REFUSED, EXIT_STEP_FAILED, AuditLog
from tests.runbooks import strict_emulator
from tests.runbooks.conftest import FakeAnswer, Recorder, Region, Standby, Unreachable, is_mutating
from tests.runbooks.declared_stacks import DeclaringStacks, declaring_stacks
from tests.runbooks.test_failover import Harness, PutCapture, switch_in_minute_of

IN_WINDOW = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)  # au-production: Sun 16:00 UTC for 3 h
OUTSIDE = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
STEPS = [
    "preconditions",
    "pause-primary-rotation",
    "fence-old-primary",
    "create-primary-replica",
    "reverse-replication",
    "scale-primary-web",
    "stop-dr-web",
    "retire-dr-writer",
    "promote-primary",
    "reset-primary-password",
    "flip-switch",
    "verify",
    "create-dr-replica",
    "replicate-secret",
    "resume-rotation",
    "remove-reverse-replication",
    "scale-dr-web",
]


class Back:
    def __init__(
        self, world: Standby, tmp_path: Path, failover_log: Path | None, stacks: dict[str, DeclaringStacks]
    ) -> None:
        self.world = world
        self.log = tmp_path / "failback.jsonl"
        self.failover_log = failover_log
        self.calls: list[tuple[str, str]] = []
        self.answer = FakeAnswer()
        self.dr = self._clients(world.dr, stacks[DR])
        self.primary = self._clients(world.primary, stacks[PRIMARY])

    def _clients(self, region: Region, stacks: DeclaringStacks) -> RegionClients:
        services = (region.rds, region.autoscaling, region.cloudwatch, region.s3, region.elbv2, region.secretsmanager)
        return RegionClients(*(Recorder(client, region.name, self.calls) for client in (*services, stacks)))

    def run(self, run_id: str = "fb-1", *, execute: bool = True, now: datetime = IN_WINDOW, **options: Any) -> Any:
        failback = Failback(
            self.world.topo,
            dr=self.dr,
            primary=self.primary,
            public_answer=self.answer,
            audit_log=AuditLog(self.log),
            sleep=self.world.clock.sleep,
            clock=self.world.clock,
            now=lambda: now,
            out=io.StringIO(),
        )
        values: dict[str, Any] = {"failover_audit_log": self.failover_log}
        values.update(options)
        return failback.run(FailbackOptions(**values), run_id=run_id, execute=execute)

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def count(self, method: str) -> int:
        return sum(1 for _, name in self.calls if name == method)


@pytest.fixture(autouse=True)
def _strict_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    strict_emulator.apply(monkeypatch)


@pytest.fixture
def stacks(world: Standby, au_production: dict[str, Any]) -> dict[str, DeclaringStacks]:
    return declaring_stacks(world, au_production)


def encrypt_content_buckets(world: Standby) -> None:
    """Every object of the content buckets is SSE-KMS with the region's customer key (ENC-1)."""
    for role, region in ((PRIMARY, world.primary), (DR, world.dr)):
        rule = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": world.topo.customer_key_alias_arn(role)}
        region.s3.put_bucket_encryption(
            Bucket=world.topo.content_bucket(role),
            ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": rule}]},
        )


@pytest.fixture
def failed_over(world: Standby, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Fail over for real, then write to the DR bucket as the application would."""
    topo = world.topo
    encrypt_content_buckets(world)
    world.primary.s3.put_object(Bucket=topo.content_bucket(PRIMARY), Key="old.txt", Body=b"before")
    world.dr.s3.put_object(Bucket=topo.content_bucket(DR), Key="old.txt", Body=b"before")  # replicated (RTC)
    harness = Harness(world, tmp_path / "failover.jsonl")
    assert harness.run().exit_code == EXIT_OK
    # S3 LastModified has one-second resolution: the writes happen 1.1 s after the failover, by moto's
    # S3 clock (what a real 1.1 s sleep here did, without the wait).
    with monkeypatch.context() as later:
        later.setattr(moto.s3.models, "utcnow", lambda: utcnow() + timedelta(seconds=1.1))
        for key in ("tenant-a/new.txt", "tenant-b/new.txt"):
            world.dr.s3.put_object(Bucket=topo.content_bucket(DR), Key=key, Body=key.encode())
    world.primary.cloudwatch.put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": topo.db_instance_id(PRIMARY)}],
                "Value": 0.0,
                "Timestamp": IN_WINDOW - timedelta(minutes=1),  # the tests' clock for the failback
            }
        ],
    )
    return harness.log


def test_failback_returns_to_the_starting_topology(
    world: Standby, tmp_path: Path, failed_over: Path, stacks: dict[str, DeclaringStacks]
) -> None:
    back = Back(world, tmp_path, failed_over, stacks)
    result = back.run()
    assert result.exit_code == EXIT_OK, back.lines()[-1]
    executed = [r["step"] for r in back.lines() if r["status"] in ("done", "skipped")]
    assert executed == [*STEPS, "failback"]
    assert all(r["clause"] == "DR-2" for r in back.lines())
    topo = world.topo
    writer = world.db(world.primary, topo.db_instance_id(PRIMARY))
    assert writer is not None and not writer.get("ReadReplicaSourceDBInstanceIdentifier")
    assert world.db(world.primary, f"{topo.db_instance_id(PRIMARY)}-fenced-fb-1") is not None
    replica = world.db(world.dr, topo.db_instance_id(DR))
    assert replica is not None
    assert str(replica["ReadReplicaSourceDBInstanceIdentifier"]).endswith(topo.db_instance_id(PRIMARY))
    assert world.db(world.dr, f"{topo.db_instance_id(DR)}-retired-fb-1") is not None
    # The 0 is stamped with the failback's clock (IN_WINDOW), the failover's 1 with the real time.
    assert switch_in_minute_of(world, IN_WINDOW, "Maximum") == 0.0
    assert world.asg(world.primary, topo.web_asg_name(PRIMARY))["DesiredCapacity"] == topo.primary_web_min_capacity
    assert world.asg(world.dr, topo.web_asg_name(DR))["DesiredCapacity"] == topo.standby_web_min_capacity
    keys = {o["Key"] for o in world.primary.s3.list_objects_v2(Bucket=topo.content_bucket(PRIMARY))["Contents"]}
    assert keys == {"old.txt", "tenant-a/new.txt", "tenant-b/new.txt"}
    copied = next(r for r in back.lines() if r["step"] == "reverse-replication")
    # The two DR writes; old.txt too when it was written in the flip's second (LastModified is in seconds).
    assert copied["detail"]["copied"] in (2, 3)
    assert ("ap-southeast-4", "delete_bucket_replication") in back.calls
    assert back.count("promote_read_replica") == 1
    # The master secret replicates to DR again, as the primary's stack declares (ReplicaRegions).
    secret = world.primary.secretsmanager.describe_secret(SecretId=f"{topo.db_instance_id(PRIMARY)}/master")
    assert [r["Region"] for r in secret.get("ReplicationStatus", [])] == [topo.dr_region]
    assert ("ap-southeast-2", "replicate_secret_to_regions") in back.calls


def test_the_switch_back_is_stamped_with_the_runners_clock(
    world: Standby, tmp_path: Path, failed_over: Path, stacks: dict[str, DeclaringStacks]
) -> None:
    back = Back(world, tmp_path, failed_over, stacks)
    capture = PutCapture(world.dr.cloudwatch)
    back.dr = dataclasses.replace(back.dr, cloudwatch=Recorder(capture, world.dr.name, back.calls))
    assert back.run(now=IN_WINDOW).exit_code == EXIT_OK, back.lines()[-1]
    (put,) = capture.puts
    (datum,) = put["MetricData"]
    assert (datum["Value"], datum["Timestamp"]) == (0.0, IN_WINDOW)
    flip = next(r for r in back.lines() if r["step"] == "flip-switch" and r["status"] == "done")
    assert flip["detail"]["timestamp"] == IN_WINDOW.isoformat()
    assert switch_in_minute_of(world, IN_WINDOW, "Minimum") == 0.0


def test_dry_run_changes_nothing(
    world: Standby, tmp_path: Path, failed_over: Path, stacks: dict[str, DeclaringStacks]
) -> None:
    back = Back(world, tmp_path, failed_over, stacks)
    result = back.run(execute=False)
    assert result.outcome == "planned"
    assert [c for c in back.calls if is_mutating(c[1])] == []
    assert [r["status"] for r in back.lines()] == ["done"] + ["planned"] * (len(STEPS) - 1)


def test_outside_the_window_is_refused_unless_overridden_with_a_reason(
    world: Standby, tmp_path: Path, failed_over: Path, stacks: dict[str, DeclaringStacks]
) -> None:
    back = Back(world, tmp_path, failed_over, stacks)
    refused = back.run(now=OUTSIDE)
    assert refused.exit_code == EXIT_REFUSED
    assert "outside the announced maintenance window" in back.lines()[-1]["detail"]["error"]
    assert back.run("fb-2", now=OUTSIDE, outside_window=True).exit_code == EXIT_REFUSED
    assert "needs --reason" in back.lines()[-1]["detail"]["error"]
    allowed = back.run("fb-3", now=OUTSIDE, outside_window=True, reason="CAB-7: approved by CTO", execute=False)
    assert allowed.exit_code == EXIT_OK
    assert [c for c in back.calls if is_mutating(c[1])] == []


def test_no_failover_to_fail_back_from_is_refused(
    world: Standby, tmp_path: Path, stacks: dict[str, DeclaringStacks]
) -> None:
    back = Back(world, tmp_path, None, stacks)
    result = back.run(since=datetime(2026, 1, 1, tzinfo=UTC))
    assert result.exit_code == EXIT_REFUSED
    assert "is not a writer" in back.lines()[-1]["detail"]["error"]


def test_missing_failover_time_is_refused(
    world: Standby, tmp_path: Path, failed_over: Path, stacks: dict[str, DeclaringStacks]
) -> None:
    back = Back(world, tmp_path, tmp_path / "no-such-log.jsonl", stacks)
    assert back.run().exit_code == EXIT_REFUSED
    assert "pass --since" in back.lines()[-1]["detail"]["error"]


def test_unreachable_primary_region_is_refused(
    world: Standby, tmp_path: Path, failed_over: Path, stacks: dict[str, DeclaringStacks]
) -> None:
    back = Back(world, tmp_path, failed_over, stacks)
    down = Unreachable(world.primary.name, back.calls)
    back.primary = RegionClients(down, down, down, down, down, down, down)
    assert back.run().exit_code == EXIT_REFUSED
    assert "primary region does not answer" in back.lines()[-1]["detail"]["error"]


def test_crash_after_promotion_resumes_without_repeating_it(
    world: Standby, tmp_path: Path, failed_over: Path, stacks: dict[str, DeclaringStacks]
) -> None:
    back = Back(world, tmp_path, failed_over, stacks)
    back.dr.cloudwatch.fail["put_metric_data"] = lambda: RuntimeError("process killed")
    first = back.run()
    assert first.exit_code == EXIT_STEP_FAILED and first.failed_step == "flip-switch"
    second = back.run()
    assert second.exit_code == EXIT_OK, back.lines()[-1]
    assert back.count("promote_read_replica") == 1
    assert back.count("create_db_instance_read_replica") == 2  # the new primary replica, the new DR replica
    before, calls = back.log.read_text(), len(back.calls)
    third = back.run()
    assert third.outcome == "already-completed"
    assert back.log.read_text() == before
    assert [c for c in back.calls[calls:] if is_mutating(c[1])] == []


@pytest.mark.parametrize("run_id", ["bad_id", "ends-", "a--b", "x" * 40])
def test_a_run_id_that_cannot_go_into_an_rds_identifier_is_refused_before_anything(
    world: Standby, tmp_path: Path, failed_over: Path, stacks: dict[str, DeclaringStacks], run_id: str
) -> None:
    """Issue 16 item 14: the run id names the fenced and retired instances; RDS identifiers allow letters,
    digits and single hyphens, at most 63 characters, and must not end with a hyphen."""
    back = Back(world, tmp_path, failed_over, stacks)
    result = back.run(run_id)
    assert result.exit_code == EXIT_REFUSED
    assert back.calls == []


def test_a_failover_whose_fence_is_still_pending_is_finished_first(
    world: Standby, tmp_path: Path, failed_over: Path, stacks: dict[str, DeclaringStacks]
) -> None:
    """Issue 16 item 11: failing back over a failover whose fence of the old primary is pending (the old web
    tier and writer may still take writes) is refused, naming the rerun that finishes the failover."""
    records = [json.loads(line) for line in failed_over.read_text().splitlines()]
    final = dict(records[-1])
    assert final["step"] == "failover" and final["status"] == "done"
    final["status"] = "pending"
    with failed_over.open("a") as log:
        log.write(json.dumps(final) + "\n")
    back = Back(world, tmp_path, failed_over, stacks)
    result = back.run()
    assert result.exit_code == EXIT_REFUSED
    error = back.lines()[-1]["detail"]["error"]
    assert "fence of the old primary is pending" in error and final["run_id"] in error


def test_the_new_primary_writer_takes_the_primary_secrets_password(
    world: Standby, tmp_path: Path, failed_over: Path, stacks: dict[str, DeclaringStacks]
) -> None:
    """The promoted writer inherits the DR writer's password; the primary web tier and the rotation
    function read the primary secret: the failback makes the two agree before traffic returns."""
    topo = world.topo
    world.dr.rds.modify_db_instance(
        DBInstanceIdentifier=topo.db_instance_id(DR), MasterUserPassword="changed-in-dr-1A!", ApplyImmediately=True
    )
    back = Back(world, tmp_path, failed_over, stacks)
    assert back.run().exit_code == EXIT_OK, back.lines()[-1]
    secret = world.primary.secretsmanager.get_secret_value(SecretId=f"{topo.db_instance_id(PRIMARY)}/master")
    backend = moto.rds.models.rds_backends[topo.account][topo.primary_region]
    writer = backend.databases[topo.db_instance_id(PRIMARY)]  # moto keeps it; its API never returns it
    assert writer._master_user_password == json.loads(secret["SecretString"])["password"]
    order = [name for _, name in back.calls if name in ("modify_db_instance", "promote_read_replica")]
    assert order.index("promote_read_replica") < len(order) - 1  # the reset follows the promotion
    reset = next(r for r in back.lines() if r["step"] == "reset-primary-password")
    assert "1A!" not in json.dumps(reset)

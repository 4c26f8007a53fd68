"""Issue 16 items 6, 11, 13: the master secret's replication, a pending fence, resuming without the local log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
from botocore.stub import Stubber

from config.topology import DR, PRIMARY
from runbooks.failover import PROCEDURE, RUN_TAG, Failover, durable_log_group
from runbooks.toolkit import EXIT_OK, EXIT_PENDING, EXIT_REFUSED, MirroredAuditLog
from tests.runbooks.conftest import Recorder, Standby, is_mutating
from tests.runbooks.test_failover import Harness


def secret_id(world: Standby) -> str:
    return f"{world.topo.db_instance_id(PRIMARY)}/master"


def failed_replication(world: Standby) -> Any:
    """The primary's DescribeSecret as AWS documents a replica that failed
    (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html, ReplicationStatus;
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/replicate-secrets.html: the caller needs the
    replica Region's KMS key, else the replica's status is Failed)."""
    client = boto3.client("secretsmanager", region_name=world.topo.primary_region)
    stubber = Stubber(client)
    stubber.add_response(
        "describe_secret",
        {
            "ARN": f"arn:aws:secretsmanager:{world.topo.primary_region}:{world.topo.account}:secret:x",
            "Name": secret_id(world),
            "ReplicationStatus": [
                {
                    "Region": world.topo.dr_region,
                    "KmsKeyId": "alias/system",
                    "Status": "Failed",
                    "StatusMessage": "Access to KMS is not allowed",
                }
            ],
        },
        {"SecretId": secret_id(world)},
    )
    stubber.activate()
    return client


def with_primary_secrets(h: Harness, client: Any) -> None:
    plain = h.failover

    def build() -> Failover:
        failover = plain()
        failover.primary_secretsmanager = client
        return failover

    h.failover = build  # type: ignore[method-assign]


def primary_down(world: Standby) -> None:
    world.primary.rds.stop_db_instance(DBInstanceIdentifier=world.topo.db_instance_id(PRIMARY))


# -- item 6 ------------------------------------------------------------------------------------


def test_a_failed_secret_replica_refuses_the_failover(world: Standby, tmp_path: Path) -> None:
    primary_down(world)
    h = Harness(world, tmp_path / "a.jsonl")
    with_primary_secrets(h, failed_replication(world))
    result = h.run(force=False)
    assert result.exit_code == EXIT_REFUSED
    [record] = h.lines()
    assert "is Failed (Access to KMS is not allowed)" in record["detail"]["error"]
    assert [c for c in h.calls if is_mutating(c[1])] == []


def test_force_fails_over_past_a_failed_secret_replica_and_says_so(world: Standby, tmp_path: Path) -> None:
    h = Harness(world, tmp_path / "a.jsonl")
    with_primary_secrets(h, failed_replication(world))
    assert h.run(force=True).exit_code == EXIT_OK, h.lines()
    checked = h.lines()[0]["detail"]["secret_replication"]
    assert checked["status"] == "Failed" and checked["forced"] is True and checked["basis"] == "primary"


def test_an_in_sync_replica_is_recorded(world: Standby, tmp_path: Path) -> None:
    primary_down(world)
    h = Harness(world, tmp_path / "a.jsonl")
    with_primary_secrets(h, world.primary.secretsmanager)
    assert h.run(force=False).exit_code == EXIT_OK, h.lines()
    assert h.lines()[0]["detail"]["secret_replication"]["status"] == "InSync"


def test_an_unreachable_primary_is_judged_by_the_dr_replica(world: Standby, tmp_path: Path) -> None:
    h = Harness(world, tmp_path / "a.jsonl", primary="unreachable")
    with_primary_secrets(h, h.primary_rds)  # the Unreachable stand-in answers nothing
    assert h.run(force=False).exit_code == EXIT_PENDING, h.lines()
    checked = h.lines()[0]["detail"]["secret_replication"]
    assert checked["status"] == "Unknown" and "EndpointConnectionError" in checked["primary_error"]
    assert checked["replica_last_changed"]


class RotatingAfterPromotion:
    """The DR secret, standalone after the promotion, with rotation on (e.g. turned on by hand)."""

    def __init__(self, secrets: Any) -> None:
        self.secrets = secrets
        self.cancelled: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.secrets, name)

    def describe_secret(self, SecretId: str) -> dict[str, Any]:  # noqa: N803
        secret: dict[str, Any] = self.secrets.describe_secret(SecretId=SecretId)
        if SecretId in self.secrets.stopped and SecretId not in self.cancelled:
            secret["RotationEnabled"] = True
        return secret

    def cancel_rotate_secret(self, SecretId: str) -> dict[str, Any]:  # noqa: N803
        self.cancelled.append(SecretId)
        return {"Name": SecretId}


def test_rotation_of_the_promoted_secret_is_paused_and_failback_is_told_to_reenable_it(
    world: Standby, tmp_path: Path
) -> None:
    rotating = RotatingAfterPromotion(world.secrets)
    h = Harness(world, tmp_path / "a.jsonl")
    plain = h.failover

    def build() -> Failover:
        failover = plain()
        failover.secretsmanager = Recorder(rotating, world.dr.name, h.calls)
        return failover

    h.failover = build  # type: ignore[method-assign]
    assert h.run().exit_code == EXIT_OK, h.lines()
    assert rotating.cancelled == [secret_id(world)]
    promoted = next(r for r in h.lines() if r["step"] == "promote-secret" and r["status"] == "done")
    rotation = promoted["detail"]["rotation"]
    assert rotation["was_enabled"] is True and rotation["reenable_at_failback"] is True
    assert rotation["reconcile_password_at_failback"] is True


# -- item 11 -----------------------------------------------------------------------------------


def test_a_fence_skipped_in_the_outage_is_pending_and_a_rerun_fences_once_the_region_returns(
    world: Standby, tmp_path: Path
) -> None:
    log = tmp_path / "a.jsonl"
    outage = Harness(world, log, primary="unreachable")
    first = outage.run(force=False)
    assert first.outcome == "completed" and first.exit_code == EXIT_PENDING and first.pending == ["fence-primary"]
    assert "NOT COMPLETE: pending fence-primary" in first.summary(PROCEDURE)
    assert outage.lines()[-1]["step"] == "failover" and outage.lines()[-1]["status"] == "pending"
    asg = world.topo.web_asg_name(PRIMARY)
    assert world.asg(world.primary, asg)["DesiredCapacity"] == world.topo.primary_web_min_capacity  # still live

    back = Harness(world, log)  # the region answers again
    second = back.run(force=False)
    assert second.exit_code == EXIT_OK and second.outcome == "completed", back.lines()
    assert world.asg(world.primary, asg)["DesiredCapacity"] == 0
    assert back.count("promote_read_replica") == 0 and back.count("put_metric_data") == 0
    assert back.count("update_auto_scaling_group") == 1  # the fence only
    assert back.lines()[-1]["step"] == "failover" and back.lines()[-1]["status"] == "done"
    assert back.run(force=False).outcome == "already-completed"


# -- item 13 -----------------------------------------------------------------------------------


def crash_after_promotion(h: Harness) -> None:
    h.cloudwatch.fail["put_metric_data"] = lambda: RuntimeError("process killed")
    assert h.run().failed_step == "flip-switch"


def test_a_rerun_after_promotion_without_the_local_log_completes_from_what_aws_says(
    world: Standby, tmp_path: Path
) -> None:
    h = Harness(world, tmp_path / "a.jsonl")
    crash_after_promotion(h)
    h.log.unlink()
    result = h.run()
    assert result.exit_code == EXIT_OK, h.lines()
    assert h.count("promote_read_replica") == 1
    assert world.switch_values() == [1.0]
    promote = [r for r in h.lines() if r["step"] == "promote-replica"]
    assert promote[0]["status"] == "started" and promote[0]["detail"]["reconstructed"]["db"] == "writer"
    assert promote[-1]["status"] == "done" and promote[-1]["detail"]["promote_called"] is False
    scale = next(r for r in h.lines() if r["step"] == "scale-dr-web")
    assert scale["detail"]["capacity"] == world.topo.primary_web_min_capacity


def test_another_run_id_after_a_promotion_is_still_refused(world: Standby, tmp_path: Path) -> None:
    h = Harness(world, tmp_path / "a.jsonl")
    crash_after_promotion(h)
    h.log.unlink()
    assert h.run(run_id="fo-other").exit_code == EXIT_REFUSED
    assert "not a read replica" in h.lines()[-1]["detail"]["error"]


def test_the_promotion_names_the_run_on_the_database(world: Standby, tmp_path: Path) -> None:
    h = Harness(world, tmp_path / "a.jsonl")
    assert h.run().exit_code == EXIT_OK
    writer = world.db(world.dr, world.topo.db_instance_id(DR))
    assert writer is not None
    tags = world.dr.rds.list_tags_for_resource(ResourceName=writer["DBInstanceArn"])["TagList"]
    assert {"Key": RUN_TAG, "Value": "fo-1"} in tags


def test_every_record_is_copied_to_the_dr_log_group_and_restored_from_it(world: Standby, tmp_path: Path) -> None:
    logs = boto3.client("logs", region_name=world.topo.dr_region)
    group = durable_log_group(world.topo)
    h = Harness(world, tmp_path / "a.jsonl")
    plain = h.failover

    def build() -> Failover:
        failover = plain()
        failover.audit = MirroredAuditLog(h.log, logs, group, prefix="failover-")
        return failover

    h.failover = build  # type: ignore[method-assign]
    crash_after_promotion(h)
    copied = logs.get_log_events(logGroupName=group, logStreamName="failover-fo-1", startFromHead=True)["events"]
    assert len(copied) == len(h.lines())
    h.log.unlink()
    assert h.run().exit_code == EXIT_OK, h.lines()
    assert h.count("promote_read_replica") == 1
    assert not any("reconstructed" in r["detail"] for r in h.lines())  # restored, not reconstructed
    assert world.switch_values() == [1.0]


def test_a_failing_copy_never_fails_a_step(world: Standby, tmp_path: Path) -> None:
    class Broken:
        def __getattr__(self, name: str) -> Any:
            def fail(**_: Any) -> Any:
                raise RuntimeError("AccessDenied: logs:PutLogEvents")

            return fail

    h = Harness(world, tmp_path / "a.jsonl")
    audit = MirroredAuditLog(h.log, Broken(), "/x", prefix="failover-")
    plain = h.failover

    def build() -> Failover:
        failover = plain()
        failover.audit = audit
        return failover

    h.failover = build  # type: ignore[method-assign]
    assert h.run().exit_code == EXIT_OK
    assert audit.mirror_errors and len(h.lines()) == 10

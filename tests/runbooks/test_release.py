"""runbooks/release.py (OPS-7, DR-1) against moto, with the emulator's instance refresh.

The refresh is tooling/emulator/instance_refresh.py (moto has none).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from config import Release, load_config
from config.topology import DR, PRIMARY, FailoverTopology
from patterns.release_boot import boot_commands, pinned_release
from runbooks.release import (
    NoMigrations,
    RegionClients,
    ReleasePlan,
    check_release_skew,
    release_skew,
    rollback_target,
)
from runbooks.toolkit import AuditLog, RefusedError, StepRunner
from tooling.emulator.instance_refresh import InstanceRefreshModel

T = FailoverTopology.of(load_config().get("au-production"))


class World:
    def __init__(self, tmp: Path) -> None:
        self.now = 0.0
        self.unhealthy: set[str] = set()
        self.clients: dict[str, RegionClients] = {}
        self.models: dict[str, InstanceRefreshModel] = {}
        self.cloudwatch: dict[str, Any] = {}
        for role in (DR, PRIMARY):
            self._region(role)
        self.audit = AuditLog(tmp / "release.jsonl")

    def _region(self, role: str) -> None:
        region = T.region(role)
        s = boto3.Session(region_name=region, aws_access_key_id="k", aws_secret_access_key="s")
        ec2, s3, ssm, cw = s.client("ec2"), s.client("s3"), s.client("ssm"), s.client("cloudwatch")
        s3.create_bucket(Bucket=T.release_bucket(role), CreateBucketConfiguration={"LocationConstraint": region})
        script = "#!/bin/bash\n" + "\n".join(
            boot_commands(
                app_port=8080,
                health_check_path="/health",
                release_bucket=T.release_bucket(role),
                region=region,
                release=None,
            )
        )
        lt = ec2.create_launch_template(
            LaunchTemplateName=T.web_launch_template_name(role),
            LaunchTemplateData={"ImageId": "ami-12345678", "UserData": base64.b64encode(script.encode()).decode()},
        )["LaunchTemplate"]
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
        asg = s.client("autoscaling")
        asg.create_auto_scaling_group(
            AutoScalingGroupName=T.web_asg_name(role),
            LaunchTemplate={"LaunchTemplateId": lt["LaunchTemplateId"], "Version": "1"},
            MinSize=2,
            MaxSize=6,
            DesiredCapacity=2,
            VPCZoneIdentifier=subnet,
        )
        for name in T.web_rollback_alarm_names(role):
            cw.put_metric_alarm(
                AlarmName=name, MetricName="m", Namespace="n", Statistic="Sum", Period=60,
                EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
            )  # fmt: skip
        model = InstanceRefreshModel(
            asg, cloudwatch=cw, ec2=ec2, clock=lambda: self.now, healthy=lambda g, t: g not in self.unhealthy
        )
        self.models[role], self.cloudwatch[role] = model, cw
        self.clients[role] = RegionClients(s3=s3, ec2=ec2, autoscaling=model, ssm=ssm)

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        for role, model in self.models.items():
            model.advance(T.web_asg_name(role))

    def release(self, release: Release, artifact: Path | None, *, run_id: str, execute: bool = True) -> Any:
        plan = ReleasePlan(
            T,
            self.clients,
            release=release,
            artifact=artifact,
            migrations=NoMigrations(),
            sleep=self.sleep,
            clock=lambda: self.now,
        )
        runner = StepRunner(self.audit, run_id=run_id, clause="OPS-7", execute=execute, clock=lambda: self.now)
        return runner.run(plan.steps())

    def trip(self, role: str, name: str) -> None:
        self.cloudwatch[role].set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test")

    def booted(self, role: str) -> tuple[str, str] | None:
        group = self.clients[role].autoscaling.describe_auto_scaling_groups(
            AutoScalingGroupNames=[T.web_asg_name(role)]
        )
        spec = group["AutoScalingGroups"][0]["LaunchTemplate"]
        data = self.clients[role].ec2.describe_launch_template_versions(
            LaunchTemplateId=spec["LaunchTemplateId"], Versions=[str(spec["Version"])]
        )["LaunchTemplateVersions"][0]["LaunchTemplateData"]
        return pinned_release(base64.b64decode(data["UserData"]).decode())


def _artifact(tmp: Path, content: bytes) -> tuple[Path, Release]:
    import hashlib

    path = tmp / f"app-{len(content)}.tar.gz"
    path.write_bytes(content)
    return path, Release(f"{len(content)}.0.0", hashlib.sha256(content).hexdigest())


@pytest.fixture
def world(tmp_path: Path) -> Any:
    with mock_aws():
        yield World(tmp_path)


def test_release_rolls_onto_dr_then_primary_and_records_both(world: World, tmp_path: Path) -> None:
    path, v1 = _artifact(tmp_path, b"v1")
    dry = world.release(v1, path, run_id="dry", execute=False)
    assert dry.exit_code == 0 and world.booted(PRIMARY) == ("", "")
    result = world.release(v1, path, run_id="r1")
    assert result.exit_code == 0, result.failed_step
    steps = [r.step for r in result.records if r.status == "done"]
    assert steps.index("rollout-dr") < steps.index("rollout-primary")
    for role in (DR, PRIMARY):
        assert world.booted(role) == (v1.version, v1.sha256)
        tags = world.clients[role].s3.get_object_tagging(Bucket=T.release_bucket(role), Key=v1.artifact_key)["TagSet"]
        assert {"Key": "release-state", "Value": "released"} in tags
        record = json.loads(world.clients[role].ssm.get_parameter(Name=T.release_parameter(role))["Parameter"]["Value"])
        assert record["version"] == v1.version
    refresh = world.models[PRIMARY].refreshes[T.web_asg_name(PRIMARY)][0]
    assert refresh.preferences["MinHealthyPercentage"] == 100 and refresh.preferences["AutoRollback"] is True
    assert refresh.checkpoints_passed == [50, 100]
    assert release_skew(world.clients[DR].ssm, T) is None
    again = world.release(v1, path, run_id="r1")
    assert again.outcome == "already-completed"


def test_a_tripped_alarm_rolls_the_refresh_back_and_the_primary_is_never_touched(world: World, tmp_path: Path) -> None:
    path, v1 = _artifact(tmp_path, b"v1")
    assert world.release(v1, path, run_id="r1").exit_code == 0
    path2, v2 = _artifact(tmp_path, b"v2-bad")
    world.trip(DR, T.web_rollback_alarm_names(DR)[0])
    result = world.release(v2, path2, run_id="r2")
    assert result.exit_code == 1 and result.failed_step == "rollout-dr"
    assert world.models[DR].refreshes[T.web_asg_name(DR)][0].status == "RollbackSuccessful"
    assert world.booted(DR) == (v1.version, v1.sha256) and world.booted(PRIMARY) == (v1.version, v1.sha256)
    assert release_skew(world.clients[DR].ssm, T) is None


def test_unhealthy_replacements_roll_back(world: World, tmp_path: Path) -> None:
    path, v1 = _artifact(tmp_path, b"v1")
    world.unhealthy.add(T.web_asg_name(DR))
    assert world.release(v1, path, run_id="r1").failed_step == "rollout-dr"
    assert world.booted(DR) == ("", "")


def test_refuses_an_artifact_whose_digest_is_not_the_pin_and_an_overwrite(world: World, tmp_path: Path) -> None:
    path, v1 = _artifact(tmp_path, b"v1")
    wrong = Release(v1.version, "0" * 64)
    assert world.release(wrong, path, run_id="bad").exit_code == 2
    world.clients[DR].s3.put_object(
        Bucket=T.release_bucket(DR), Key=v1.artifact_key, Body=b"x", Metadata={"sha256": "f" * 64}
    )
    result = world.release(v1, path, run_id="r1")
    assert result.exit_code == 2 and result.failed_step == "upload-dr"


def test_skew_is_reported_when_regions_differ(world: World, tmp_path: Path) -> None:
    path, v1 = _artifact(tmp_path, b"v1")
    assert world.release(v1, path, run_id="r1").exit_code == 0
    dr = world.clients[DR].ssm
    record = json.loads(dr.get_parameter(Name=T.release_parameter(DR))["Parameter"]["Value"])
    assert record["primary"] == {"version": v1.version, "sha256": v1.sha256}
    assert check_release_skew(dr, T, accept=False) == {"checked": True, "skew": None, "accepted": False}
    record["primary"] = {"version": "9.0.0", "sha256": "a" * 64}
    dr.put_parameter(Name=T.release_parameter(DR), Value=json.dumps(record), Type="String", Overwrite=True)
    assert "9.0.0" in (release_skew(dr, T) or "")
    with pytest.raises(RefusedError, match="accept-release-skew"):
        check_release_skew(dr, T, accept=False)
    assert check_release_skew(dr, T, accept=True)["accepted"] is True


def test_skew_when_the_dr_region_released_and_the_primary_failed(world: World, tmp_path: Path) -> None:
    path, v1 = _artifact(tmp_path, b"v1")
    assert world.release(v1, path, run_id="r1").exit_code == 0
    path2, v2 = _artifact(tmp_path, b"v2-bad")
    world.trip(PRIMARY, T.web_rollback_alarm_names(PRIMARY)[1])
    result = world.release(v2, path2, run_id="r2")
    assert result.failed_step == "rollout-primary"
    assert world.booted(DR) == (v2.version, v2.sha256) and world.booted(PRIMARY) == (v1.version, v1.sha256)
    assert f"the primary last ran {v1.version!r}" in (release_skew(world.clients[DR].ssm, T) or "")


@pytest.mark.parametrize(
    "preferences",
    [
        {"MinHealthyPercentage": 101},
        {"MaxHealthyPercentage": 250},
        {"CheckpointPercentages": [100, 50]},
        {"CheckpointDelay": 10},
        {"BakeTime": 172801},
    ],
)
def test_emulator_refuses_what_aws_refuses(world: World, preferences: dict[str, Any]) -> None:
    with pytest.raises(ClientError, match="ValidationError"):
        world.models[DR].start_instance_refresh(AutoScalingGroupName=T.web_asg_name(DR), Preferences=preferences)


def test_emulator_refuses_auto_rollback_on_latest_and_a_second_refresh(world: World) -> None:
    model, group = world.models[DR], T.web_asg_name(DR)
    latest = {"LaunchTemplate": {"LaunchTemplateName": T.web_launch_template_name(DR), "Version": "$Latest"}}
    with pytest.raises(ClientError, match="AutoRollback"):
        model.start_instance_refresh(
            AutoScalingGroupName=group, DesiredConfiguration=latest, Preferences={"AutoRollback": True}
        )
    model.start_instance_refresh(AutoScalingGroupName=group)
    with pytest.raises(ClientError, match="InstanceRefreshInProgress"):
        model.start_instance_refresh(AutoScalingGroupName=group)


def test_rollback_releases_the_previous_release_from_the_buckets(world: World, tmp_path: Path) -> None:
    path, v1 = _artifact(tmp_path, b"v1")
    path2, v2 = _artifact(tmp_path, b"v2-ok")
    with pytest.raises(RefusedError, match="nothing to roll back"):
        rollback_target(world.clients[PRIMARY].ssm, T)
    assert world.release(v1, path, run_id="r1").exit_code == 0
    assert world.release(v2, path2, run_id="r2").exit_code == 0
    target = rollback_target(world.clients[PRIMARY].ssm, T)
    assert target == v1
    result = world.release(target, None, run_id="back")  # no artifact: it is already in both buckets
    assert result.exit_code == 0
    assert [r.status for r in result.records if r.step == "upload-dr"] == ["skipped"]
    for role in (DR, PRIMARY):
        assert world.booted(role) == (v1.version, v1.sha256)
    assert release_skew(world.clients[DR].ssm, T) is None

"""The game day's releases (OPS-7): v1 then v2 of the sample application to both regions, one v2
attempt rolled back by a tripped alarm, before the outage; after the failover the DR region must
serve v2, and after the failback the primary must still run v2.

The releases are the real automation (`runbooks.release`) against the deployed emulator: the
release buckets, launch templates, groups, alarms and records are the ones CloudFormation made.
moto has no instance refresh, so each region's Auto Scaling client is wrapped by the model of
`tooling/emulator/instance_refresh.py`; its checkpoint delays and bake run on the model's own
clock (advanced by the runner's waits) and are not waited for in real time. The report says so.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

from config import Release
from config.topology import DR, PRIMARY, FailoverTopology
from patterns.release_boot import pinned_release
from runbooks.release import NoMigrations, RegionClients, ReleasePlan, recorded_release, release_skew, roles
from runbooks.toolkit import AuditLog, StepRunner
from tooling.emulator.instance_refresh import InstanceRefreshModel
from tooling.gameday_checks import ClientFactory
from tooling.gameday_report import GameDayReport

REPO = Path(__file__).resolve().parents[1]


def build_artifact(version: str, out: Path) -> tuple[Path, Release]:
    spec = importlib.util.spec_from_file_location("build_release", REPO / "scripts" / "build_release.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    artifact: bytes = module.build(REPO / "apps" / "sample", version)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"app-{version}.tar.gz"
    path.write_bytes(artifact)
    return path, Release(version, hashlib.sha256(artifact).hexdigest())


class Releases:
    def __init__(self, aws: ClientFactory, topo: FailoverTopology, report: GameDayReport, workdir: Path) -> None:
        self.aws, self.topo, self.report, self.workdir = aws, topo, report, workdir
        self.model_time = 0.0
        self.models: dict[str, InstanceRefreshModel] = {}
        self.clients: dict[str, RegionClients] = {}
        for role in roles(topo):
            region = topo.region(role)
            model = InstanceRefreshModel(
                aws("autoscaling", region),
                cloudwatch=aws("cloudwatch", region),
                ec2=aws("ec2", region),
                clock=lambda: self.model_time,
            )
            self.models[role] = model
            self.clients[role] = RegionClients(aws("s3", region), aws("ec2", region), model, aws("ssm", region))

    def _wait(self, seconds: float) -> None:
        self.model_time += seconds
        for role, model in self.models.items():
            model.advance(self.topo.web_asg_name(role))

    def release(self, name: str, release: Release, artifact: Path, run_id: str) -> tuple[int, str]:
        plan = ReleasePlan(
            self.topo,
            self.clients,
            release=release,
            artifact=artifact,
            migrations=NoMigrations(),
            sleep=self._wait,
            clock=lambda: self.model_time,
        )
        audit = AuditLog(self.workdir / f"{run_id}-{name}.jsonl")
        runner = StepRunner(
            audit, run_id=f"{run_id}-{name}", clause="OPS-7", execute=True, clock=time.monotonic, out=sys.stdout
        )
        result = runner.run(plan.steps())
        self.report.add_run(name, result)
        failed = [r.detail.get("error", "") for r in result.records if r.status == "failed"]
        return result.exit_code, f"{release.version} ({release.sha256[:12]}) {result.outcome} {' '.join(failed)}"

    def booted(self, role: str) -> tuple[str, str] | None:
        """What the group's launch template version boots (its release pin)."""
        group = self.clients[role].autoscaling.describe_auto_scaling_groups(
            AutoScalingGroupNames=[self.topo.web_asg_name(role)]
        )["AutoScalingGroups"][0]["LaunchTemplate"]
        data = self.clients[role].ec2.describe_launch_template_versions(
            LaunchTemplateId=group["LaunchTemplateId"], Versions=[str(group["Version"])]
        )["LaunchTemplateVersions"][0]["LaunchTemplateData"]
        return pinned_release(base64.b64decode(data.get("UserData", "")).decode())

    def runs(self, role: str, release: Release) -> tuple[bool, str]:
        booted = self.booted(role)
        record = recorded_release(self.clients[role].ssm, self.topo, role)
        wanted = (release.version, release.sha256)
        ok = booted == wanted and (record.get("version"), record.get("sha256")) == wanted
        return ok, f"{role} boots {booted[0] if booted else None!r}, records {record.get('version')!r}"


def publish_healthy_hosts(aws: ClientFactory, topo: FailoverTopology, report: GameDayReport) -> None:
    """moto's load balancers publish no metrics: the game day stands in for Elastic Load Balancing with one
    HealthyHostCount datapoint per region (the instances in service), so the NoHealthyHosts alarm (missing data
    is breaching) reads the truth instead of ALARM, as it would on AWS."""
    for role in roles(topo):
        region = topo.region(role)
        cloudwatch = aws("cloudwatch", region)
        name = topo.web_rollback_alarm_names(role)[0]
        alarm = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
        group = aws("autoscaling", region).describe_auto_scaling_groups(AutoScalingGroupNames=[topo.web_asg_name(role)])
        in_service = sum(i["LifecycleState"] == "InService" for i in group["AutoScalingGroups"][0]["Instances"])
        cloudwatch.put_metric_data(
            Namespace=alarm["Namespace"],
            MetricData=[{"MetricName": alarm["MetricName"], "Dimensions": alarm["Dimensions"], "Value": in_service}],
        )
        state = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]
        report.note(f"emulator stands in for ELB: HealthyHostCount {in_service} in {region}; {name} is {state}")


def run_releases(aws: ClientFactory, topo: FailoverTopology, report: GameDayReport, workdir: Path, run_id: str) -> Any:
    """Before the outage: v1 to both regions, v2 rolled back in DR by a tripped alarm, v2 again."""
    releases = Releases(aws, topo, report, workdir / "releases")
    v1_path, v1 = build_artifact("1.0.0", workdir / "releases")
    v2_path, v2 = build_artifact("2.0.0", workdir / "releases")
    report.note(
        "releases: the instance refresh is the emulator's model (tooling/emulator/instance_refresh.py); its "
        "checkpoint delays and bake run on the model's clock, not waited for in real time"
    )
    publish_healthy_hosts(aws, topo, report)
    print(f"\n== game day: release {v1.version} to both regions", flush=True)
    code, detail = releases.release("release-v1", v1, v1_path, run_id)
    report.check("release v1 completed", code == 0, detail)
    for role in (DR, PRIMARY):
        report.check(f"{role} runs v1", *releases.runs(role, v1))
    alarm = topo.web_rollback_alarm_names(DR)[1]
    cloudwatch = aws("cloudwatch", topo.dr_region)
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="game day: a bad release")
    print(f"\n== game day: release {v2.version} with {alarm} tripped", flush=True)
    code, detail = releases.release("release-v2-rolled-back", v2, v2_path, run_id)
    dr_refresh = releases.models[DR].refreshes[topo.web_asg_name(DR)][0].status
    rolled_back = code == 1 and dr_refresh == "RollbackSuccessful"
    report.check("v2 rolled back by the tripped alarm", rolled_back, f"{dr_refresh}: {detail}")
    report.check("both regions still run v1", *_both(releases, v1))
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="game day: alarm cleared")
    print(f"\n== game day: release {v2.version} again", flush=True)
    code, detail = releases.release("release-v2", v2, v2_path, run_id)
    report.check("release v2 completed", code == 0, detail)
    report.check("both regions run v2", *_both(releases, v2))
    skew = release_skew(aws("ssm", topo.dr_region), topo)
    report.check("no release skew before the outage", skew is None, skew or "DR runs what the primary runs")
    return releases, v2


def _both(releases: Releases, release: Release) -> tuple[bool, str]:
    results = [releases.runs(role, release) for role in (DR, PRIMARY)]
    return all(ok for ok, _ in results), "; ".join(detail for _, detail in results)


def check_region_runs(releases: Releases, release: Release, role: str, report: GameDayReport, when: str) -> None:
    report.check(f"{role} runs v2 {when}", *releases.runs(role, release))

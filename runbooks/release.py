"""`python -m runbooks.release`: roll the pinned release onto both regions (OPS-7, DR-1). See release.md.

Order: the DR standby first, then the primary. The standby serves nobody until a failover,
so a release that fails its health checks or trips an alarm there costs no user anything
and stops before the primary is touched; and the DR region never lags behind the primary
(the failover refuses a skew, `release_skew`). The release is complete only when both
regions run it and their SSM records say so.

Per region: upload the artifact write-once (`If-None-Match: *`), tag it released (web
instances read only released artifacts), create a launch template version whose boot
script pins version and digest (`patterns/release_boot.py`), and start an instance refresh
with that numbered version as the desired configuration: MinHealthyPercentage 100 and
MaxHealthyPercentage 200 (new instances launch and pass the load balancer's health check
before old ones leave, so capacity never drops below the minimum), checkpoints at 50 and
100 % with a bake, and AutoRollback on the web tier's Sev1/Sev2 alarms. The application's
migrations run before the first region (expand) and after the last (contract).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import ClientError

from config import Release
from config.topology import DR, PRIMARY, FailoverTopology
from patterns.release_boot import pin_release, pinned_release
from runbooks.toolkit import (
    AuditLog,
    RefusedError,
    Skip,
    Step,
    StepFailedError,
    StepRunner,
    add_common_args,
    new_run_id,
    resolve_topology,
    wait_until,
)

CLAUSE = "OPS-7"
PROCEDURE = "release"
RELEASE_STATE_TAG, RELEASED = "release-state", "released"
REFRESH_PREFERENCES: dict[str, Any] = {
    "MinHealthyPercentage": 100,
    "MaxHealthyPercentage": 200,
    "InstanceWarmup": 180,
    "CheckpointPercentages": [50, 100],
    "CheckpointDelay": 300,
    "BakeTime": 300,
    "SkipMatching": True,
    "AutoRollback": True,
}
ROLLOUT_TIMEOUT_S = 3600.0


class ReleaseMigrations(Protocol):
    """The application's database migrations (its own, like runbooks/app_data.py's adapter).

    Expand/contract: `before(version)` may only add (new tables, nullable columns, new
    indexes) so that the running release and the new one both work; `after(version)`
    removes what no release since the previous one uses, and runs only once both regions
    run the new release. A rollback to the previous release is then always safe: the
    schema it needs is still there. Both must be idempotent for the same version."""

    def before(self, version: str) -> dict[str, Any]: ...

    def after(self, version: str) -> dict[str, Any]: ...


class NoMigrations:
    def before(self, version: str) -> dict[str, Any]:
        return {"migrations": "none"}

    def after(self, version: str) -> dict[str, Any]:
        return {"migrations": "none"}


@dataclass(frozen=True)
class RegionClients:
    s3: Any
    ec2: Any
    autoscaling: Any
    ssm: Any


def roles(topology: FailoverTopology) -> tuple[str, ...]:
    return (DR, PRIMARY) if topology.standby_enabled else (PRIMARY,)


def digest_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def recorded_release(ssm: Any, topology: FailoverTopology, role: str) -> dict[str, Any]:
    """The region's record: {version, sha256, launch_template_version, previous, ...}; {} if none."""
    try:
        value = ssm.get_parameter(Name=topology.release_parameter(role))["Parameter"]["Value"]
    except ClientError:
        return {}
    record = json.loads(value)
    return record if isinstance(record, dict) else {}


def release_skew(dr_ssm: Any, topology: FailoverTopology) -> str | None:
    """Why the DR standby does not run the release the primary last ran, or None (DR-1, OPS-7).

    Read from the DR region only (the primary may be the region that failed): a release writes
    the primary's outcome into the DR record too (`primary`), after the primary's rollout."""
    dr = recorded_release(dr_ssm, topology, DR)
    primary = dr.get("primary") or {}
    mine = (dr.get("version", ""), dr.get("sha256", ""))
    theirs = (primary.get("version", ""), primary.get("sha256", ""))
    if mine == theirs:
        return None
    return f"the DR standby runs {mine[0] or 'no release'!r}, the primary last ran {theirs[0] or 'no release'!r}"


def check_release_skew(dr_ssm: Any | None, topology: FailoverTopology, *, accept: bool) -> dict[str, Any]:
    """The failover's precondition: refuse a skew unless accepted (`--accept-release-skew`, recorded)."""
    if dr_ssm is None:
        return {"checked": False, "why": "no DR-region SSM client"}
    skew = release_skew(dr_ssm, topology)
    if skew is not None and not accept:
        raise RefusedError(f"release skew: {skew} (--accept-release-skew to fail over anyway)")
    return {"checked": True, "skew": skew, "accepted": bool(skew and accept)}


class ReleasePlan:
    def __init__(
        self,
        topology: FailoverTopology,
        clients: dict[str, RegionClients],
        *,
        release: Release,
        artifact: Path | None,
        migrations: ReleaseMigrations,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.topology, self.clients, self.release, self.artifact = topology, clients, release, artifact
        self.migrations, self.sleep, self.clock = migrations, sleep, clock

    def steps(self) -> list[Step]:
        steps = [
            Step("preconditions", "check artifact, groups and rollouts", self._preconditions, check=True),
            Step(
                "migrate-before",
                "application migrations: expand",
                lambda _: self.migrations.before(self.release.version),
            ),
        ]
        for role in roles(self.topology):
            steps += self._region_steps(role)
        if self.topology.standby_enabled:
            steps.append(Step("record-primary-in-dr", "DR: record what the primary runs", self._record_primary_in_dr))
        steps.append(
            Step(
                "migrate-after",
                "application migrations: contract",
                lambda _: self.migrations.after(self.release.version),
            )
        )
        return steps

    def _region_steps(self, role: str) -> list[Step]:
        def upload(_: object) -> dict[str, Any] | Skip:
            return self._upload(role)

        def mark(_: object) -> dict[str, Any]:
            return self._mark(role)

        def template(_: object) -> dict[str, Any]:
            return self._template(role)

        def rollout(earlier: dict[str, Any] | None) -> dict[str, Any]:
            return self._rollout(role, earlier)

        def record(_: object) -> dict[str, Any]:
            return self._record(role)

        return [
            Step(f"upload-{role}", f"{role}: upload the artifact write-once", upload),
            Step(f"mark-{role}", f"{role}: mark the artifact released", mark),
            Step(f"template-{role}", f"{role}: launch template version", template),
            Step(
                f"rollout-{role}", f"{role}: instance refresh (health-gated, auto rollback)", rollout, irreversible=True
            ),
            Step(f"record-{role}", f"{role}: record what runs", record),
        ]

    def _preconditions(self, _: object) -> dict[str, Any]:
        if self.artifact is not None:
            digest = digest_of(self.artifact)
            if digest != self.release.sha256:
                raise RefusedError(f"{self.artifact} has sha256 {digest}, the release pins {self.release.sha256}")
        for role in roles(self.topology):
            group = self._group(role)
            active = [
                r["InstanceRefreshId"]
                for r in self.clients[role].autoscaling.describe_instance_refreshes(
                    AutoScalingGroupName=group["AutoScalingGroupName"]
                )["InstanceRefreshes"]
                if r["Status"] in ("Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking")
            ]
            if active:
                raise RefusedError(f"{role}: instance refresh {active[0]} is still running")
        return {"version": self.release.version, "sha256": self.release.sha256, "regions": list(roles(self.topology))}

    def _group(self, role: str) -> dict[str, Any]:
        name = self.topology.web_asg_name(role)
        found = self.clients[role].autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])
        if not found["AutoScalingGroups"]:
            raise RefusedError(f"{role}: no web group {name}")
        group: dict[str, Any] = found["AutoScalingGroups"][0]
        return group

    def _upload(self, role: str) -> dict[str, Any] | Skip:
        s3, bucket, key = self.clients[role].s3, self.topology.release_bucket(role), self.release.artifact_key
        try:
            head = s3.head_object(Bucket=bucket, Key=key)
        except ClientError:
            head = None
        if head is not None:
            stored = head.get("Metadata", {}).get("sha256")
            if stored != self.release.sha256:
                raise RefusedError(f"{role}: s3://{bucket}/{key} holds sha256 {stored}, not {self.release.sha256}")
            return Skip("already uploaded", {"bucket": bucket, "key": key})
        if self.artifact is None:
            raise RefusedError(f"{role}: s3://{bucket}/{key} does not exist and no --artifact was given")
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=self.artifact.read_bytes(),
            IfNoneMatch="*",
            Metadata={"sha256": self.release.sha256},
        )
        return {"bucket": bucket, "key": key}

    def _mark(self, role: str) -> dict[str, Any]:
        bucket, key = self.topology.release_bucket(role), self.release.artifact_key
        tags = {
            "TagSet": [
                {"Key": RELEASE_STATE_TAG, "Value": RELEASED},
                {"Key": "release-version", "Value": self.release.version},
            ]
        }
        self.clients[role].s3.put_object_tagging(Bucket=bucket, Key=key, Tagging=tags)
        return {"bucket": bucket, "key": key, "tag": f"{RELEASE_STATE_TAG}={RELEASED}"}

    def _template(self, role: str) -> dict[str, Any]:
        ec2, group = self.clients[role].ec2, self._group(role)
        spec = group["LaunchTemplate"]
        current = ec2.describe_launch_template_versions(
            LaunchTemplateId=spec["LaunchTemplateId"], Versions=[str(spec["Version"])]
        )
        data = current["LaunchTemplateVersions"][0]["LaunchTemplateData"]
        script = base64.b64decode(data.get("UserData", "")).decode()
        if pinned_release(script) == (self.release.version, self.release.sha256):
            return {"launch_template_id": spec["LaunchTemplateId"], "version": str(spec["Version"]), "created": False}
        created = ec2.create_launch_template_version(
            LaunchTemplateId=spec["LaunchTemplateId"],
            SourceVersion=str(spec["Version"]),
            VersionDescription=f"release {self.release.version} ({self.release.sha256[:12]})",
            LaunchTemplateData={"UserData": base64.b64encode(pin_release(script, self.release).encode()).decode()},
        )
        number = str(created["LaunchTemplateVersion"]["VersionNumber"])
        return {
            "launch_template_id": spec["LaunchTemplateId"],
            "version": number,
            "created": True,
            "from": str(spec["Version"]),
        }

    def _rollout(self, role: str, earlier: dict[str, Any] | None) -> dict[str, Any]:
        autoscaling, group = self.clients[role].autoscaling, self.topology.web_asg_name(role)
        refresh_id = (earlier or {}).get("detail", {}).get("refresh_id")
        if refresh_id is None:
            template = self._template_record(role)
            refresh_id = autoscaling.start_instance_refresh(
                AutoScalingGroupName=group,
                Strategy="Rolling",
                DesiredConfiguration={
                    "LaunchTemplate": {
                        "LaunchTemplateId": template["launch_template_id"],
                        "Version": template["version"],
                    }
                },
                Preferences={
                    **REFRESH_PREFERENCES,
                    "AlarmSpecification": {"Alarms": list(self.topology.web_rollback_alarm_names(role))},
                },
            )["InstanceRefreshId"]
        state: dict[str, Any] = {}

        def finished() -> bool:
            found = autoscaling.describe_instance_refreshes(AutoScalingGroupName=group, InstanceRefreshIds=[refresh_id])
            state.update(found["InstanceRefreshes"][0])
            return state["Status"] in ("Successful", "Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed")

        wait_until(
            f"instance refresh {refresh_id}",
            finished,
            timeout_s=ROLLOUT_TIMEOUT_S,
            poll_s=30,
            sleep=self.sleep,
            clock=self.clock,
        )
        if state["Status"] != "Successful":
            raise StepFailedError(
                f"{role}: instance refresh {refresh_id} ended {state['Status']}: {state.get('StatusReason', '')}"
            )
        return {"refresh_id": refresh_id, "status": state["Status"]}

    def _record_primary_in_dr(self, _: object) -> dict[str, Any]:
        """The failover reads the primary's last release from the DR region (`release_skew`)."""
        ssm = self.clients[DR].ssm
        record = recorded_release(ssm, self.topology, DR)
        record["primary"] = {"version": self.release.version, "sha256": self.release.sha256}
        ssm.put_parameter(
            Name=self.topology.release_parameter(DR),
            Value=json.dumps(record, sort_keys=True),
            Type="String",
            Overwrite=True,
        )
        return {"primary": record["primary"]}

    def _template_record(self, role: str) -> dict[str, Any]:
        return self._template(role)

    def _record(self, role: str) -> dict[str, Any]:
        ssm, previous = self.clients[role].ssm, recorded_release(self.clients[role].ssm, self.topology, role)
        group = self._group(role)
        record = {
            "version": self.release.version,
            "sha256": self.release.sha256,
            "launch_template_version": str(group["LaunchTemplate"]["Version"]),
            "previous": {k: previous[k] for k in ("version", "sha256") if previous.get("version")} or None,
        }
        if (previous.get("version"), previous.get("sha256")) == (self.release.version, self.release.sha256):
            record["previous"] = previous.get("previous")
        if role == DR and "primary" in previous:
            record["primary"] = previous["primary"]
        ssm.put_parameter(
            Name=self.topology.release_parameter(role),
            Value=json.dumps(record, sort_keys=True),
            Type="String",
            Overwrite=True,
        )
        return record


def load_migrations(parser: argparse.ArgumentParser, spec: str | None) -> ReleaseMigrations:
    if not spec:
        return NoMigrations()
    module_name, _, attribute = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as error:
        parser.error(f"--migrations {spec!r} cannot be loaded: {error}")
    migrations: ReleaseMigrations = factory()
    return migrations


def rollback_target(ssm: Any, topology: FailoverTopology) -> Release:
    previous = recorded_release(ssm, topology, PRIMARY).get("previous") or {}
    if not previous.get("version"):
        raise RefusedError("no previous release is recorded for the primary: nothing to roll back to")
    return Release(str(previous["version"]), str(previous["sha256"]))


def main(argv: list[str] | None = None, *, session_factory: Callable[[str], Any] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runbooks.release", description=__doc__.split("\n")[0])
    add_common_args(parser, procedure=PROCEDURE)
    parser.add_argument("--artifact", type=Path, help="the built artifact (scripts/build_release.py); digest-checked")
    parser.add_argument("--rollback", action="store_true", help="release the previous release recorded for the primary")
    parser.add_argument("--migrations", help="module:factory returning the application's ReleaseMigrations")
    args = parser.parse_args(argv)
    topology = resolve_topology(parser, args)
    from config import load_config

    deployment = load_config(args.config).get(args.deployment)
    if session_factory is None:
        import boto3

        def session_factory(region: str) -> Any:
            return boto3.Session(region_name=region)

    clients = {}
    for role in roles(topology):
        session = session_factory(topology.region(role))
        clients[role] = RegionClients(*(session.client(n) for n in ("s3", "ec2", "autoscaling", "ssm")))
    try:
        release = rollback_target(clients[PRIMARY].ssm, topology) if args.rollback else deployment.release
    except RefusedError as error:
        print(f"refused: {error}", file=sys.stderr)
        return 2
    if release is None:
        parser.error("the configuration pins no release ([environments.<env>.release] version and sha256)")
    plan = ReleasePlan(
        topology, clients, release=release, artifact=args.artifact, migrations=load_migrations(parser, args.migrations)
    )
    audit = AuditLog(args.audit_log or Path(topology.audit_log_name(PROCEDURE)))
    runner = StepRunner(audit, run_id=args.run_id or new_run_id(), clause=CLAUSE, execute=args.execute, out=sys.stdout)
    return runner.run(plan.steps()).exit_code


if __name__ == "__main__":
    sys.exit(main())

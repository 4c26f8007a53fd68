"""Planned maintenance (OPS-5): the next announced windows per deployment, and a check they are applied.

Read `runbooks/maintenance.md` first. The windows come from config
(`[environments.<env>.maintenance]`, weekly, in UTC). Work in a window needs 24 hours'
notice: each window prints its "announce by" time, and a window whose notice time has
passed is marked so. `--verify` (read-only) checks that the primary database and the
SSM patching window really use the configured window.

Exit 0: printed (and, with --verify, applied as configured); 1: a resource's window
differs from config; 2: bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from config.model import Deployment
from config.topology import PRIMARY, FailoverTopology
from runbooks import ops
from runbooks.toolkit import EXIT_OK, EXIT_STEP_FAILED, add_deployment_args, maintenance_window

CLAUSE = "OPS-5"
NOTICE = timedelta(hours=24)
MAX_COUNT = 52


@dataclass(frozen=True)
class Window:
    deployment: str
    start: datetime  # UTC
    end: datetime
    timezone: str
    in_progress: bool
    announce_by: datetime
    notice_possible: bool

    def line(self) -> str:
        zone = ZoneInfo(self.timezone)
        fmt = "%a %Y-%m-%d %H:%M"
        local = f"{self.start.astimezone(zone).strftime(fmt)}-{self.end.astimezone(zone).strftime('%H:%M %Z')}"
        if self.in_progress:
            note = "IN PROGRESS"
        elif self.notice_possible:
            note = f"announce by {self.announce_by.strftime(fmt)} UTC"
        else:
            note = "notice period passed: emergency changes only"
        return (
            f"{self.deployment:<16} {self.start.strftime(fmt)}-{self.end.strftime('%H:%M')} UTC | "
            f"{local} ({self.timezone}) | {note}"
        )


def next_windows(deployment: Deployment, now: datetime, count: int) -> list[Window]:
    """The window in progress (if any) and the following ones, `count` in all."""
    window = deployment.maintenance
    start, end = maintenance_window(now, window.day, window.start_utc, window.duration_hours)
    if end <= now:
        start, end = start + timedelta(days=7), end + timedelta(days=7)
    found = []
    for week in range(count):
        begin, finish = start + timedelta(days=7 * week), end + timedelta(days=7 * week)
        announce = begin - NOTICE
        found.append(
            Window(
                deployment.name, begin, finish, deployment.timezone, begin <= now < finish, announce, now <= announce
            )
        )
    return found


def applied_problems(deployment: Deployment, *, rds: Any, ssm: Any) -> list[str]:
    """Where the primary database or the patching window differs from config (both clients: primary region)."""
    topo = FailoverTopology.of(deployment)
    ops.require_region(rds, topo.primary_region, "RDS")
    ops.require_region(ssm, topo.primary_region, "SSM")
    problems = []
    db_id = topo.db_instance_id(PRIMARY)
    instances = rds.describe_db_instances(Filters=[{"Name": "db-instance-id", "Values": [db_id]}])["DBInstances"]
    expected = deployment.maintenance.rds_window
    if not instances:
        problems.append(f"database {db_id} not found")
    elif instances[0].get("PreferredMaintenanceWindow", "").lower() != expected:
        problems.append(f"database {db_id} window {instances[0].get('PreferredMaintenanceWindow')} != {expected}")
    name = f"{topo.prefix(PRIMARY)}-patching"
    windows = ssm.describe_maintenance_windows(Filters=[{"Key": "Name", "Values": [name]}])["WindowIdentities"]
    if not windows:
        problems.append(f"SSM maintenance window {name} not found")
    elif windows[0].get("Schedule") != deployment.maintenance.ssm_schedule:
        problems.append(
            f"SSM window {name} schedule {windows[0].get('Schedule')} != {deployment.maintenance.ssm_schedule}"
        )
    return problems


def parse_now(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--now {value!r} is not an ISO date-time (e.g. 2026-12-01T09:00Z)") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def count(value: str) -> int:
    number = int(value) if value.isdigit() else 0
    if not 1 <= number <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"--count {value!r}: allowed 1..{MAX_COUNT}")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    from config import load_config

    parser = argparse.ArgumentParser(
        prog="python -m runbooks.maintenance",
        description=(
            "Planned maintenance (OPS-5): the next announced windows per deployment in UTC and local time, "
            "with the 24-hour notice deadline; --verify checks RDS and SSM use them. Read-only."
        ),
    )
    add_deployment_args(parser, required=False, help="one deployment (default: all)")
    parser.add_argument("--count", type=count, default=3, help=f"windows per deployment, 1..{MAX_COUNT} (default 3)")
    parser.add_argument("--now", type=parse_now, default=None, help="ISO date-time to plan from (default: now)")
    parser.add_argument("--verify", action="store_true", help="check the applied windows (needs --deployment)")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    deployments = [ops.deployment_of(parser, args)] if args.deployment else list(config.deployments)
    if args.verify and not args.deployment:
        parser.error("--verify needs --deployment")
    now = args.now or datetime.now(UTC)
    for deployment in deployments:
        for window in next_windows(deployment, now, args.count):
            print(window.line())
    if not args.verify:
        return EXIT_OK
    import boto3

    deployment = deployments[0]
    region = deployment.primary_region
    problems = applied_problems(
        deployment, rds=boto3.client("rds", region_name=region), ssm=boto3.client("ssm", region_name=region)
    )
    for problem in problems:
        print(f"NOT APPLIED [{CLAUSE}] {problem}")
    return EXIT_STEP_FAILED if problems else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

"""Planned maintenance (OPS-5): next windows in UTC and local time, 24-hour notice, applied windows (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from config import load_config
from config.topology import PRIMARY, FailoverTopology
from runbooks import maintenance
from runbooks.maintenance import applied_problems, next_windows
from runbooks.toolkit import EXIT_OK, EXIT_REFUSED, EXIT_STEP_FAILED, RefusedError
from tests.runbooks.run_cli import run_runbook

AU = load_config().get("au-production")  # Sun 16:00 UTC for 3 h, Australia/Sydney
TUESDAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_next_windows_in_utc_and_local_time_with_the_notice_deadline() -> None:
    windows = next_windows(AU, TUESDAY, 2)
    assert [w.start.isoformat() for w in windows] == ["2026-12-06T16:00:00+00:00", "2026-12-13T16:00:00+00:00"]
    assert windows[0].announce_by.isoformat() == "2026-12-05T16:00:00+00:00" and windows[0].notice_possible
    line = windows[0].line()
    assert "Sun 2026-12-06 16:00-19:00 UTC" in line and "Mon 2026-12-07 03:00-06:00 AEDT" in line
    assert "announce by Sat 2026-12-05 16:00 UTC" in line


def test_a_window_inside_the_notice_period_is_emergency_only_and_a_running_one_is_marked() -> None:
    saturday_evening = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)
    assert "emergency changes only" in next_windows(AU, saturday_evening, 1)[0].line()
    during = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)
    [window] = next_windows(AU, during, 1)
    assert window.in_progress and window.start.day == 6 and "IN PROGRESS" in window.line()


def test_cli_prints_every_deployment_and_is_repeatable(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--now", "2026-12-01T09:00Z", "--count", "1"]
    assert maintenance.main(argv) == EXIT_OK
    first = capsys.readouterr().out
    assert len(first.splitlines()) == len(load_config().deployments)
    assert "America/Los_Angeles" in first and "Europe/London" in first
    assert maintenance.main(argv) == EXIT_OK and capsys.readouterr().out == first


class Applied:
    def __init__(self) -> None:
        region = AU.primary_region
        self.rds = boto3.client("rds", region_name=region)
        self.ssm = boto3.client("ssm", region_name=region)
        topo = FailoverTopology.of(AU)
        self.rds.create_db_instance(
            DBInstanceIdentifier=topo.db_instance_id(PRIMARY),
            DBInstanceClass="db.r7g.large",
            Engine="postgres",
            AllocatedStorage=20,
            MasterUsername="app",
            MasterUserPassword="not-a-real-secret-1A!",
            PreferredMaintenanceWindow=AU.maintenance.rds_window,
        )
        self.ssm.create_maintenance_window(
            Name=f"{topo.prefix(PRIMARY)}-patching",
            Schedule=AU.maintenance.ssm_schedule,
            Duration=3,
            Cutoff=1,
            AllowUnassociatedTargets=False,
        )


@pytest.fixture
def applied() -> Iterator[Applied]:
    with mock_aws():
        yield Applied()


def test_applied_windows_match_config(applied: Applied, capsys: pytest.CaptureFixture[str]) -> None:
    assert applied_problems(AU, rds=applied.rds, ssm=applied.ssm) == []
    assert maintenance.main(["--deployment", "au-production", "--verify", "--count", "1"]) == EXIT_OK


def test_a_window_that_differs_from_config_is_reported(applied: Applied) -> None:
    db_id = FailoverTopology.of(AU).db_instance_id(PRIMARY)
    applied.rds.modify_db_instance(DBInstanceIdentifier=db_id, PreferredMaintenanceWindow="mon:01:00-mon:02:00")
    [problem] = applied_problems(AU, rds=applied.rds, ssm=applied.ssm)
    assert "mon:01:00-mon:02:00 != sun:16:00-sun:19:00" in problem
    assert maintenance.main(["--deployment", "au-production", "--verify", "--count", "1"]) == EXIT_STEP_FAILED


@mock_aws
def test_missing_resources_are_reported() -> None:
    empty_rds, empty_ssm = (boto3.client(s, region_name=AU.primary_region) for s in ("rds", "ssm"))
    problems = applied_problems(AU, rds=empty_rds, ssm=empty_ssm)
    assert len(problems) == 2 and all("not found" in p for p in problems)


def test_wrong_region_is_refused(applied: Applied) -> None:
    other: Any = boto3.client("rds", region_name=AU.dr_region)
    with pytest.raises(RefusedError, match="RDS client is in region ap-southeast-4"):
        applied_problems(AU, rds=other, ssm=applied.ssm)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--count", "0"], "allowed 1..52"),
        (["--now", "next tuesday"], "not an ISO date-time"),
        (["--deployment", "mars-production"], "allowed: au-production"),
        (["--verify"], "--verify needs --deployment"),
    ],
)
def test_cli_refuses_bad_arguments(argv: list[str], message: str) -> None:
    result = run_runbook("maintenance", *argv)
    assert result.returncode == EXIT_REFUSED and message in result.stderr


def test_cli_help_names_the_clause() -> None:
    result = run_runbook("maintenance", "--help")
    assert result.returncode == 0 and "OPS-5" in result.stdout

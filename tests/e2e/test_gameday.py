"""The DR game day end to end: deploy au-production into a moto server of its own, lose the
primary region, fail over, fail back (`tooling.gameday.run_gameday`), then read the report.

No assertion on time: the measured durations are the report's, not the test's. The game day does
not sleep until the next switch alarm period: the failback runs on a clock one period ahead, and
the report says so.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from config import Deployment
from config.topology import SWITCH_METRIC, SWITCH_NAMESPACE, FailoverTopology
from runbooks.failback import Failback
from runbooks.failover import Failover
from tooling.gameday import client_factory, run_gameday
from tooling.gameday_report import GameDayReport
from tooling.moto_server import MotoServer, emulator_environment

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
DEPLOYMENT = "au-production"


@pytest.fixture(scope="module")
def game_day(
    deployment_server: MotoServer, au_production_assembly: Path, e2e_path: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[GameDayReport, dict[str, Any]]:
    work = tmp_path_factory.mktemp("gameday-work")
    env = {**emulator_environment(deployment_server.endpoint_url, deployment_server.account), "PATH": e2e_path}
    report = run_gameday(DEPLOYMENT, env, au_production_assembly, workdir=work)
    report.write(work / "gameday.json")
    return report, json.loads((work / "gameday.json").read_text())


def failed(report: GameDayReport) -> list[str]:
    return [f"{c.name}: {c.detail}" for c in report.checks if not c.ok]


def test_every_check_passes(game_day: tuple[GameDayReport, dict[str, Any]]) -> None:
    report, data = game_day
    assert report.ok, failed(report)
    assert data["ok"] is True


@pytest.mark.parametrize(
    "check",
    [
        "object replicated to DR",
        "release v1 completed",
        "v2 rolled back by the tripped alarm",
        "both regions still run v1",
        "release v2 completed",
        "both regions run v2",
        "no release skew before the outage",
        "dr runs v2 after the failover",
        "primary runs v2 after the failback",
        "failover completed",
        "no call reached the primary region",
        "the fence was skipped",
        "no Route 53 change",
        "public name answers DR",
        "promoted DR database is a writer",
        "failback completed",
        "primary database is the writer",
        "DR replica of the primary again",
        "public name answers primary again",
    ],
)
def test_the_outage_and_the_return_are_checked(game_day: tuple[GameDayReport, dict[str, Any]], check: str) -> None:
    report, _ = game_day
    (found,) = [c for c in report.checks if c.name == check]
    assert found.ok, found.detail


def test_primary_region_saw_only_failed_calls(game_day: tuple[GameDayReport, dict[str, Any]]) -> None:
    _, data = game_day
    lost = [c for c in data["calls"]["failover"] if c["region"] == "ap-southeast-2"]
    assert lost and all(c["outcome"] == "error: EndpointConnectionError" for c in lost)
    assert not [
        c for c in data["calls"]["failover"] if c["service"] == "route53" and c["operation"] != "test_dns_answer"
    ]


def test_json_report_times_every_step(game_day: tuple[GameDayReport, dict[str, Any]], tmp_path: Path) -> None:
    _, data = game_day
    expected = {
        "failover": [step.name for step in Failover.__new__(Failover).steps()],
        "failback": [step.name for step in Failback.__new__(Failback).steps()],
    }
    for procedure in ("failover", "failback"):
        timed = [s["step"] for s in data["steps"] if s["procedure"] == procedure]
        assert timed == expected[procedure]
        assert all(isinstance(s["duration_s"], float) for s in data["steps"])
        assert procedure in data["totals_s"]
    assert not [name for name in data["phases_s"] if "wait" in name]


def test_the_report_says_the_failback_ran_on_a_shifted_clock(game_day: tuple[GameDayReport, dict[str, Any]]) -> None:
    report, data = game_day
    (note,) = [n for n in data["notes"] if "clock 61 s ahead" in n]
    assert "clock 61 s ahead" in note and "time compressed in the emulator" in note and "instead of sleeping" in note
    assert f"Note: {note}" in report.markdown()


def test_the_releases_are_timed_and_their_emulated_parts_said_so(
    game_day: tuple[GameDayReport, dict[str, Any]],
) -> None:
    """OPS-7: v1, v2 rolled back by the tripped alarm (the DR rollout failed, the primary untouched), v2."""
    report, data = game_day
    steps = {(s["procedure"], s["step"]): s["status"] for s in data["steps"]}
    assert steps[("release-v1", "rollout-primary")] == "done"
    assert steps[("release-v2-rolled-back", "rollout-dr")] == "failed"
    assert ("release-v2-rolled-back", "upload-primary") not in steps
    assert steps[("release-v2", "record-primary-in-dr")] == "done"
    assert {"release-v1", "release-v2-rolled-back", "release-v2"} <= set(data["totals_s"])
    assert any("instance refresh is the emulator's model" in n for n in data["notes"])
    assert "| release-v2 | rollout-primary | done |" in report.markdown()


def test_the_switch_went_back_in_a_later_alarm_period(
    game_day: tuple[GameDayReport, dict[str, Any]], deployment_server: MotoServer, deployment: Deployment
) -> None:
    """Per minute (the alarm's period), read from the emulator: the failover's 1, then the failback's 0."""
    topo = FailoverTopology.of(deployment)
    cloudwatch = client_factory(emulator_environment(deployment_server.endpoint_url, deployment_server.account))(
        "cloudwatch", topo.dr_region
    )
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    points = cloudwatch.get_metric_statistics(
        Namespace=SWITCH_NAMESPACE,
        MetricName=SWITCH_METRIC,
        Dimensions=[{"Name": k, "Value": v} for k, v in topo.switch_dimensions.items()],
        StartTime=start,
        EndTime=start + timedelta(hours=2),
        Period=60,
        Statistics=["Maximum"],
    )["Datapoints"]
    assert [p["Maximum"] for p in sorted(points, key=lambda p: p["Timestamp"])] == [1.0, 0.0]
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[topo.switch_alarm_name])["MetricAlarms"]
    assert alarm["StateValue"] == "OK"

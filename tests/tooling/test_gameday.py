"""The game day's compressed time (tooling/gameday.py): the failback runs on a clock one switch
alarm period ahead instead of sleeping until the next period. No moto server, no sleeping, no
assertion on elapsed time: every clock here is a fixed or hand-advanced fake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from moto.cloudwatch.models import Alarm, MetricDatum

from config import load_config
from config.topology import SWITCH_METRIC, SWITCH_NAMESPACE, FailoverTopology
from runbooks import standby
from runbooks.failback import FailbackOptions
from runbooks.toolkit import AuditRecord, RunResult
from tooling import gameday
from tooling.emulator.cloudwatch import evaluate
from tooling.gameday_report import GameDayReport

TOPO = FailoverTopology.of(load_config().get("au-production"))
REAL = datetime(2026, 12, 1, 14, 8, 30, 250000, tzinfo=UTC)


class Clock:
    """A real-time stand-in that only moves when told to."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


class CloudWatch:
    """The DR region's CloudWatch as `compress_time` and `replica_lag_seconds` read it."""

    def __init__(self, period: int = 60) -> None:
        self.period = period
        self.asked: list[dict[str, Any]] = []

    def describe_alarms(self, AlarmNames: list[str]) -> dict[str, Any]:  # noqa: N803 (boto3 argument name)
        alarms = [{"AlarmName": name, "Period": self.period} for name in AlarmNames if name == TOPO.switch_alarm_name]
        return {"MetricAlarms": alarms}

    def get_metric_statistics(self, **kwargs: Any) -> dict[str, Any]:
        self.asked.append(kwargs)
        return {"Datapoints": [{"Maximum": 0.0}]}


def test_the_failback_clock_runs_one_alarm_period_and_a_second_ahead_of_the_real_time() -> None:
    real = Clock(REAL)
    now = gameday.failback_clock(60, real)
    assert now() == REAL + timedelta(seconds=61)
    real.at += timedelta(seconds=7)  # it follows the real clock, it is not frozen
    assert now() == REAL + timedelta(seconds=68)


@pytest.mark.parametrize("second", [0.0, 0.5, 30.0, 59.0, 59.999])
def test_the_switch_back_never_shares_the_failovers_alarm_period(second: float) -> None:
    """The emulator's evaluation (per 60 s period, as on AWS) of the failover's 1 at the real time and the
    failback's 0 right after it, from the shifted clock; without the shift both share a minute (Maximum 1)."""
    flipped = REAL.replace(second=0, microsecond=0) + timedelta(seconds=second)
    one = MetricDatum(SWITCH_NAMESPACE, SWITCH_METRIC, 1.0, dimensions(), flipped)
    zero_now = MetricDatum(SWITCH_NAMESPACE, SWITCH_METRIC, 0.0, dimensions(), flipped)
    zero_shifted = MetricDatum(
        SWITCH_NAMESPACE, SWITCH_METRIC, 0.0, dimensions(), gameday.failback_clock(60, Clock(flipped))()
    )
    assert alarm_state([one, zero_shifted]) == "OK"
    assert alarm_state([one, zero_now]) == "ALARM"


def dimensions() -> list[dict[str, str]]:
    return [{"Name": k, "Value": v} for k, v in TOPO.switch_dimensions.items()]


def alarm_state(data: list[Any]) -> str:
    """The switch alarm as deployed (patterns/failover_switch.py), evaluated by the emulator."""
    alarm = Alarm(
        account_id=TOPO.account,
        region_name=TOPO.dr_region,
        name=TOPO.switch_alarm_name,
        namespace=SWITCH_NAMESPACE,
        metric_name=SWITCH_METRIC,
        metric_data_queries=None,
        comparison_operator="GreaterThanOrEqualToThreshold",
        evaluation_periods=1,
        datapoints_to_alarm=None,
        period=60,
        threshold=1,
        statistic="Maximum",
        extended_statistic=None,
        description="",
        dimensions=dimensions(),
        alarm_actions=[],
        ok_actions=[],
        insufficient_data_actions=[],
        unit=None,
        actions_enabled=True,
        treat_missing_data="ignore",
        evaluate_low_sample_count_percentile=None,
        threshold_metric_id=None,
        rule=None,
    )
    alarm.state_value = "INSUFFICIENT_DATA"  # as the emulator starts it: OK and ALARM both come from `evaluate`
    evaluate(alarm, data)
    return str(alarm.state_value)


def test_the_replica_lag_datapoint_at_the_real_time_is_inside_the_shifted_lag_window() -> None:
    """The game day publishes ReplicaLag 0 at the real time just before the failback; the failback's
    wait (after at most two database waits) reads it through the shifted clock's window."""
    published = REAL
    latest = timedelta(seconds=2 * gameday.FAILBACK_TIMEOUTS.db_s + gameday.FAILBACK_TIMEOUTS.lag_s)
    for elapsed in (timedelta(0), latest):
        cloudwatch = CloudWatch()
        now = gameday.failback_clock(60, Clock(published + elapsed))
        assert standby.replica_lag_seconds(cloudwatch, TOPO.db_instance_id("primary"), now()) == 0.0
        (asked,) = cloudwatch.asked
        assert asked["StartTime"] <= published <= asked["EndTime"]


def test_compress_time_reads_the_deployed_period_and_says_so_in_the_report() -> None:
    report = GameDayReport("au-production", "http://localhost:5000")
    cloudwatch = CloudWatch(period=60)

    def aws(service: str, region: str) -> Any:
        assert (service, region) == ("cloudwatch", TOPO.dr_region)
        return cloudwatch

    now = gameday.compress_time(aws, TOPO, report, real=Clock(REAL))
    assert now() == REAL + timedelta(seconds=61)
    (note,) = report.notes
    assert "clock 61 s ahead" in note and "time compressed in the emulator" in note and "instead of sleeping" in note
    assert report.phases == {}  # no wait phase: nothing slept
    assert report.as_json()["notes"] == [note]
    assert f"Note: {note}" in report.markdown()


def test_compress_time_follows_the_alarm_period() -> None:
    now = gameday.compress_time(lambda *_: CloudWatch(period=300), TOPO, GameDayReport("x", "y"), real=Clock(REAL))
    assert now() == REAL + timedelta(seconds=301)


def test_compress_time_needs_the_switch_alarm() -> None:
    class NoAlarm(CloudWatch):
        def describe_alarms(self, AlarmNames: list[str]) -> dict[str, Any]:  # noqa: N803
            return {"MetricAlarms": []}

    with pytest.raises(LookupError, match=TOPO.switch_alarm_name):
        gameday.compress_time(lambda *_: NoAlarm(), TOPO, GameDayReport("x", "y"))


def test_run_failback_gives_the_failback_the_shifted_clock(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    built: dict[str, Any] = {}

    class FakeFailback:
        def __init__(self, topology: FailoverTopology, **kwargs: Any) -> None:
            built.update(kwargs)

        def run(self, options: FailbackOptions, *, run_id: str, execute: bool) -> RunResult:
            built.update(options=options, execute=execute)
            record = AuditRecord(run_id, "flip-switch", "done", {"timestamp": built["now"]().isoformat()})
            record.duration_s = 0.0
            return RunResult(run_id, "completed", [record])

    monkeypatch.setattr(gameday, "Failback", FakeFailback)
    now = gameday.failback_clock(60, Clock(REAL))
    report = GameDayReport("au-production", "http://localhost:5000")
    audits = (tmp_path / "failover.jsonl", tmp_path / "failback.jsonl")
    gameday.run_failback(lambda *_: object(), TOPO, "Z1", "gameday-1", audits, report, now=now)
    assert built["now"] is now and built["now"]() == REAL + timedelta(seconds=61)
    assert built["execute"] is True
    options: FailbackOptions = built["options"]
    # The maintenance window is read through the shifted clock too: the game day overrides it, with a reason.
    assert options.outside_window and "outside the maintenance window" in options.reason
    assert options.failover_audit_log == audits[0]
    assert [c.name for c in report.checks if c.ok] == ["failback completed"]

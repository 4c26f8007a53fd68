"""OPS-3 / DR-1: the numbers of runbooks/availability.md are the numbers of the code and config.

The availability design is a runbook-kind clause (OPS-3): its arithmetic must not drift from
what is deployed. Each figure the page states is recomputed here from its source.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import load_config
from config.policy import DATABASE_RPO_MAX_SECONDS, OBJECT_RPO_MAX_MINUTES
from patterns.bucket_replication import RTC_MINUTES
from patterns.failover_switch import SWITCH_PERIOD_SECONDS
from stacks.web import HEALTH_CHECK_FAILURE_THRESHOLD, HEALTH_CHECK_INTERVAL_SECONDS

PAGE = (Path(__file__).parents[2] / "runbooks" / "availability.md").read_text()


def test_ops3_detection_time_is_interval_times_threshold() -> None:
    seconds = HEALTH_CHECK_INTERVAL_SECONDS * HEALTH_CHECK_FAILURE_THRESHOLD
    assert (
        f"request interval {HEALTH_CHECK_INTERVAL_SECONDS} s x failure threshold "
        f"{HEALTH_CHECK_FAILURE_THRESHOLD} =\n  **{seconds} s**" in PAGE
    )


@pytest.mark.parametrize("name", ["au-production", "us-production", "uk-production"])
def test_dr1_database_rpo_is_the_configured_lag_alarm(name: str) -> None:
    standby = load_config().get(name).standby
    assert standby.replica_lag_alarm_seconds <= DATABASE_RPO_MAX_SECONDS
    assert f"threshold `standby.replica_lag_alarm_seconds` = {standby.replica_lag_alarm_seconds}" in PAGE
    assert f"lag above `standby.failover_max_lag_seconds` ({standby.failover_max_lag_seconds} s)" in PAGE


def test_dr1_object_rpo_is_the_rtc_sla() -> None:
    assert RTC_MINUTES == OBJECT_RPO_MAX_MINUTES == 15
    assert f"**<= {RTC_MINUTES} min** for 99.99 % of objects" in PAGE


def test_dr1_route53_move_includes_the_switch_period() -> None:
    assert f"alarm period {SWITCH_PERIOD_SECONDS} s" in PAGE


def test_ops3_monthly_budget_arithmetic() -> None:
    month = 30 * 24 * 60
    assert month == 43_200
    for target, minutes in ((0.9997, "13.0"), (0.9999, "4.3")):
        assert f"{month * (1 - target):.1f}" == minutes
        assert f"{minutes} min" in PAGE


def test_ops3_serial_sla_floor() -> None:
    floor = 0.9999 * 0.9999 * 0.9995 * 0.9999
    stated = re.search(r"= \*\*(\d+\.\d+) %\*\* as a floor", PAGE)
    assert stated is not None
    assert float(stated.group(1)) == pytest.approx(floor * 100, abs=0.005)

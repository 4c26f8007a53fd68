"""The warm standby in the DR region (DR-1, HOST-1 there too)."""

from __future__ import annotations

from config.errors import ErrorCollector
from config.model import Environment, Sizing, Standby
from config.policy import DATABASE_RPO_MAX_SECONDS, FAILOVER_MAX_LAG_SECONDS_LIMIT, STANDBY_MIN_WEB_CAPACITY


def check_standby(
    standby: Standby, sizing: Sizing, environment: Environment, where: str, errors: ErrorCollector
) -> None:
    if environment is Environment.PRODUCTION and not standby.enabled:
        errors.add(f"{where}.enabled", standby.enabled, "true in production (warm standby)", "DR-1")
    if not STANDBY_MIN_WEB_CAPACITY <= standby.web_min_capacity <= sizing.web_max_capacity:
        errors.add(
            f"{where}.web_min_capacity",
            standby.web_min_capacity,
            f"{STANDBY_MIN_WEB_CAPACITY} to sizing.web_max_capacity ({sizing.web_max_capacity})",
            "HOST-1",
        )
    if not 1 <= standby.replica_lag_alarm_seconds <= DATABASE_RPO_MAX_SECONDS:
        errors.add(
            f"{where}.replica_lag_alarm_seconds",
            standby.replica_lag_alarm_seconds,
            f"1 to {DATABASE_RPO_MAX_SECONDS} (the design database RPO)",
            "DR-1",
        )
    if not 1 <= standby.failover_max_lag_seconds <= FAILOVER_MAX_LAG_SECONDS_LIMIT:
        errors.add(
            f"{where}.failover_max_lag_seconds",
            standby.failover_max_lag_seconds,
            f"1 to {FAILOVER_MAX_LAG_SECONDS_LIMIT}",
            "DR-1",
        )

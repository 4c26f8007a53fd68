"""Load and validate the deployment configuration: the one place config is read.

Every check raises `ConfigError` naming the field, the value and what is allowed
(and the policy clause where one applies), before any construct is created.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.model import (
    AwsConfig,
    Deployment,
    Environment,
    Jurisdiction,
    MaintenanceWindow,
    PlatformConfig,
    Retention,
    Sizing,
    Standby,
)
from config.policy import (
    COLD_STORAGE_MIN_DAYS,
    DATABASE_RPO_MAX_SECONDS,
    JURISDICTION_REGIONS,
    LOG_RETENTION_ALLOWED_DAYS,
    RDS_AUTOMATED_BACKUP_MAX_DAYS,
    RETENTION_MINIMUMS,
    STANDBY_MIN_WEB_CAPACITY,
    WEEKDAYS,
)

DEFAULT_CONFIG_PATH = Path(__file__).with_name("deployments.toml")

_ACCOUNT = re.compile(r"^\d{12}$")
_EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_INSTANCE = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9]+)+$")
_BACKUP_RETENTIONS = (
    "hourly_backup_days",
    "twice_daily_backup_days",
    "ebs_snapshot_days",
    "rds_daily_backup_days",
    "monthly_archive_days",
)


class ConfigError(ValueError):
    """A configuration value that is malformed or breaks the policy."""

    def __init__(self, field: str, value: object, allowed: str, clause: str | None = None):
        self.field = field
        self.value = value
        self.allowed = allowed
        self.clause = clause
        prefix = f"[{clause}] " if clause else ""
        super().__init__(f"{prefix}invalid config {field} = {value!r}: allowed {allowed}")


def load_config(path: Path = DEFAULT_CONFIG_PATH) -> PlatformConfig:
    with path.open("rb") as handle:
        return parse_config(tomllib.load(handle))


def parse_config(raw: Mapping[str, Any]) -> PlatformConfig:
    _only_keys("", raw, {"defaults", "environments", "jurisdictions", "overrides"})
    defaults = _table(raw, "defaults")
    environments = _table(raw, "environments")
    jurisdictions = _table(raw, "jurisdictions")
    overrides = raw.get("overrides", {})
    _only_keys("environments", environments, {e.value for e in Environment})
    _only_keys("jurisdictions", jurisdictions, {j.value for j in Jurisdiction})

    deployments: list[Deployment] = []
    for jurisdiction_key, jurisdiction_raw in jurisdictions.items():
        accounts = _table(jurisdiction_raw, "accounts", f"jurisdictions.{jurisdiction_key}")
        for environment_key, environment_raw in environments.items():
            name = f"{jurisdiction_key}-{environment_key}"
            override = overrides.get(name, {})
            deployments.append(
                _deployment(
                    Jurisdiction(jurisdiction_key),
                    Environment(environment_key),
                    defaults,
                    jurisdiction_raw,
                    {
                        **environment_raw,
                        **{k: {**environment_raw.get(k, {}), **v} for k, v in override.items()},
                    },
                    accounts,
                )
            )
    names = {d.name for d in deployments}
    for unknown in sorted(set(overrides) - names):
        raise ConfigError(f"overrides.{unknown}", unknown, f"one of: {', '.join(sorted(names))}")
    _check_accounts_separate(deployments)
    return PlatformConfig(deployments=tuple(deployments))


def _deployment(
    jurisdiction: Jurisdiction,
    environment: Environment,
    defaults: Mapping[str, Any],
    jurisdiction_raw: Mapping[str, Any],
    environment_raw: Mapping[str, Any],
    accounts: Mapping[str, Any],
) -> Deployment:
    where = f"jurisdictions.{jurisdiction.value}"
    env_where = f"environments.{environment.value}"
    _only_keys(
        where,
        jurisdiction_raw,
        {
            "primary_region",
            "dr_region",
            "timezone",
            "domain_name",
            "alarm_email",
            "accounts",
        },
    )
    _only_keys(env_where, environment_raw, {"sizing", "retention", "maintenance", "standby", "aws_config"})

    account = str(accounts.get(environment.value, ""))
    if not _ACCOUNT.match(account):
        raise ConfigError(
            f"{where}.accounts.{environment.value}",
            account,
            "a 12-digit AWS account id",
        )

    primary, dr = (str(jurisdiction_raw.get(k, "")) for k in ("primary_region", "dr_region"))
    _check_region(f"{where}.primary_region", primary, jurisdiction)
    _check_region(f"{where}.dr_region", dr, jurisdiction)
    if dr == primary:
        raise ConfigError(
            f"{where}.dr_region",
            dr,
            f"a region other than the primary region {primary!r}",
            "HOST-2",
        )

    timezone = str(jurisdiction_raw.get("timezone", ""))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{where}.timezone",
            timezone,
            "an IANA time zone name such as 'Australia/Sydney'",
        ) from None

    domain = str(jurisdiction_raw.get("domain_name", ""))
    if not _DOMAIN.match(domain):
        raise ConfigError(
            f"{where}.domain_name",
            domain,
            "a lower-case DNS name such as 'au.example.com'",
        )
    email = str(jurisdiction_raw.get("alarm_email", ""))
    if not _EMAIL.match(email):
        raise ConfigError(f"{where}.alarm_email", email, "an e-mail address")

    sizing = _build(Sizing, _table(environment_raw, "sizing", env_where), f"{env_where}.sizing")
    retention = _build(
        Retention,
        _table(environment_raw, "retention", env_where),
        f"{env_where}.retention",
    )
    maintenance = _build(
        MaintenanceWindow,
        _table(environment_raw, "maintenance", env_where),
        f"{env_where}.maintenance",
    )
    standby = _build(Standby, _table(environment_raw, "standby", env_where), f"{env_where}.standby")
    aws_config = (
        _build(AwsConfig, _table(environment_raw, "aws_config", env_where), f"{env_where}.aws_config")
        if "aws_config" in environment_raw
        else AwsConfig()
    )
    if not isinstance(aws_config.create_recorder, bool):
        raise ConfigError(f"{env_where}.aws_config.create_recorder", aws_config.create_recorder, "true or false")
    _check_sizing(sizing, environment, f"{env_where}.sizing")
    _check_standby(standby, sizing, environment, f"{env_where}.standby")
    _check_retention(retention, environment, f"{env_where}.retention")
    _check_maintenance(maintenance, f"{env_where}.maintenance")

    return Deployment(
        jurisdiction=jurisdiction,
        environment=environment,
        account=account,
        primary_region=primary,
        dr_region=dr,
        timezone=timezone,
        domain_name=environment_domain(domain, environment),
        alarm_email=email,
        owner=str(defaults.get("owner", "")) or _missing("defaults.owner"),
        service=str(defaults.get("service", "")) or _missing("defaults.service"),
        sizing=sizing,
        retention=retention,
        maintenance=maintenance,
        standby=standby,
        aws_config=aws_config,
    )


def environment_domain(domain: str, environment: Environment) -> str:
    """Production serves the jurisdiction's domain; staging and development get a sub-domain
    of it (`staging.au.example.com`), each its own public zone in its own account: one name
    can be delegated to one zone only, so three environments sharing a zone name would leave
    two of them with certificates that never validate."""
    return domain if environment is Environment.PRODUCTION else f"{environment.value}.{domain}"


def _check_region(field: str, region: str, jurisdiction: Jurisdiction) -> None:
    allowed = JURISDICTION_REGIONS[jurisdiction.value]
    if region not in allowed:
        raise ConfigError(
            field,
            region,
            f"a region of jurisdiction {jurisdiction.value!r}: {', '.join(allowed)}",
            "HOST-2",
        )


def _check_sizing(sizing: Sizing, environment: Environment, where: str) -> None:
    for name in ("web_instance_type", "db_instance_class", "cache_node_type"):
        value = getattr(sizing, name)
        if not _INSTANCE.match(value):
            raise ConfigError(f"{where}.{name}", value, "an instance type such as 'm7i.large'")
    if not sizing.db_instance_class.startswith("db."):
        raise ConfigError(
            f"{where}.db_instance_class",
            sizing.db_instance_class,
            "an RDS class 'db.*'",
        )
    if not sizing.cache_node_type.startswith("cache."):
        raise ConfigError(
            f"{where}.cache_node_type",
            sizing.cache_node_type,
            "an ElastiCache type 'cache.*'",
        )
    if sizing.web_min_capacity < 2:
        raise ConfigError(f"{where}.web_min_capacity", sizing.web_min_capacity, "at least 2", "HOST-1")
    if sizing.web_min_capacity > sizing.web_max_capacity:
        raise ConfigError(
            f"{where}.web_min_capacity",
            sizing.web_min_capacity,
            f"at most web_max_capacity ({sizing.web_max_capacity})",
        )
    if not 1 <= sizing.web_cpu_target_percent <= 95:
        raise ConfigError(f"{where}.web_cpu_target_percent", sizing.web_cpu_target_percent, "1 to 95")
    if sizing.web_requests_per_target < 1:
        raise ConfigError(
            f"{where}.web_requests_per_target",
            sizing.web_requests_per_target,
            "at least 1",
        )
    if not 20 <= sizing.db_allocated_storage_gib <= sizing.db_max_allocated_storage_gib:
        raise ConfigError(
            f"{where}.db_allocated_storage_gib",
            sizing.db_allocated_storage_gib,
            f"20 to db_max_allocated_storage_gib ({sizing.db_max_allocated_storage_gib})",
        )
    if not 1 <= sizing.nat_gateways <= 3:
        raise ConfigError(f"{where}.nat_gateways", sizing.nat_gateways, "1 to 3")
    if not 0 <= sizing.cache_replicas <= 5:
        raise ConfigError(f"{where}.cache_replicas", sizing.cache_replicas, "0 to 5")
    if environment is Environment.PRODUCTION:
        if not sizing.db_multi_az:
            raise ConfigError(f"{where}.db_multi_az", False, "true in production", "HOST-4")
        if sizing.nat_gateways != 3:
            raise ConfigError(
                f"{where}.nat_gateways",
                sizing.nat_gateways,
                "3 in production (one per AZ)",
                "HOST-4",
            )
        if sizing.cache_replicas < 1:
            raise ConfigError(
                f"{where}.cache_replicas",
                sizing.cache_replicas,
                "at least 1 in production (failover)",
                "HOST-4",
            )


def _check_retention(retention: Retention, environment: Environment, where: str) -> None:
    for name, (minimum, clause) in RETENTION_MINIMUMS.items():
        value = getattr(retention, name)
        if value < minimum:
            raise ConfigError(
                f"{where}.{name}",
                value,
                f"at least {minimum} days (policy minimum)",
                clause,
            )
    if retention.rds_automated_backup_days > RDS_AUTOMATED_BACKUP_MAX_DAYS:
        raise ConfigError(
            f"{where}.rds_automated_backup_days",
            retention.rds_automated_backup_days,
            f"30 to {RDS_AUTOMATED_BACKUP_MAX_DAYS} days (RDS maximum)",
            "BAK-3",
        )
    if retention.log_retention_days not in LOG_RETENTION_ALLOWED_DAYS:
        allowed = ", ".join(str(d) for d in LOG_RETENTION_ALLOWED_DAYS if d >= 30)
        raise ConfigError(
            f"{where}.log_retention_days",
            retention.log_retention_days,
            f"one of {allowed}",
            "BAK-7",
        )
    if retention.log_archive_expiry_days <= retention.log_archive_transition_days:
        raise ConfigError(
            f"{where}.log_archive_expiry_days",
            retention.log_archive_expiry_days,
            f"more than log_archive_transition_days ({retention.log_archive_transition_days})",
            "BAK-7",
        )
    cold = retention.monthly_cold_storage_after_days
    if cold < 1 or retention.monthly_archive_days < cold + COLD_STORAGE_MIN_DAYS:
        raise ConfigError(
            f"{where}.monthly_cold_storage_after_days",
            cold,
            f"at least 1 and at most monthly_archive_days - {COLD_STORAGE_MIN_DAYS} (AWS Backup cold storage minimum)",
            "BAK-4",
        )
    shortest = min(getattr(retention, name) for name in _BACKUP_RETENTIONS)
    longest = max(getattr(retention, name) for name in _BACKUP_RETENTIONS)
    if not 1 <= retention.vault_lock_min_days <= shortest:
        raise ConfigError(
            f"{where}.vault_lock_min_days",
            retention.vault_lock_min_days,
            f"1 to {shortest} (the shortest backup retention)",
            "ACC-4",
        )
    if retention.vault_lock_max_days < longest:
        raise ConfigError(
            f"{where}.vault_lock_max_days",
            retention.vault_lock_max_days,
            f"at least {longest} (the longest backup retention)",
            "ACC-4",
        )


def _check_standby(standby: Standby, sizing: Sizing, environment: Environment, where: str) -> None:
    if environment is Environment.PRODUCTION and not standby.enabled:
        raise ConfigError(f"{where}.enabled", standby.enabled, "true in production (warm standby)", "DR-1")
    if not STANDBY_MIN_WEB_CAPACITY <= standby.web_min_capacity <= sizing.web_max_capacity:
        raise ConfigError(
            f"{where}.web_min_capacity",
            standby.web_min_capacity,
            f"{STANDBY_MIN_WEB_CAPACITY} to sizing.web_max_capacity ({sizing.web_max_capacity})",
            "HOST-1",
        )
    if not 1 <= standby.replica_lag_alarm_seconds <= DATABASE_RPO_MAX_SECONDS:
        raise ConfigError(
            f"{where}.replica_lag_alarm_seconds",
            standby.replica_lag_alarm_seconds,
            f"1 to {DATABASE_RPO_MAX_SECONDS} (the design database RPO)",
            "DR-1",
        )
    if not 1 <= standby.failover_max_lag_seconds <= 3600:
        raise ConfigError(f"{where}.failover_max_lag_seconds", standby.failover_max_lag_seconds, "1 to 3600", "DR-1")


def _check_maintenance(window: MaintenanceWindow, where: str) -> None:
    if window.day not in WEEKDAYS:
        raise ConfigError(f"{where}.day", window.day, f"one of {', '.join(WEEKDAYS)}", "OPS-5")
    if not _HHMM.match(window.start_utc):
        raise ConfigError(f"{where}.start_utc", window.start_utc, "a UTC time HH:MM", "OPS-5")
    if not 1 <= window.duration_hours <= 6:
        raise ConfigError(f"{where}.duration_hours", window.duration_hours, "1 to 6 hours", "OPS-5")


def _check_accounts_separate(deployments: list[Deployment]) -> None:
    """HOST-3: environments never share an account."""
    owner: dict[str, Deployment] = {}
    for deployment in deployments:
        other = owner.setdefault(deployment.account, deployment)
        if other.environment is not deployment.environment:
            raise ConfigError(
                f"jurisdictions.{deployment.jurisdiction.value}.accounts.{deployment.environment.value}",
                deployment.account,
                f"an account not used by {other.name} (environments are separate accounts)",
                "HOST-3",
            )


def _build(cls: Any, raw: Mapping[str, Any], where: str) -> Any:
    expected = {f.name: f.type for f in fields(cls)}
    _only_keys(where, raw, set(expected))
    values: dict[str, Any] = {}
    for name, type_name in expected.items():
        if name not in raw:
            raise ConfigError(f"{where}.{name}", None, "a value (the field is required)")
        value = raw[name]
        wanted = {"int": int, "bool": bool, "str": str}[str(type_name)]
        if type(value) is not wanted:
            raise ConfigError(f"{where}.{name}", value, f"a value of type {wanted.__name__}")
        values[name] = value
    return cls(**values)


def _table(raw: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any]:
    value = raw.get(key)
    field = f"{where}.{key}" if where else key
    if not isinstance(value, Mapping):
        raise ConfigError(field, value, "a table")
    return value


def _only_keys(where: str, raw: Mapping[str, Any], allowed: set[str]) -> None:
    for key in raw:
        if key not in allowed:
            field = f"{where}.{key}" if where else key
            raise ConfigError(field, key, f"one of: {', '.join(sorted(allowed))}")


def _missing(field: str) -> str:
    raise ConfigError(field, None, "a non-empty string")

"""Load and validate the deployment configuration: the one place config is read.

Validation reads the whole file and reports every error at once (`ConfigErrors`), each
naming the field, the value and what is allowed (and the policy clause where one
applies), before any construct is created. A TOML syntax error names the file and line.

Jurisdictions are configuration: a `[jurisdictions.<key>]` table with its regions, its
HOST-2 allow-list (`allowed_regions`, regions of `config/regions.py`), time zone, domain
and accounts is all a new one needs.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.model import (
    CIDR_INDEX_MAX,
    USER_EMAIL_SENDERS,
    AwsConfig,
    DeliveryPipeline,
    Deployment,
    EgressRule,
    Environment,
    Jurisdiction,
    MaintenanceWindow,
    PlatformConfig,
    RegionSizing,
    Release,
    Retention,
    Sizing,
    Standby,
    UserEmail,
)
from config.offerings import rds_postgres_classes
from config.policy import (
    AUDIT_LOCK_MODES,
    COLD_STORAGE_MIN_DAYS,
    DATABASE_RPO_MAX_SECONDS,
    EGRESS_MIN_PREFIX_LENGTH,
    EGRESS_REASON_MIN_LENGTH,
    LOG_RETENTION_ALLOWED_DAYS,
    PRODUCTION_AUDIT_LOCK_MODE,
    RDS_AUTOMATED_BACKUP_MAX_DAYS,
    RELEASE_SHA256_PATTERN,
    RELEASE_VERSION_PATTERN,
    RETENTION_MINIMUMS,
    STANDBY_MIN_WEB_CAPACITY,
    WEEKDAYS,
)
from config.regions import KNOWN_REGIONS

DEFAULT_CONFIG_PATH = Path(__file__).with_name("deployments.toml")

_ACCOUNT = re.compile(r"^\d{12}$")
_EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_INSTANCE = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9]+)+$")
# Part of every stack and physical name (`<jurisdiction>-<environment>-...`): short and plain.
_JURISDICTION_KEY = re.compile(r"^[a-z][a-z0-9]{1,7}$")
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)$|\(at end of document\)$")
_BACKUP_RETENTIONS = (
    "hourly_backup_days",
    "twice_daily_backup_days",
    "ebs_snapshot_days",
    "rds_daily_backup_days",
    "monthly_archive_days",
)
_TOP_KEYS = {"defaults", "environments", "jurisdictions", "overrides"}
_JURISDICTION_KEYS = {
    "primary_region",
    "dr_region",
    "allowed_regions",
    "cidr_index",
    "timezone",
    "domain_name",
    "alarm_email",
    "accounts",
    "pipeline",
}
_PIPELINE_KEYS = ("account", "region", "connection_arn", "repository", "branch")
_CONNECTION_ARN = re.compile(
    r"^arn:aws:(codeconnections|codestar-connections):(?P<region>[a-z0-9-]+):(?P<account>\d{12}):connection/[0-9a-f-]{36}$"
)
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_BRANCH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
_ENVIRONMENT_KEYS = {
    "sizing",
    "retention",
    "maintenance",
    "standby",
    "aws_config",
    "user_email",
    "release",
    "region_sizing",
    "web_egress",
}
_REGION_SIZING_KEYS = ("db_instance_class",)
_EGRESS_KEYS = ("allow",)
_EGRESS_RULE_KEYS = ("cidr", "port", "reason")


class ConfigError(ValueError):
    """A configuration value that is malformed or breaks the policy."""

    def __init__(self, field: str, value: object, allowed: str, clause: str | None = None):
        self.field = field
        self.value = value
        self.allowed = allowed
        self.clause = clause
        prefix = f"[{clause}] " if clause else ""
        super().__init__(f"{prefix}invalid config {field} = {value!r}: allowed {allowed}")


class InstanceClassNotOfferedError(ConfigError):
    """An RDS class the region does not offer for PostgreSQL (cfn-lint's region data, config/offerings.py)."""

    def __init__(self, field: str, value: str, region: str, offered: Sequence[str], deployment: str):
        self.region = region
        self.offered = tuple(offered)
        super().__init__(
            field,
            value,
            f"a PostgreSQL class RDS offers in {region} (the {deployment} database there): {', '.join(offered)}; "
            f'a DR region may have its own: [environments.<env>.region_sizing."{region}"] db_instance_class',
        )


class ConfigErrors(ConfigError):  # noqa: N818 (the plural of ConfigError: every error of a file)
    """Every error of one configuration file, one per line of the message.

    A `ConfigError` (so `except ConfigError` catches it); `field`, `value`, `allowed` and
    `clause` are those of the first error, `errors` holds them all in file order."""

    def __init__(self, errors: Sequence[ConfigError], source: str = "configuration"):
        if not errors:
            raise ValueError("ConfigErrors needs at least one error")
        self.errors = tuple(errors)
        self.source = source
        first = self.errors[0]
        self.field, self.value, self.allowed, self.clause = first.field, first.value, first.allowed, first.clause
        count = f"{len(self.errors)} error" + ("s" if len(self.errors) > 1 else "")
        lines = [f"{count} in {source}:", *(f"  {error}" for error in self.errors)]
        ValueError.__init__(self, "\n".join(lines))


class ConfigSyntaxError(ConfigError):
    """The file cannot be read as TOML: its path, line and column, and why."""

    def __init__(self, path: Path, line: int | None, column: int | None, reason: str):
        self.path, self.line, self.column, self.reason = path, line, column, reason
        where = f"{path}:{line}:{column}" if line is not None else str(path)
        position = f"line {line}, column {column}" if line is not None else "end of file"
        self.field, self.value, self.allowed, self.clause = where, reason, "valid TOML", None
        ValueError.__init__(self, f"{where}: invalid TOML at {position}: {reason}")


def load_config(path: Path = DEFAULT_CONFIG_PATH) -> PlatformConfig:
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError("config file", str(path), "an existing TOML file") from None
    except tomllib.TOMLDecodeError as error:
        raise _syntax_error(path, error) from None
    return parse_config(raw, source=str(path))


def _syntax_error(path: Path, error: tomllib.TOMLDecodeError) -> ConfigSyntaxError:
    message = str(error)
    match = _TOML_POSITION.search(message)
    reason = message[: match.start()].strip() if match else message
    if match and match.group(1):
        return ConfigSyntaxError(path, int(match.group(1)), int(match.group(2)), reason)
    return ConfigSyntaxError(path, None, None, reason)


class _Errors:
    """Collects every error of a file (once each) instead of stopping at the first."""

    def __init__(self) -> None:
        self.found: list[ConfigError] = []
        self.count = 0  # every error reported, repeats included: "did this part fail?" compares it
        self._seen: set[tuple[str, str, str, str | None]] = set()

    def add(self, field: str, value: object, allowed: str, clause: str | None = None) -> None:
        self.count += 1
        key = (field, repr(value), allowed, clause)
        if key not in self._seen:
            self._seen.add(key)
            self.found.append(ConfigError(field, value, allowed, clause))

    def add_error(self, error: ConfigError) -> None:
        self.count += 1
        key = (error.field, repr(error.value), error.allowed, error.clause)
        if key not in self._seen:
            self._seen.add(key)
            self.found.append(error)

    def table(self, raw: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any] | None:
        value = raw.get(key)
        if not isinstance(value, Mapping):
            self.add(f"{where}.{key}" if where else key, value, "a table")
            return None
        return value

    def only_keys(self, where: str, raw: Mapping[str, Any], allowed: Iterable[str]) -> None:
        names = set(allowed)
        for key in raw:
            if key not in names:
                self.add(f"{where}.{key}" if where else key, key, f"one of: {', '.join(sorted(names))}")

    def string(self, raw: Mapping[str, Any], key: str, where: str) -> str:
        value = raw.get(key)
        if not isinstance(value, str) or not value:
            self.add(f"{where}.{key}", value, "a non-empty string")
            return ""
        return value


@dataclass(frozen=True)
class _JurisdictionSpec:
    """One `[jurisdictions.<key>]` table, validated."""

    key: Jurisdiction
    primary_region: str
    dr_region: str
    allowed_regions: tuple[str, ...]
    cidr_index: int
    timezone: str
    domain_name: str
    alarm_email: str
    accounts: Mapping[Environment, str]
    pipeline: DeliveryPipeline | None = None


def parse_config(raw: Mapping[str, Any], source: str = "configuration") -> PlatformConfig:
    """Validate a whole configuration; raise `ConfigErrors` listing every error found."""
    errors = _Errors()
    errors.only_keys("", raw, _TOP_KEYS)
    defaults = errors.table(raw, "defaults")
    environments = errors.table(raw, "environments")
    jurisdictions = errors.table(raw, "jurisdictions")
    overrides = raw.get("overrides", {})
    if not isinstance(overrides, Mapping):
        errors.add("overrides", overrides, "a table of deployment names")
        overrides = {}

    owner = errors.string(defaults, "owner", "defaults") if defaults is not None else ""
    service = errors.string(defaults, "service", "defaults") if defaults is not None else ""

    environment_tables: dict[Environment, Mapping[str, Any]] = {}
    if environments is not None:
        errors.only_keys("environments", environments, (e.value for e in Environment))
        for key in environments:
            if key in {e.value for e in Environment}:
                table = errors.table(environments, key, "environments")
                if table is not None:
                    environment_tables[Environment(key)] = table

    specs: list[_JurisdictionSpec] = []
    names = {f"{j}-{e.value}" for j in (jurisdictions or {}) for e in environment_tables}
    if jurisdictions is not None:
        for position, key in enumerate(jurisdictions):
            spec = _jurisdiction(key, jurisdictions.get(key), position, tuple(environment_tables), errors)
            if spec is not None:
                specs.append(spec)
        _check_jurisdictions_distinct(specs, errors)
    pipelines = tuple(spec.pipeline for spec in specs if spec.pipeline is not None)

    deployments: list[Deployment] = []
    for spec in specs:
        for environment, environment_raw in environment_tables.items():
            name = f"{spec.key.value}-{environment.value}"
            merged = _with_override(environment_raw, overrides.get(name), f"overrides.{name}", errors)
            deployment = _deployment(spec, environment, owner, service, merged, errors)
            if deployment is not None:
                deployments.append(deployment)
    if jurisdictions is not None and environments is not None:
        for unknown in sorted(set(overrides) - names):
            errors.add(f"overrides.{unknown}", unknown, f"one of: {', '.join(sorted(names))}")
    _check_accounts_separate(deployments, errors)
    _check_tooling_accounts(pipelines, deployments, errors)
    if errors.found:
        raise ConfigErrors(errors.found, source)
    return PlatformConfig(deployments=tuple(deployments), pipelines=pipelines)


def _jurisdiction(
    key: str,
    raw: object,
    position: int,
    environments: tuple[Environment, ...],
    errors: _Errors,
) -> _JurisdictionSpec | None:
    where = f"jurisdictions.{key}"
    before = errors.count
    if not _JURISDICTION_KEY.match(key):
        errors.add(where, key, "a key of 2 to 8 lower-case letters and digits, starting with a letter (e.g. 'au')")
    if not isinstance(raw, Mapping):
        errors.add(where, raw, "a table")
        return None
    errors.only_keys(where, raw, _JURISDICTION_KEYS)

    allowed = _allowed_regions(raw.get("allowed_regions"), f"{where}.allowed_regions", errors)
    primary, dr = (str(raw.get(k, "")) for k in ("primary_region", "dr_region"))
    _check_region(f"{where}.primary_region", primary, key, allowed, errors)
    _check_region(f"{where}.dr_region", dr, key, allowed, errors)
    if dr == primary:
        errors.add(f"{where}.dr_region", dr, f"a region other than the primary region {primary!r}", "HOST-2")

    cidr_index = raw.get("cidr_index", position)
    if type(cidr_index) is not int or not 0 <= cidr_index <= CIDR_INDEX_MAX:
        errors.add(
            f"{where}.cidr_index",
            cidr_index,
            f"an integer 0 to {CIDR_INDEX_MAX} (the jurisdiction's VPC address block; default: its place in the file)",
        )

    timezone = str(raw.get("timezone", ""))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.add(f"{where}.timezone", timezone, "an IANA time zone name such as 'Australia/Sydney'")
    domain = str(raw.get("domain_name", ""))
    if not _DOMAIN.match(domain):
        errors.add(f"{where}.domain_name", domain, "a lower-case DNS name such as 'au.example.com'")
    email = str(raw.get("alarm_email", ""))
    if not _EMAIL.match(email):
        errors.add(f"{where}.alarm_email", email, "an e-mail address")

    accounts: dict[Environment, str] = {}
    accounts_raw = errors.table(raw, "accounts", where)
    for environment in environments:
        account = str(accounts_raw.get(environment.value, "")) if accounts_raw is not None else ""
        if accounts_raw is not None and not _ACCOUNT.match(account):
            errors.add(f"{where}.accounts.{environment.value}", account, "a 12-digit AWS account id")
        accounts[environment] = account
    pipeline = _pipeline(Jurisdiction(key), raw.get("pipeline"), f"{where}.pipeline", allowed, errors)

    if errors.count > before:
        return None
    assert type(cidr_index) is int
    return _JurisdictionSpec(
        key=Jurisdiction(key),
        primary_region=primary,
        dr_region=dr,
        allowed_regions=allowed,
        cidr_index=cidr_index,
        timezone=timezone,
        domain_name=domain,
        alarm_email=email,
        accounts=accounts,
        pipeline=pipeline,
    )


def _pipeline(
    jurisdiction: Jurisdiction, raw: object, where: str, allowed: tuple[str, ...], errors: _Errors
) -> DeliveryPipeline | None:
    """`[jurisdictions.<j>.pipeline]` (optional): the jurisdiction's CDK pipeline (stacks/pipeline.py)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        errors.add(where, raw, "a table with: " + ", ".join(_PIPELINE_KEYS))
        return None
    before = errors.count
    errors.only_keys(where, raw, _PIPELINE_KEYS)
    account = str(raw.get("account", ""))
    if not _ACCOUNT.match(account):
        errors.add(f"{where}.account", account, "a 12-digit AWS account id (the tooling account)")
    region = str(raw.get("region", ""))
    _check_region(f"{where}.region", region, jurisdiction.value, allowed, errors)
    connection = str(raw.get("connection_arn", ""))
    match = _CONNECTION_ARN.match(connection)
    if match is None:
        errors.add(
            f"{where}.connection_arn",
            connection,
            "a CodeConnections ARN: arn:aws:codeconnections:<region>:<account>:connection/<uuid>",
        )
    elif (match["region"], match["account"]) != (region, account):
        errors.add(
            f"{where}.connection_arn",
            connection,
            f"a connection of the pipeline's own account and region ({account}, {region})",
            "HOST-2",
        )
    repository = str(raw.get("repository", ""))
    if not _REPOSITORY.match(repository):
        errors.add(f"{where}.repository", repository, "'owner/name' of the repository the connection reaches")
    branch = str(raw.get("branch", "main"))
    if not _BRANCH.match(branch):
        errors.add(f"{where}.branch", branch, "a branch name such as 'main'")
    if errors.count > before:
        return None
    return DeliveryPipeline(
        jurisdiction=jurisdiction,
        account=account,
        region=region,
        connection_arn=connection,
        repository=repository,
        branch=branch,
        allowed_regions=allowed,
    )


def _allowed_regions(value: object, field: str, errors: _Errors) -> tuple[str, ...]:
    """HOST-2's allow-list: known regions (config/regions.py), at least two (primary and DR), no repeats."""
    if not isinstance(value, list) or len(value) < 2 or not all(isinstance(r, str) for r in value):
        errors.add(
            field, value, "a list of at least two region names (the primary and DR regions among them)", "HOST-2"
        )
        return ()
    for index, region in enumerate(value):
        if region not in KNOWN_REGIONS:
            errors.add(f"{field}[{index}]", region, f"a region of config/regions.py: {', '.join(KNOWN_REGIONS)}")
        elif region in value[:index]:
            errors.add(f"{field}[{index}]", region, "each region once")
    return tuple(value)


def _check_region(field: str, region: str, jurisdiction: str, allowed: tuple[str, ...], errors: _Errors) -> None:
    if allowed and region not in allowed:
        errors.add(field, region, f"a region of jurisdiction {jurisdiction!r}: {', '.join(allowed)}", "HOST-2")


def _check_jurisdictions_distinct(specs: Sequence[_JurisdictionSpec], errors: _Errors) -> None:
    """Two jurisdictions never share a VPC address block or a domain (one zone per name)."""
    cidr_owner: dict[int, str] = {}
    domain_owner: dict[str, str] = {}
    for spec in specs:
        key = spec.key.value
        other = cidr_owner.setdefault(spec.cidr_index, key)
        if other != key:
            errors.add(
                f"jurisdictions.{key}.cidr_index",
                spec.cidr_index,
                f"an index not used by jurisdiction {other!r} (set cidr_index explicitly; "
                f"in use: {', '.join(str(i) for i in sorted(cidr_owner))})",
            )
        other = domain_owner.setdefault(spec.domain_name, key)
        if other != key:
            errors.add(
                f"jurisdictions.{key}.domain_name",
                spec.domain_name,
                f"a domain not used by jurisdiction {other!r} (a name is delegated to one zone)",
            )


def _with_override(
    environment_raw: Mapping[str, Any], override: object, where: str, errors: _Errors
) -> Mapping[str, Any]:
    if override is None:
        return environment_raw
    if not isinstance(override, Mapping):
        errors.add(
            where,
            override,
            "a table of sections (sizing, retention, maintenance, standby, aws_config, user_email, release, "
            "web_egress)",
        )
        return environment_raw
    merged = dict(environment_raw)
    for section, values in override.items():
        base = environment_raw.get(section, {})
        if not isinstance(values, Mapping) or not isinstance(base, Mapping):
            errors.add(f"{where}.{section}", values, "a table of fields")
            continue
        merged[section] = {**base, **values}
    return merged


def _deployment(
    spec: _JurisdictionSpec,
    environment: Environment,
    owner: str,
    service: str,
    environment_raw: Mapping[str, Any],
    errors: _Errors,
) -> Deployment | None:
    env_where = f"environments.{environment.value}"
    before = errors.count
    errors.only_keys(env_where, environment_raw, _ENVIRONMENT_KEYS)

    sizing = _section(Sizing, environment_raw, "sizing", env_where, errors)
    retention = _section(Retention, environment_raw, "retention", env_where, errors)
    maintenance = _section(MaintenanceWindow, environment_raw, "maintenance", env_where, errors)
    standby = _section(Standby, environment_raw, "standby", env_where, errors)
    aws_config = (
        _section(AwsConfig, environment_raw, "aws_config", env_where, errors)
        if "aws_config" in environment_raw
        else AwsConfig()
    )
    user_email = _section(UserEmail, environment_raw, "user_email", env_where, errors)
    if user_email is not None:
        _check_user_email(user_email, environment, f"{env_where}.user_email", errors)
    release = _section(Release, environment_raw, "release", env_where, errors) if "release" in environment_raw else None
    if release is not None:
        _check_release(release, f"{env_where}.release", errors)
    region_sizing = _region_sizing(environment_raw.get("region_sizing", {}), f"{env_where}.region_sizing", spec, errors)
    web_egress = _web_egress(environment_raw.get("web_egress", {}), f"{env_where}.web_egress", errors)
    if sizing is not None:
        _check_offered(sizing, region_sizing, spec, f"{spec.key.value}-{environment.value}", env_where, errors)
    if sizing is not None:
        _check_sizing(sizing, environment, f"{env_where}.sizing", errors)
    if standby is not None and sizing is not None:
        _check_standby(standby, sizing, environment, f"{env_where}.standby", errors)
    if retention is not None:
        _check_retention(retention, f"{env_where}.retention", errors)
        _check_audit_lock(retention, environment, f"{env_where}.retention", errors)
    if maintenance is not None:
        _check_maintenance(maintenance, f"{env_where}.maintenance", errors)

    if (
        errors.count > before
        or sizing is None
        or retention is None
        or maintenance is None
        or standby is None
        or aws_config is None
        or user_email is None
        or not owner
        or not service
    ):
        return None
    return Deployment(
        jurisdiction=spec.key,
        environment=environment,
        account=spec.accounts[environment],
        primary_region=spec.primary_region,
        dr_region=spec.dr_region,
        timezone=spec.timezone,
        domain_name=environment_domain(spec.domain_name, environment),
        alarm_email=spec.alarm_email,
        owner=owner,
        service=service,
        sizing=sizing,
        retention=retention,
        maintenance=maintenance,
        standby=standby,
        allowed_regions=spec.allowed_regions,
        cidr_index=spec.cidr_index,
        aws_config=aws_config,
        user_email=user_email,
        release=release,
        region_sizing=region_sizing,
        web_egress=web_egress,
    )


def environment_domain(domain: str, environment: Environment) -> str:
    """Production serves the jurisdiction's domain; staging and development get a sub-domain
    of it (`staging.au.example.com`), each its own public zone in its own account: one name
    can be delegated to one zone only, so three environments sharing a zone name would leave
    two of them with certificates that never validate."""
    return domain if environment is Environment.PRODUCTION else f"{environment.value}.{domain}"


def _check_sizing(sizing: Sizing, environment: Environment, where: str, errors: _Errors) -> None:
    for name in ("web_instance_type", "db_instance_class", "cache_node_type"):
        value = getattr(sizing, name)
        if not _INSTANCE.match(value):
            errors.add(f"{where}.{name}", value, "an instance type such as 'm7i.large'")
    if not sizing.db_instance_class.startswith("db."):
        errors.add(f"{where}.db_instance_class", sizing.db_instance_class, "an RDS class 'db.*'")
    if not sizing.cache_node_type.startswith("cache."):
        errors.add(f"{where}.cache_node_type", sizing.cache_node_type, "an ElastiCache type 'cache.*'")
    if sizing.web_min_capacity < 2:
        errors.add(f"{where}.web_min_capacity", sizing.web_min_capacity, "at least 2", "HOST-1")
    if sizing.web_min_capacity > sizing.web_max_capacity:
        errors.add(
            f"{where}.web_min_capacity",
            sizing.web_min_capacity,
            f"at most web_max_capacity ({sizing.web_max_capacity})",
        )
    if not 1 <= sizing.web_cpu_target_percent <= 95:
        errors.add(f"{where}.web_cpu_target_percent", sizing.web_cpu_target_percent, "1 to 95")
    if sizing.web_requests_per_target < 1:
        errors.add(f"{where}.web_requests_per_target", sizing.web_requests_per_target, "at least 1")
    if not 20 <= sizing.db_allocated_storage_gib <= sizing.db_max_allocated_storage_gib:
        errors.add(
            f"{where}.db_allocated_storage_gib",
            sizing.db_allocated_storage_gib,
            f"20 to db_max_allocated_storage_gib ({sizing.db_max_allocated_storage_gib})",
        )
    if not 1 <= sizing.nat_gateways <= 3:
        errors.add(f"{where}.nat_gateways", sizing.nat_gateways, "1 to 3")
    if not 0 <= sizing.cache_replicas <= 5:
        errors.add(f"{where}.cache_replicas", sizing.cache_replicas, "0 to 5")
    if environment is Environment.PRODUCTION:
        if not sizing.db_multi_az:
            errors.add(f"{where}.db_multi_az", False, "true in production", "HOST-4")
        if sizing.nat_gateways != 3:
            errors.add(f"{where}.nat_gateways", sizing.nat_gateways, "3 in production (one per AZ)", "HOST-4")
        if sizing.cache_replicas < 1:
            errors.add(
                f"{where}.cache_replicas", sizing.cache_replicas, "at least 1 in production (failover)", "HOST-4"
            )


def _check_retention(retention: Retention, where: str, errors: _Errors) -> None:
    for name, (minimum, clause) in RETENTION_MINIMUMS.items():
        value = getattr(retention, name)
        if value < minimum:
            errors.add(f"{where}.{name}", value, f"at least {minimum} days (policy minimum)", clause)
    if retention.rds_automated_backup_days > RDS_AUTOMATED_BACKUP_MAX_DAYS:
        errors.add(
            f"{where}.rds_automated_backup_days",
            retention.rds_automated_backup_days,
            f"30 to {RDS_AUTOMATED_BACKUP_MAX_DAYS} days (RDS maximum)",
            "BAK-3",
        )
    if retention.log_retention_days not in LOG_RETENTION_ALLOWED_DAYS:
        allowed = ", ".join(str(d) for d in LOG_RETENTION_ALLOWED_DAYS if d >= 30)
        errors.add(f"{where}.log_retention_days", retention.log_retention_days, f"one of {allowed}", "BAK-7")
    if retention.log_archive_expiry_days <= retention.log_archive_transition_days:
        errors.add(
            f"{where}.log_archive_expiry_days",
            retention.log_archive_expiry_days,
            f"more than log_archive_transition_days ({retention.log_archive_transition_days})",
            "BAK-7",
        )
    cold = retention.monthly_cold_storage_after_days
    if cold < 1 or retention.monthly_archive_days < cold + COLD_STORAGE_MIN_DAYS:
        errors.add(
            f"{where}.monthly_cold_storage_after_days",
            cold,
            f"at least 1 and at most monthly_archive_days - {COLD_STORAGE_MIN_DAYS} (AWS Backup cold storage minimum)",
            "BAK-4",
        )
    shortest = min(getattr(retention, name) for name in _BACKUP_RETENTIONS)
    longest = max(getattr(retention, name) for name in _BACKUP_RETENTIONS)
    if not 1 <= retention.vault_lock_min_days <= shortest:
        errors.add(
            f"{where}.vault_lock_min_days",
            retention.vault_lock_min_days,
            f"1 to {shortest} (the shortest backup retention)",
            "ACC-4",
        )
    if retention.vault_lock_max_days < longest:
        errors.add(
            f"{where}.vault_lock_max_days",
            retention.vault_lock_max_days,
            f"at least {longest} (the longest backup retention)",
            "ACC-4",
        )


def _check_audit_lock(retention: Retention, environment: Environment, where: str, errors: _Errors) -> None:
    mode = retention.audit_lock_mode
    if mode not in AUDIT_LOCK_MODES:
        errors.add(f"{where}.audit_lock_mode", mode, f"one of {', '.join(AUDIT_LOCK_MODES)}", "ACC-3")
    elif environment is Environment.PRODUCTION and mode != PRODUCTION_AUDIT_LOCK_MODE:
        errors.add(
            f"{where}.audit_lock_mode",
            mode,
            f"{PRODUCTION_AUDIT_LOCK_MODE} in production (audit records nobody can delete early)",
            "ACC-3",
        )


def _check_standby(standby: Standby, sizing: Sizing, environment: Environment, where: str, errors: _Errors) -> None:
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
    if not 1 <= standby.failover_max_lag_seconds <= 3600:
        errors.add(f"{where}.failover_max_lag_seconds", standby.failover_max_lag_seconds, "1 to 3600", "DR-1")


def _region_sizing(raw: object, where: str, spec: _JurisdictionSpec, errors: _Errors) -> tuple[RegionSizing, ...]:
    """`region_sizing."<region>"` tables of the deployment's DR region (other regions: other jurisdictions')."""
    if not isinstance(raw, Mapping):
        errors.add(
            where, raw, 'a table of region tables, e.g. [environments.production.region_sizing."ap-southeast-4"]'
        )
        return ()
    found = []
    for region, table in raw.items():
        field = f'{where}."{region}"'
        if region not in KNOWN_REGIONS:
            errors.add(field, region, f"a region of config/regions.py: {', '.join(KNOWN_REGIONS)}")
            continue
        if not isinstance(table, Mapping):
            errors.add(field, table, "a table with db_instance_class")
            continue
        errors.only_keys(field, table, _REGION_SIZING_KEYS)
        value = table.get("db_instance_class")
        if not isinstance(value, str) or not value.startswith("db."):
            errors.add(f"{field}.db_instance_class", value, "an RDS class 'db.*'")
            continue
        if region == spec.primary_region:
            errors.add(
                field,
                region,
                f"a DR region: {region} is jurisdiction {spec.key.value!r}'s primary region, which runs "
                "sizing.db_instance_class (set it per deployment in [overrides])",
            )
            continue
        if region == spec.dr_region:
            found.append(RegionSizing(region=region, db_instance_class=value))
    return tuple(found)


def _web_egress(raw: object, where: str, errors: _Errors) -> tuple[EgressRule, ...]:
    """`web_egress.allow`: the third-party APIs the web tier may call, each `{ cidr, port, reason }` (ACC-1)."""
    if not isinstance(raw, Mapping):
        errors.add(where, raw, "a table with allow = [{ cidr, port, reason }, ...]")
        return ()
    errors.only_keys(where, raw, _EGRESS_KEYS)
    entries = raw.get("allow", [])
    if not isinstance(entries, list):
        errors.add(f"{where}.allow", entries, "a list of { cidr, port, reason } tables")
        return ()
    found = []
    for index, entry in enumerate(entries):
        field = f"{where}.allow[{index}]"
        if not isinstance(entry, Mapping):
            errors.add(field, entry, "a table { cidr, port, reason }")
            continue
        before = errors.count
        errors.only_keys(field, entry, _EGRESS_RULE_KEYS)
        cidr, port, reason = entry.get("cidr"), entry.get("port"), entry.get("reason")
        network = _egress_network(cidr)
        if network is None or network.prefixlen < EGRESS_MIN_PREFIX_LENGTH:
            errors.add(
                f"{field}.cidr",
                cidr,
                f"an IPv4 network address with a prefix of /{EGRESS_MIN_PREFIX_LENGTH} to /32 (e.g. '203.0.113.0/24'); "
                "never 0.0.0.0/0: AWS APIs are reached through the VPC's endpoints",
                "ACC-1",
            )
        if type(port) is not int or not 1 <= port <= 65535:
            errors.add(f"{field}.port", port, "a TCP port 1 to 65535")
        if not isinstance(reason, str) or len(reason.strip()) < EGRESS_REASON_MIN_LENGTH:
            errors.add(
                f"{field}.reason", reason, f"who is called and why, at least {EGRESS_REASON_MIN_LENGTH} characters"
            )
        if errors.count == before and network is not None and isinstance(reason, str) and type(port) is int:
            found.append(EgressRule(cidr=str(network), port=port, reason=reason.strip()))
    return tuple(found)


def _egress_network(value: object) -> IPv4Network | None:
    if not isinstance(value, str) or "/" not in value:
        return None
    try:
        return IPv4Network(value, strict=True)
    except ValueError:
        return None


def _check_offered(
    sizing: Sizing,
    region_sizing: tuple[RegionSizing, ...],
    spec: _JurisdictionSpec,
    deployment: str,
    where: str,
    errors: _Errors,
) -> None:
    """Issue 17 item 2: each region's database class is one RDS offers there for PostgreSQL."""
    overrides = {r.region: r.db_instance_class for r in region_sizing}
    for region in (spec.primary_region, spec.dr_region):
        value = overrides.get(region, sizing.db_instance_class)
        offered = rds_postgres_classes().get(region)
        if offered is None or value in offered:
            continue
        field = (
            f'{where}.region_sizing."{region}".db_instance_class'
            if region in overrides
            else f"{where}.sizing.db_instance_class"
        )
        errors.add_error(InstanceClassNotOfferedError(field, value, region, sorted(offered), deployment))


def _check_release(release: Release, where: str, errors: _Errors) -> None:
    """OPS-7: a pinned release names one immutable artifact: a semantic version and its SHA-256 digest."""
    if not re.fullmatch(RELEASE_VERSION_PATTERN, release.version):
        errors.add(f"{where}.version", release.version, "a semantic version such as 2.0.0 (never 'latest')", "OPS-7")
    if not re.fullmatch(RELEASE_SHA256_PATTERN, release.sha256):
        errors.add(
            f"{where}.sha256", release.sha256, "64 lowercase hexadecimal digits (the artifact's SHA-256)", "OPS-7"
        )


def _check_user_email(email: UserEmail, environment: Environment, where: str, errors: _Errors) -> None:
    """Cognito's own sender sends about 50 e-mails a day per account: not enough for tenants' users."""
    if email.sender not in USER_EMAIL_SENDERS:
        errors.add(f"{where}.sender", email.sender, f"one of {', '.join(USER_EMAIL_SENDERS)}")
    elif email.sender == "cognito" and environment is not Environment.DEVELOPMENT:
        errors.add(
            f"{where}.sender",
            email.sender,
            "ses (Cognito's default sender, about 50 e-mails a day, serves development only)",
        )
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?", email.from_local_part):
        errors.add(f"{where}.from_local_part", email.from_local_part, "a lower-case mailbox name such as 'no-reply'")


def _check_maintenance(window: MaintenanceWindow, where: str, errors: _Errors) -> None:
    if window.day not in WEEKDAYS:
        errors.add(f"{where}.day", window.day, f"one of {', '.join(WEEKDAYS)}", "OPS-5")
    if not _HHMM.match(window.start_utc):
        errors.add(f"{where}.start_utc", window.start_utc, "a UTC time HH:MM", "OPS-5")
    if not 1 <= window.duration_hours <= 6:
        errors.add(f"{where}.duration_hours", window.duration_hours, "1 to 6 hours", "OPS-5")


def _check_tooling_accounts(
    pipelines: Sequence[DeliveryPipeline], deployments: Sequence[Deployment], errors: _Errors
) -> None:
    """A pipeline's tooling account holds no workload: a deploy role there could not reach the data
    (ACC-1), and deleting a workload account never deletes a jurisdiction's delivery (HOST-3)."""
    workload = {d.account: d.name for d in deployments}
    for pipeline in pipelines:
        if pipeline.account in workload:
            errors.add(
                f"jurisdictions.{pipeline.jurisdiction.value}.pipeline.account",
                pipeline.account,
                f"a tooling account that no deployment uses (it is {workload[pipeline.account]}'s)",
                "ACC-1",
            )


def _check_accounts_separate(deployments: Sequence[Deployment], errors: _Errors) -> None:
    """HOST-3: environments never share an account."""
    owner: dict[str, Deployment] = {}
    for deployment in deployments:
        other = owner.setdefault(deployment.account, deployment)
        if other.environment is not deployment.environment:
            errors.add(
                f"jurisdictions.{deployment.jurisdiction.value}.accounts.{deployment.environment.value}",
                deployment.account,
                f"an account not used by {other.name} (environments are separate accounts)",
                "HOST-3",
            )


_Section = TypeVar("_Section", Sizing, Retention, MaintenanceWindow, Standby, AwsConfig, UserEmail, Release)


def _section(cls: type[_Section], raw: Mapping[str, Any], key: str, where: str, errors: _Errors) -> _Section | None:
    """Build one section's dataclass, reporting every missing, unknown or mistyped field."""
    table = errors.table(raw, key, where)
    if table is None:
        return None
    where = f"{where}.{key}"
    expected = {f.name: f.type for f in fields(cls)}
    before = errors.count
    errors.only_keys(where, table, expected)
    values: dict[str, Any] = {}
    for name, type_name in expected.items():
        if name not in table:
            errors.add(f"{where}.{name}", None, "a value (the field is required)")
            continue
        value = table[name]
        wanted = {"int": int, "bool": bool, "str": str}[str(type_name)]
        if type(value) is not wanted:
            errors.add(f"{where}.{name}", value, f"a value of type {wanted.__name__}")
            continue
        values[name] = value
    if errors.count > before:
        return None
    return cls(**values)

"""Structure: the configuration file's tables, keys and types, turned into model objects.

Every table is read in file order; each value that is malformed (missing, unknown, mistyped)
is reported to the `ErrorCollector`, and each model object, once built, is handed to its
concern's validator (config/validate/) so the errors of a file come out in the order of the
file. A part with an error builds nothing (None), and nothing is built from it.

Jurisdictions are configuration: a `[jurisdictions.<key>]` table with its regions, its
HOST-2 allow-list (`allowed_regions`, regions of `config/regions.py`), time zone, domain
and accounts is all a new one needs; `[jurisdictions.<key>.pipeline]` adds its CDK pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.errors import ErrorCollector
from config.model import (
    AwsConfig,
    DeliveryPipeline,
    Deployment,
    EgressRule,
    Environment,
    Jurisdiction,
    JurisdictionSpec,
    MaintenanceWindow,
    PlatformConfig,
    RegionSizing,
    Release,
    Retention,
    Sizing,
    Standby,
    UserEmail,
)
from config.policy import CIDR_INDEX_MAX
from config.regions import KNOWN_REGIONS
from config.validate.accounts import check_connection_home
from config.validate.egress import check_egress_rule, egress_network
from config.validate.jurisdictions import check_jurisdiction_key, check_jurisdictions_distinct
from config.validate.maintenance import check_maintenance
from config.validate.offerings import check_offered
from config.validate.regions import check_allowed_regions, check_dr_region, check_region
from config.validate.release import check_release
from config.validate.retention import check_audit_lock, check_retention
from config.validate.sizing import check_region_sizing_region, check_sizing
from config.validate.standby import check_standby
from config.validate.user_email import check_user_email

_ACCOUNT = re.compile(r"^\d{12}$")
_EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
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


def parse_platform(raw: Mapping[str, Any], errors: ErrorCollector) -> PlatformConfig:
    """The whole file: every deployment (jurisdiction x environment) and every jurisdiction's pipeline.
    What has an error is left out; the caller raises when `errors` holds any."""
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
    environment_tables = _environment_tables(environments, errors)
    specs = _jurisdiction_specs(jurisdictions, tuple(environment_tables), errors)
    deployments = []
    for spec in specs:
        for environment, environment_raw in environment_tables.items():
            deployment = _overridden_deployment(spec, environment, owner, service, environment_raw, overrides, errors)
            if deployment is not None:
                deployments.append(deployment)
    if jurisdictions is not None and environments is not None:
        _check_override_names(overrides, jurisdictions, environment_tables, errors)
    pipelines = tuple(spec.pipeline for spec in specs if spec.pipeline is not None)
    return PlatformConfig(deployments=tuple(deployments), pipelines=pipelines)


def _environment_tables(
    environments: Mapping[str, Any] | None, errors: ErrorCollector
) -> dict[Environment, Mapping[str, Any]]:
    tables: dict[Environment, Mapping[str, Any]] = {}
    if environments is None:
        return tables
    errors.only_keys("environments", environments, (e.value for e in Environment))
    for key in environments:
        if key in {e.value for e in Environment}:
            table = errors.table(environments, key, "environments")
            if table is not None:
                tables[Environment(key)] = table
    return tables


def _jurisdiction_specs(
    jurisdictions: Mapping[str, Any] | None, environments: tuple[Environment, ...], errors: ErrorCollector
) -> list[JurisdictionSpec]:
    if jurisdictions is None:
        return []
    specs = []
    for key in jurisdictions:
        spec = _jurisdiction(key, jurisdictions.get(key), environments, errors)
        if spec is not None:
            specs.append(spec)
    check_jurisdictions_distinct(specs, errors)
    return specs


def _check_override_names(
    overrides: Mapping[str, Any],
    jurisdictions: Mapping[str, Any],
    environments: Mapping[Environment, Any],
    errors: ErrorCollector,
) -> None:
    """`[overrides."<j>-<env>"]` names a deployment of the file (a jurisdiction key, valid or not)."""
    names = {f"{j}-{e.value}" for j in jurisdictions for e in environments}
    for unknown in sorted(set(overrides) - names):
        errors.add(f"overrides.{unknown}", unknown, f"one of: {', '.join(sorted(names))}")


def _jurisdiction(
    key: str,
    raw: object,
    environments: tuple[Environment, ...],
    errors: ErrorCollector,
) -> JurisdictionSpec | None:
    where = f"jurisdictions.{key}"
    before = errors.count
    check_jurisdiction_key(where, key, errors)
    if not isinstance(raw, Mapping):
        errors.add(where, raw, "a table")
        return None
    errors.only_keys(where, raw, _JURISDICTION_KEYS)
    allowed, primary, dr = _regions(key, raw, where, errors)
    cidr_index = _cidr_index(raw.get("cidr_index"), where, errors)
    timezone, domain, email = _zone_domain_and_email(raw, where, errors)
    accounts = _accounts(raw, environments, where, errors)
    pipeline = _pipeline(Jurisdiction(key), raw.get("pipeline"), f"{where}.pipeline", allowed, errors)
    if errors.count > before or cidr_index is None:
        return None
    return JurisdictionSpec(
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


def _regions(key: str, raw: Mapping[str, Any], where: str, errors: ErrorCollector) -> tuple[tuple[str, ...], str, str]:
    """The allow-list, the primary and the DR region of jurisdiction `key`."""
    allowed = _allowed_regions(raw.get("allowed_regions"), f"{where}.allowed_regions", errors)
    primary, dr = (str(raw.get(k, "")) for k in ("primary_region", "dr_region"))
    check_region(f"{where}.primary_region", primary, key, allowed, errors)
    check_region(f"{where}.dr_region", dr, key, allowed, errors)
    check_dr_region(f"{where}.dr_region", dr, primary, errors)
    return allowed, primary, dr


def _allowed_regions(value: object, field: str, errors: ErrorCollector) -> tuple[str, ...]:
    """HOST-2's allow-list: known regions (config/regions.py), at least two (primary and DR), no repeats."""
    if not isinstance(value, list) or len(value) < 2 or not all(isinstance(r, str) for r in value):
        errors.add(
            field, value, "a list of at least two region names (the primary and DR regions among them)", "HOST-2"
        )
        return ()
    check_allowed_regions(tuple(value), field, errors)
    return tuple(value)


def _cidr_index(value: object, where: str, errors: ErrorCollector) -> int | None:
    if type(value) is not int or not 0 <= value <= CIDR_INDEX_MAX:
        errors.add(
            f"{where}.cidr_index",
            value,
            f"an integer 0 to {CIDR_INDEX_MAX}, always set: the jurisdiction's VPC address block (a default by "
            "position would move a VPC when tables are reordered)",
        )
        return None
    return value


def _zone_domain_and_email(raw: Mapping[str, Any], where: str, errors: ErrorCollector) -> tuple[str, str, str]:
    timezone = str(raw.get("timezone", ""))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors.add(f"{where}.timezone", timezone, "an IANA time zone name such as 'Australia/Sydney'")
    domain = _text(raw, "domain_name", _DOMAIN, where, "a lower-case DNS name such as 'au.example.com'", errors)
    email = _text(raw, "alarm_email", _EMAIL, where, "an e-mail address", errors)
    return timezone, domain, email


def _text(
    raw: Mapping[str, Any],
    key: str,
    pattern: re.Pattern[str],
    where: str,
    allowed: str,
    errors: ErrorCollector,
    default: str = "",
) -> str:
    """`raw[key]` as a string, reported unless `pattern` matches it."""
    value = str(raw.get(key, default))
    if not pattern.match(value):
        errors.add(f"{where}.{key}", value, allowed)
    return value


def _accounts(
    raw: Mapping[str, Any], environments: tuple[Environment, ...], where: str, errors: ErrorCollector
) -> dict[Environment, str]:
    accounts: dict[Environment, str] = {}
    accounts_raw = errors.table(raw, "accounts", where)
    for environment in environments:
        account = str(accounts_raw.get(environment.value, "")) if accounts_raw is not None else ""
        if accounts_raw is not None and not _ACCOUNT.match(account):
            errors.add(f"{where}.accounts.{environment.value}", account, "a 12-digit AWS account id")
        accounts[environment] = account
    return accounts


def _pipeline(
    jurisdiction: Jurisdiction, raw: object, where: str, allowed: tuple[str, ...], errors: ErrorCollector
) -> DeliveryPipeline | None:
    """`[jurisdictions.<j>.pipeline]` (optional): the jurisdiction's CDK pipeline (stacks/pipeline.py)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        errors.add(where, raw, "a table with: " + ", ".join(_PIPELINE_KEYS))
        return None
    before = errors.count
    errors.only_keys(where, raw, _PIPELINE_KEYS)
    account = _text(raw, "account", _ACCOUNT, where, "a 12-digit AWS account id (the tooling account)", errors)
    region = str(raw.get("region", ""))
    check_region(f"{where}.region", region, str(jurisdiction), allowed, errors)
    connection = str(raw.get("connection_arn", ""))
    match = _CONNECTION_ARN.match(connection)
    if match is None:
        errors.add(
            f"{where}.connection_arn",
            connection,
            "a CodeConnections ARN: arn:aws:codeconnections:<region>:<account>:connection/<uuid>",
        )
    else:
        check_connection_home(
            f"{where}.connection_arn", connection, (match["region"], match["account"]), (region, account), errors
        )
    repository = _text(
        raw, "repository", _REPOSITORY, where, "'owner/name' of the repository the connection reaches", errors
    )
    branch = _text(raw, "branch", _BRANCH, where, "a branch name such as 'main'", errors, default="main")
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


def _overridden_deployment(
    spec: JurisdictionSpec,
    environment: Environment,
    owner: str,
    service: str,
    environment_raw: Mapping[str, Any],
    overrides: Mapping[str, Any],
    errors: ErrorCollector,
) -> Deployment | None:
    name = f"{spec.key}-{environment.value}"
    merged = _with_override(environment_raw, overrides.get(name), f"overrides.{name}", errors)
    return _deployment(spec, environment, owner, service, merged, errors)


def _with_override(
    environment_raw: Mapping[str, Any], override: object, where: str, errors: ErrorCollector
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


class _Sections(NamedTuple):
    """An environment's sections (with its deployment's override), None where a section has an error."""

    sizing: Sizing | None
    retention: Retention | None
    maintenance: MaintenanceWindow | None
    standby: Standby | None
    aws_config: AwsConfig | None
    user_email: UserEmail | None
    release: Release | None
    region_sizing: tuple[RegionSizing, ...]
    web_egress: tuple[EgressRule, ...]


def _deployment(
    spec: JurisdictionSpec,
    environment: Environment,
    owner: str,
    service: str,
    environment_raw: Mapping[str, Any],
    errors: ErrorCollector,
) -> Deployment | None:
    where = f"environments.{environment.value}"
    before = errors.count
    errors.only_keys(where, environment_raw, _ENVIRONMENT_KEYS)
    sections = _sections(spec, environment, environment_raw, where, errors)
    _check_sections(sections, spec, environment, where, errors)
    if errors.count > before or not owner or not service:
        return None
    return _build_deployment(spec, environment, owner, service, sections)


def _sections(
    spec: JurisdictionSpec, environment: Environment, raw: Mapping[str, Any], where: str, errors: ErrorCollector
) -> _Sections:
    """Every section's model object; the sender and the release are checked as they are read."""
    sizing = _section(Sizing, raw, "sizing", where, errors)
    retention = _section(Retention, raw, "retention", where, errors)
    maintenance = _section(MaintenanceWindow, raw, "maintenance", where, errors)
    standby = _section(Standby, raw, "standby", where, errors)
    aws_config = _section(AwsConfig, raw, "aws_config", where, errors) if "aws_config" in raw else AwsConfig()
    user_email = _section(UserEmail, raw, "user_email", where, errors)
    if user_email is not None:
        check_user_email(user_email, environment, f"{where}.user_email", errors)
    release = _section(Release, raw, "release", where, errors) if "release" in raw else None
    if release is not None:
        check_release(release, f"{where}.release", errors)
    return _Sections(
        sizing=sizing,
        retention=retention,
        maintenance=maintenance,
        standby=standby,
        aws_config=aws_config,
        user_email=user_email,
        release=release,
        region_sizing=_region_sizing(raw.get("region_sizing", {}), f"{where}.region_sizing", spec, errors),
        web_egress=_web_egress(raw.get("web_egress", {}), f"{where}.web_egress", errors),
    )


def _check_sections(
    sections: _Sections, spec: JurisdictionSpec, environment: Environment, where: str, errors: ErrorCollector
) -> None:
    """The policy checks of the sections that could be read."""
    sizing, retention, standby = sections.sizing, sections.retention, sections.standby
    if sizing is not None:
        deployment = f"{spec.key}-{environment.value}"
        regions = (spec.primary_region, spec.dr_region)
        check_offered(sizing, sections.region_sizing, regions, deployment, where, errors)
        check_sizing(sizing, environment, f"{where}.sizing", errors)
    if standby is not None and sizing is not None:
        check_standby(standby, sizing, environment, f"{where}.standby", errors)
    if retention is not None:
        check_retention(retention, f"{where}.retention", errors)
        check_audit_lock(retention, environment, f"{where}.retention", errors)
    if sections.maintenance is not None:
        check_maintenance(sections.maintenance, f"{where}.maintenance", errors)


def _build_deployment(
    spec: JurisdictionSpec, environment: Environment, owner: str, service: str, sections: _Sections
) -> Deployment | None:
    """The deployment, when every section could be read."""
    sizing, retention, maintenance = sections.sizing, sections.retention, sections.maintenance
    standby, aws_config, user_email = sections.standby, sections.aws_config, sections.user_email
    if (
        sizing is None
        or retention is None
        or maintenance is None
        or standby is None
        or aws_config is None
        or user_email is None
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
        release=sections.release,
        region_sizing=sections.region_sizing,
        web_egress=sections.web_egress,
    )


def environment_domain(domain: str, environment: Environment) -> str:
    """Production serves the jurisdiction's domain; staging and development get a sub-domain
    of it (`staging.au.example.com`), each its own public zone in its own account: one name
    can be delegated to one zone only, so three environments sharing a zone name would leave
    two of them with certificates that never validate."""
    return domain if environment is Environment.PRODUCTION else f"{environment.value}.{domain}"


def _region_sizing(raw: object, where: str, spec: JurisdictionSpec, errors: ErrorCollector) -> tuple[RegionSizing, ...]:
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
        if not check_region_sizing_region(field, region, str(spec.key), spec.primary_region, errors):
            continue
        if region == spec.dr_region:
            found.append(RegionSizing(region=region, db_instance_class=value))
    return tuple(found)


def _web_egress(raw: object, where: str, errors: ErrorCollector) -> tuple[EgressRule, ...]:
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
        rule = _egress_rule(entry, f"{where}.allow[{index}]", errors)
        if rule is not None:
            found.append(rule)
    return tuple(found)


def _egress_rule(entry: object, field: str, errors: ErrorCollector) -> EgressRule | None:
    if not isinstance(entry, Mapping):
        errors.add(field, entry, "a table { cidr, port, reason }")
        return None
    before = errors.count
    errors.only_keys(field, entry, _EGRESS_RULE_KEYS)
    cidr, port, reason = entry.get("cidr"), entry.get("port"), entry.get("reason")
    check_egress_rule(field, cidr, port, reason, errors)
    network = egress_network(cidr)
    if errors.count > before or network is None or not isinstance(reason, str) or type(port) is not int:
        return None
    return EgressRule(cidr=str(network), port=port, reason=reason.strip())


_Section = TypeVar("_Section", Sizing, Retention, MaintenanceWindow, Standby, AwsConfig, UserEmail, Release)


def _section(
    cls: type[_Section], raw: Mapping[str, Any], key: str, where: str, errors: ErrorCollector
) -> _Section | None:
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

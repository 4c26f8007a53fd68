"""What the stacks pin is still sold: the canary runtime, the engine versions, the database class."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

from config import Deployment
from config.offerings import ENGINE as DB_ENGINE
from tooling.preflight.results import AWS_ERRORS, CheckResult, PreflightOptions, Status, error_code, profile_flag

# A runtime deprecated within this many days is a warn: plan the bump before the canary cannot be updated.
RUNTIME_DEPRECATION_WARN_DAYS: Final = 90


def _canary_runtime() -> str:
    from patterns.outside_probe import RUNTIME  # loads aws-cdk-lib: only when the check runs

    return str(RUNTIME.name)


def _db_engine_version() -> str:
    from patterns.encrypted_postgres import ENGINE_VERSION

    return str(ENGINE_VERSION.postgres_full_version)


def check_canary_runtime(
    synthetics: Any,
    region: str,
    runtime: str | None = None,
    now: datetime | None = None,
    options: PreflightOptions = PreflightOptions(),
) -> CheckResult:
    """The canary's Synthetics runtime is offered in `region` and not deprecated (issue 17 item 1):
    Synthetics refuses to create a canary on a deprecated runtime. DescribeRuntimeVersions:
    https://docs.aws.amazon.com/AmazonSynthetics/latest/APIReference/API_DescribeRuntimeVersions.html"""
    name = "canary runtime"
    runtime = runtime or _canary_runtime()
    now = now or datetime.now(UTC)
    remedy = (
        "move patterns/outside_probe.py:RUNTIME to a current runtime (and tests/unit/test_outside_probe.py's "
        f"allow-list); list them: aws synthetics describe-runtime-versions --region {region}{profile_flag(options)}"
    )
    versions: list[dict[str, Any]] = []
    request: dict[str, Any] = {}
    try:
        while True:
            page = synthetics.describe_runtime_versions(**request)
            versions.extend(page.get("RuntimeVersions", []))
            if not page.get("NextToken"):
                break
            request["NextToken"] = page["NextToken"]
    except AWS_ERRORS as error:
        return CheckResult(
            name, region, Status.WARN, f"could not list Synthetics runtimes ({error_code(error) or error})"
        )
    found = next((v for v in versions if v.get("VersionName") == runtime), None)
    if found is None:
        return CheckResult(name, region, Status.FAIL, f"{runtime} is not offered in this region", remedy)
    deprecation = found.get("DeprecationDate")
    if isinstance(deprecation, datetime):
        when = deprecation if deprecation.tzinfo else deprecation.replace(tzinfo=UTC)
        if when <= now:
            return CheckResult(name, region, Status.FAIL, f"{runtime} deprecated since {when:%Y-%m-%d}", remedy)
        if when - now <= timedelta(days=RUNTIME_DEPRECATION_WARN_DAYS):
            return CheckResult(name, region, Status.WARN, f"{runtime} is deprecated on {when:%Y-%m-%d}", remedy)
        return CheckResult(name, region, Status.OK, f"{runtime} (deprecated on {when:%Y-%m-%d})")
    return CheckResult(name, region, Status.OK, f"{runtime} (no deprecation date)")


def _cache_engine_version() -> str:
    from patterns.redis import ENGINE_VERSION

    return ENGINE_VERSION


def check_db_engine_version(
    rds: Any, region: str, engine_version: str | None = None, options: PreflightOptions = PreflightOptions()
) -> CheckResult:
    """RDS still creates the pinned PostgreSQL version in `region` (issue 17 item 11): RDS blocks
    creating a minor version a month before its end of standard support. DescribeDBEngineVersions:
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBEngineVersions.html"""
    name = "database engine version"
    version = engine_version or _db_engine_version()
    wanted = f"{DB_ENGINE} {version}"
    remedy = (
        "move patterns/encrypted_postgres.py:ENGINE_VERSION to an available minor (tests/unit/"
        f"test_engine_versions.py); list them: aws rds describe-db-engine-versions --engine {DB_ENGINE} "
        f"--region {region}{profile_flag(options)} --query \"DBEngineVersions[?Status=='available'].EngineVersion\""
    )
    try:
        # IncludeAll: without it a deprecated version is simply absent; with it, its Status says why.
        answer = rds.describe_db_engine_versions(Engine=DB_ENGINE, EngineVersion=version, IncludeAll=True)
        versions = answer.get("DBEngineVersions", [])
    except AWS_ERRORS as error:
        return CheckResult(
            name, region, Status.WARN, f"could not read RDS engine versions ({error_code(error) or error})"
        )
    found = next((v for v in versions if v.get("EngineVersion") == version), None)
    if found is None:
        return CheckResult(name, region, Status.FAIL, f"{wanted} is not offered in this region", remedy)
    status = str(found.get("Status", "available"))
    if status != "available":
        return CheckResult(name, region, Status.FAIL, f"{wanted} is {status}: RDS no longer creates it", remedy)
    return CheckResult(name, region, Status.OK, f"{wanted} available")


def check_cache_engine_version(
    elasticache: Any, region: str, engine_version: str | None = None, options: PreflightOptions = PreflightOptions()
) -> CheckResult:
    """ElastiCache offers the pinned Redis OSS version in `region` (issue 17 item 11).
    DescribeCacheEngineVersions:
    https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_DescribeCacheEngineVersions.html"""
    name = "cache engine version"
    version = engine_version or _cache_engine_version()
    remedy = (
        "move patterns/redis.py:ENGINE_VERSION to an offered version; list them: aws elasticache "
        f"describe-cache-engine-versions --engine redis --region {region}{profile_flag(options)}"
    )
    try:
        answer = elasticache.describe_cache_engine_versions(Engine="redis", EngineVersion=version)
    except AWS_ERRORS as error:
        return CheckResult(
            name, region, Status.WARN, f"could not read ElastiCache engine versions ({error_code(error) or error})"
        )
    if not any(v.get("EngineVersion") == version for v in answer.get("CacheEngineVersions", [])):
        return CheckResult(name, region, Status.FAIL, f"redis {version} is not offered in this region", remedy)
    return CheckResult(name, region, Status.OK, f"redis {version} offered")


def check_db_instance_class(
    rds: Any,
    region: str,
    deployment: Deployment,
    engine_version: str | None = None,
    options: PreflightOptions = PreflightOptions(),
) -> CheckResult:
    """RDS offers this region's database class for the pinned engine version, encrypted (and Multi-AZ
    in the primary region where configured) (issue 17 item 2). DescribeOrderableDBInstanceOptions:
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeOrderableDBInstanceOptions.html"""
    name = "database class"
    instance_class = deployment.db_instance_class_for(region)
    version = engine_version or _db_engine_version()
    wanted = f"{instance_class} ({DB_ENGINE} {version})"
    remedy = (
        f'set [environments.{deployment.environment.value}.region_sizing."{region}"] db_instance_class in '
        f"config/deployments.toml (DR region) or sizing.db_instance_class to one of: aws rds "
        f"describe-orderable-db-instance-options --engine {DB_ENGINE} --engine-version {version} --region {region}"
        f"{profile_flag(options)} --query 'OrderableDBInstanceOptions[].DBInstanceClass'"
    )
    try:
        offers = rds.describe_orderable_db_instance_options(
            Engine=DB_ENGINE, EngineVersion=version, DBInstanceClass=instance_class
        ).get("OrderableDBInstanceOptions", [])
    except AWS_ERRORS as error:
        return CheckResult(name, region, Status.WARN, f"could not read RDS offerings ({error_code(error) or error})")
    if not offers:
        return CheckResult(name, region, Status.FAIL, f"{wanted} is not orderable in this region", remedy)
    if not any(o.get("SupportsStorageEncryption") for o in offers):
        return CheckResult(name, region, Status.FAIL, f"{wanted} is orderable but not with storage encryption", remedy)
    multi_az = region == deployment.primary_region and deployment.sizing.db_multi_az
    if multi_az and not any(o.get("MultiAZCapable") for o in offers):
        return CheckResult(name, region, Status.FAIL, f"{wanted} is orderable but not Multi-AZ", remedy)
    return CheckResult(name, region, Status.OK, f"{wanted} orderable{', Multi-AZ' if multi_az else ''}, encrypted")

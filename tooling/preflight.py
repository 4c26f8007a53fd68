"""Read-only checks of a real AWS account before bootstrapping or deploying (issue "Real-AWS readiness").

    python -m tooling.preflight --deployment au-production --profile au-production-admin

Every check returns ok | warn | fail with a message and the remedy (an exact command where
there is one); the runner prints a table and exits non-zero on any fail. Nothing here
writes to the account. Clients come from a `ClientFactory(service, region)`, so tests pass
moto clients (or a fake `account` client: moto 5.2.5 answers GetRegionOptStatus with 404).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from config import Deployment, load_config
from config.names import DR, PRIMARY, DeploymentNames
from config.offerings import ENGINE as DB_ENGINE
from patterns.session_manager import DEFAULT_SESSION_DOCUMENT as PREFERENCES_DOCUMENT
from tooling.bootstrap_policy import boundary_policy_name, execution_policy_name, policy_arn

ClientFactory = Callable[[str, str], Any]  # (service, region) -> boto3 client
NameServerLookup = Callable[[str], set[str]]

AWS_ERRORS: Final = (ClientError, BotoCoreError)
TOOLKIT_STACK: Final = "CDKToolkit"
DEFAULT_BOOTSTRAP_VERSION: Final = 6
ADMINISTRATOR_ACCESS: Final = "arn:aws:iam::aws:policy/AdministratorAccess"
ENABLED_STATES: Final = frozenset({"ENABLED", "ENABLED_BY_DEFAULT"})
# Stack states whose resources CloudFormation no longer manages.
GONE_STACK_STATES: Final = frozenset({"DELETE_COMPLETE", "ROLLBACK_COMPLETE"})
GONE_RESOURCE_STATES: Final = frozenset({"DELETE_COMPLETE", "DELETE_SKIPPED"})
# A runtime deprecated within this many days is a warn: plan the bump before the canary cannot be updated.
RUNTIME_DEPRECATION_WARN_DAYS: Final = 90
# Service Quotas (issue 17 item 9): Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances,
# in vCPUs, and Lambda concurrent executions.
EC2_STANDARD_VCPU_QUOTA: Final = ("ec2", "L-1216C47A")
LAMBDA_CONCURRENCY_QUOTA: Final = ("lambda", "L-B99A9384")
STANDARD_FAMILY_LETTERS: Final = frozenset("acdhimrtz")
# Families whose first letter is a standard one but that have quotas of their own.
NON_STANDARD_FAMILIES: Final = ("inf", "trn", "dl", "hpc", "mac")
# An instance refresh (runbooks/release.py, MaxHealthyPercentage 200) may run twice the group.
RELEASE_SURGE_FACTOR: Final = 2
LAMBDA_DEFAULT_CONCURRENCY: Final = 1000  # the documented default; new accounts may start lower
# Without an assembly: a canary, the hosted rotation function, CDK's custom resources.
LAMBDA_FALLBACK_FUNCTIONS: Final = 4
LAMBDA_RESOURCE_TYPES: Final = frozenset({"AWS::Lambda::Function", "AWS::Synthetics::Canary"})


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class CheckResult:
    check: str
    scope: str  # a region, or "global"
    status: Status
    message: str
    remedy: str = ""


@dataclass(frozen=True)
class PreflightOptions:
    """What the checks expect; defaults come from the synthesized assembly (`from_assembly`)."""

    required_bootstrap_version: int = DEFAULT_BOOTSTRAP_VERSION
    # Regions where the stacks still create `SSM-SessionManagerRunShell` (then an existing one is a fail).
    session_document_regions: frozenset[str] = frozenset()
    # True inside the deploy job before it bootstraps: a missing/old/admin toolkit is then a warn.
    bootstrap_pending: bool = False
    # Named resources of the assembly: (region, stack name, logical id, type, physical name).
    named_resources: tuple[NamedResource, ...] = ()
    # (region, functions that may run at once: Lambda functions, canaries, hosted rotations) of the assembly.
    lambda_functions: tuple[tuple[str, int], ...] = ()
    profile: str | None = None


@dataclass(frozen=True)
class NamedResource:
    region: str
    stack_name: str
    stage_path: str  # `au-production-primary/Data`, what `cdk import` takes
    logical_id: str
    resource_type: str
    name: str


# --- what the synthesized assembly requires -------------------------------------------------

NAME_PROPERTIES: Final[dict[str, str]] = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::Backup::BackupVault": "BackupVaultName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SSM::Document": "Name",
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::CloudTrail::Trail": "TrailName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::Cognito::UserPool": "UserPoolName",
}
# Kept (`DeletionPolicy: Retain`, patterns/retention.py) without a name of ours: found by the
# deployment's tags (Resource Groups Tagging API resource types) or, for RDS groups, by the
# name CloudFormation generates (`<stack name>-<logical id>-<suffix>`, lower case).
TAGGED_KEPT_TYPES: Final[dict[str, str]] = {
    "AWS::KMS::Key": "kms:key",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "elasticloadbalancing:loadbalancer",
    "AWS::EC2::SecurityGroup": "ec2:security-group",
}
GENERATED_NAME_KEPT_TYPES: Final = ("AWS::RDS::DBSubnetGroup", "AWS::RDS::DBParameterGroup")
# Named types whose orphan does not collide with the retry (their names need not be unique).
NON_UNIQUE_NAME_TYPES: Final = frozenset({"AWS::Cognito::UserPool"})
# CloudFormation adopts a kept resource of these types on create (`cdk deploy
# --import-existing-resources`): a static name that is the primary identifier, DeletionPolicy Retain
# or RetainExceptOnCreate. https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/import-resources-automatically.html
AUTO_IMPORT_TYPES: Final = frozenset(
    {"AWS::S3::Bucket", "AWS::Logs::LogGroup", "AWS::Backup::BackupVault", "AWS::CloudTrail::Trail"}
)


def _stack_artifacts(assembly: Path, deployment: Deployment) -> Iterable[tuple[Path, str, str, str]]:
    """(template path, stack name, stage path, region) of the deployment's stacks."""
    for role in (PRIMARY, DR):
        stage = DeploymentNames.of(deployment).prefix(role)
        manifest_path = assembly / f"assembly-{stage}" / "manifest.json"
        if not manifest_path.exists():
            continue
        manifest = json.loads(manifest_path.read_text())
        for artifact_id, artifact in manifest.get("artifacts", {}).items():
            if artifact.get("type") != "aws:cloudformation:stack":
                continue
            props = artifact.get("properties", {})
            region = str(artifact.get("environment", "")).rsplit("/", 1)[-1]
            stack_name = props.get("stackName", artifact_id)
            construct_id = artifact.get("displayName", stack_name).split("/")[-1]
            template = manifest_path.parent / props.get("templateFile", f"{artifact_id}.template.json")
            yield template, stack_name, f"{stage}/{construct_id}", region


def required_bootstrap_version(assembly: Path) -> int:
    """The highest `requiresBootstrapStackVersion` of every manifest in the assembly (default 6)."""
    versions = [DEFAULT_BOOTSTRAP_VERSION]
    for manifest in [*assembly.glob("manifest.json"), *assembly.glob("*/manifest.json")]:
        for artifact in json.loads(manifest.read_text()).get("artifacts", {}).values():
            version = artifact.get("properties", {}).get("requiresBootstrapStackVersion")
            if isinstance(version, int):
                versions.append(version)
    return max(versions)


def named_resources(assembly: Path, deployment: Deployment) -> tuple[NamedResource, ...]:
    """Every retained resource with a literal physical name in the deployment's templates."""
    found = []
    for template_path, stack_name, stage_path, region in _stack_artifacts(assembly, deployment):
        template = json.loads(template_path.read_text())
        for logical_id, resource in template.get("Resources", {}).items():
            prop = NAME_PROPERTIES.get(resource.get("Type", ""))
            name = resource.get("Properties", {}).get(prop) if prop else None
            if isinstance(name, str):
                found.append(NamedResource(region, stack_name, stage_path, logical_id, resource["Type"], name))
    return tuple(found)


def _runs_a_function(resource: dict[str, Any]) -> bool:
    kind = resource.get("Type", "")
    if kind in LAMBDA_RESOURCE_TYPES:
        return True
    # The Secrets Manager transform expands a hosted rotation into a Lambda function of its own.
    return kind == "AWS::SecretsManager::RotationSchedule" and "HostedRotationLambda" in resource.get("Properties", {})


def lambda_functions(assembly: Path, deployment: Deployment) -> tuple[tuple[str, int], ...]:
    """(region, Lambda functions + canaries + hosted rotations) of the deployment's templates."""
    counts: dict[str, int] = {}
    for template_path, _, _, region in _stack_artifacts(assembly, deployment):
        resources = json.loads(template_path.read_text()).get("Resources", {}).values()
        counts[region] = counts.get(region, 0) + sum(1 for r in resources if _runs_a_function(r))
    return tuple(sorted(counts.items()))


def options_from_assembly(assembly: Path, deployment: Deployment, **overrides: Any) -> PreflightOptions:
    resources = named_resources(assembly, deployment)
    session_regions = frozenset(
        r.region for r in resources if r.resource_type == "AWS::SSM::Document" and r.name == PREFERENCES_DOCUMENT
    )
    values: dict[str, Any] = {
        "required_bootstrap_version": required_bootstrap_version(assembly),
        "session_document_regions": session_regions,
        "named_resources": tuple(r for r in resources if r.resource_type != "AWS::SSM::Document"),
        "lambda_functions": lambda_functions(assembly, deployment),
    }
    values.update(overrides)
    return PreflightOptions(**values)


# --- the checks -----------------------------------------------------------------------------


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def _profile(options: PreflightOptions) -> str:
    return f" --profile {options.profile}" if options.profile else ""


def check_region_opt_in(account: Any, region: str, options: PreflightOptions = PreflightOptions()) -> CheckResult:
    name = "region opt-in"
    try:
        status = str(account.get_region_opt_status(RegionName=region)["RegionOptStatus"])
    except AWS_ERRORS as error:
        return CheckResult(
            name,
            region,
            Status.WARN,
            f"could not read the opt-in status ({_error_code(error) or error})",
            "grant account:GetRegionOptStatus, or check Account > AWS Regions in the console",
        )
    if status in ENABLED_STATES:
        return CheckResult(name, region, Status.OK, status)
    if status == "ENABLING":
        return CheckResult(
            name, region, Status.FAIL, "ENABLING: not usable yet", "wait until the status is ENABLED, then re-run"
        )
    return CheckResult(
        name,
        region,
        Status.FAIL,
        f"{status}: the region is opt-in and not enabled for this account",
        f"aws account enable-region --region-name {region}{_profile(options)}  "
        f"(then wait for `aws account get-region-opt-status --region-name {region}` to say ENABLED)",
    )


def check_session_document(ssm: Any, region: str, options: PreflightOptions = PreflightOptions()) -> CheckResult:
    name = "session preferences"
    created_by_stacks = region in options.session_document_regions
    try:
        document = ssm.describe_document(Name=PREFERENCES_DOCUMENT)["Document"]
    except AWS_ERRORS as error:
        if _error_code(error) == "InvalidDocument":
            return CheckResult(name, region, Status.OK, f"no {PREFERENCES_DOCUMENT} document yet")
        return CheckResult(name, region, Status.WARN, f"could not read {PREFERENCES_DOCUMENT}: {error}")
    owner = document.get("Owner", "?")
    message = f"{PREFERENCES_DOCUMENT} exists (owner {owner}, version {document.get('DocumentVersion', '?')})"
    if not created_by_stacks:
        return CheckResult(name, region, Status.OK, f"{message}; the stacks do not create it (information)")
    return CheckResult(
        name,
        region,
        Status.FAIL,
        f"{message}, and the stacks create a document of that name: CloudFormation would fail with already exists",
        f"save it (aws ssm get-document --name {PREFERENCES_DOCUMENT} --region {region}{_profile(options)}), "
        f"then aws ssm delete-document --name {PREFERENCES_DOCUMENT} --region {region}{_profile(options)}",
    )


def check_config_recorder(config: Any, region: str, options: PreflightOptions = PreflightOptions()) -> CheckResult:
    name = "AWS Config recorder"
    remedy = (
        "turn on AWS Config recording in this region (console: AWS Config > Settings, or "
        f"aws configservice put-configuration-recorder ... && aws configservice start-configuration-recorder "
        f"--configuration-recorder-name default --region {region}{_profile(options)}); "
        "the AWS Backup audit framework evaluates only what Config records"
    )
    try:
        recorders = config.describe_configuration_recorders()["ConfigurationRecorders"]
        statuses = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    except AWS_ERRORS as error:
        return CheckResult(name, region, Status.WARN, f"could not read Config recorders: {error}", remedy)
    if not recorders:
        return CheckResult(name, region, Status.FAIL, "no configuration recorder", remedy)
    recording = [s["name"] for s in statuses if s.get("recording")]
    if not recording:
        return CheckResult(name, region, Status.FAIL, "a recorder exists but is not recording", remedy)
    groups = [r.get("recordingGroup", {}) for r in recorders if r.get("name") in recording]
    covers_backup = any(
        g.get("allSupported")
        or any(t.startswith("AWS::Backup::") for t in g.get("resourceTypes", []))
        or (
            g.get("recordingStrategy", {}).get("useOnly") == "EXCLUSION_BY_RESOURCE_TYPES"
            and not any(
                t.startswith("AWS::Backup::") for t in g.get("exclusionByResourceTypes", {}).get("resourceTypes", [])
            )
        )
        for g in groups
    )
    if not covers_backup:
        return CheckResult(
            name,
            region,
            Status.WARN,
            f"recording ({', '.join(recording)}) but no AWS::Backup::* resource types",
            "add AWS::Backup::BackupPlan, AWS::Backup::BackupSelection, AWS::Backup::BackupVault and "
            "AWS::Backup::RecoveryPoint to the recording group",
        )
    return CheckResult(name, region, Status.OK, f"recording ({', '.join(recording)})")


def check_bootstrap(
    cloudformation: Any, region: str, deployment: Deployment, options: PreflightOptions = PreflightOptions()
) -> CheckResult:
    name = "CDK bootstrap"
    fix_status = Status.WARN if options.bootstrap_pending else Status.FAIL
    remedy = (
        "this run bootstraps next"
        if options.bootstrap_pending
        else f"./scripts/run --deployment {deployment.name} --target aws{_profile(options)} "
        "(creates the scoped policies, then bootstraps both regions with them)"
    )
    try:
        stack = cloudformation.describe_stacks(StackName=TOOLKIT_STACK)["Stacks"][0]
    except AWS_ERRORS as error:
        if "does not exist" in str(error):
            return CheckResult(name, region, fix_status, f"no {TOOLKIT_STACK} stack: not bootstrapped", remedy)
        return CheckResult(name, region, Status.WARN, f"could not read {TOOLKIT_STACK}: {error}")
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    version_text = outputs.get("BootstrapVersion", "0")
    version = int(version_text) if version_text.isdigit() else 0
    required = options.required_bootstrap_version
    problems = []
    if version < required:
        problems.append(f"BootstrapVersion {version} < {required} required by the assembly")
    # AWS returns the CommaDelimitedList as "arn1,arn2"; moto 5.2.5 as "['arn1', 'arn2']": read the ARNs.
    policies = set(re.findall(r"arn:[^,'\"\]\s]+", parameters.get("CloudFormationExecutionPolicies", "")))
    expected = policy_arn(deployment, execution_policy_name(deployment))
    if ADMINISTRATOR_ACCESS in policies or not policies:
        problems.append("the execution role has AdministratorAccess (the default)")
    elif expected not in policies:
        problems.append(f"execution policies {sorted(policies)} do not include {expected}")
    boundary = parameters.get("InputPermissionsBoundary", "")
    if "InputPermissionsBoundary" in parameters and boundary != boundary_policy_name(deployment):
        problems.append(f"permissions boundary {boundary or 'none'} is not {boundary_policy_name(deployment)}")
    if stack.get("StackStatus", "").endswith("_FAILED") or stack.get("StackStatus") == "ROLLBACK_COMPLETE":
        problems.append(f"stack status {stack['StackStatus']}")
    if problems:
        return CheckResult(name, region, fix_status, "; ".join(problems), remedy)
    return CheckResult(name, region, Status.OK, f"version {version} (>= {required}), scoped execution policy")


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
        f"allow-list); list them: aws synthetics describe-runtime-versions --region {region}{_profile(options)}"
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
            name, region, Status.WARN, f"could not list Synthetics runtimes ({_error_code(error) or error})"
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
        f"--region {region}{_profile(options)} --query \"DBEngineVersions[?Status=='available'].EngineVersion\""
    )
    try:
        # IncludeAll: without it a deprecated version is simply absent; with it, its Status says why.
        answer = rds.describe_db_engine_versions(Engine=DB_ENGINE, EngineVersion=version, IncludeAll=True)
        versions = answer.get("DBEngineVersions", [])
    except AWS_ERRORS as error:
        return CheckResult(
            name, region, Status.WARN, f"could not read RDS engine versions ({_error_code(error) or error})"
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
        f"describe-cache-engine-versions --engine redis --region {region}{_profile(options)}"
    )
    try:
        answer = elasticache.describe_cache_engine_versions(Engine="redis", EngineVersion=version)
    except AWS_ERRORS as error:
        return CheckResult(
            name, region, Status.WARN, f"could not read ElastiCache engine versions ({_error_code(error) or error})"
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
        f"{_profile(options)} --query 'OrderableDBInstanceOptions[].DBInstanceClass'"
    )
    try:
        offers = rds.describe_orderable_db_instance_options(
            Engine=DB_ENGINE, EngineVersion=version, DBInstanceClass=instance_class
        ).get("OrderableDBInstanceOptions", [])
    except AWS_ERRORS as error:
        return CheckResult(name, region, Status.WARN, f"could not read RDS offerings ({_error_code(error) or error})")
    if not offers:
        return CheckResult(name, region, Status.FAIL, f"{wanted} is not orderable in this region", remedy)
    if not any(o.get("SupportsStorageEncryption") for o in offers):
        return CheckResult(name, region, Status.FAIL, f"{wanted} is orderable but not with storage encryption", remedy)
    multi_az = region == deployment.primary_region and deployment.sizing.db_multi_az
    if multi_az and not any(o.get("MultiAZCapable") for o in offers):
        return CheckResult(name, region, Status.FAIL, f"{wanted} is orderable but not Multi-AZ", remedy)
    return CheckResult(name, region, Status.OK, f"{wanted} orderable{', Multi-AZ' if multi_az else ''}, encrypted")


def _quota_value(service_quotas: Any, service: str, code: str) -> tuple[float, str]:
    """The applied quota, else its default: GetServiceQuota answers NoSuchResourceException where
    only the default is available.
    https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_GetServiceQuota.html
    https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_GetAWSDefaultServiceQuota.html"""
    try:
        return float(service_quotas.get_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"]), "applied"
    except ClientError as error:
        if _error_code(error) != "NoSuchResourceException":
            raise
    answer = service_quotas.get_aws_default_service_quota(ServiceCode=service, QuotaCode=code)
    return float(answer["Quota"]["Value"]), "default"


def _quota_remedy(service: str, code: str, wanted: int, region: str, options: PreflightOptions) -> str:
    return (
        f"aws service-quotas request-service-quota-increase --service-code {service} --quota-code {code} "
        f"--desired-value {wanted} --region {region}{_profile(options)}  (approval can take days: ask early)"
    )


def _is_standard_family(instance_type: str) -> bool:
    family = re.match(r"[a-z]+", instance_type)
    name = family.group(0) if family else ""
    return bool(name) and name[0] in STANDARD_FAMILY_LETTERS and not name.startswith(NON_STANDARD_FAMILIES)


def check_ec2_vcpu_quota(
    service_quotas: Any, ec2: Any, region: str, deployment: Deployment, options: PreflightOptions = PreflightOptions()
) -> CheckResult:
    """The On-Demand standard vCPU quota covers the web tier at its configured maximum in `region`
    (issue 17 item 9): both regions, since the DR region must scale to the primary's maximum at failover.
    https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-quotas.html"""
    name = "EC2 vCPU quota"
    service, code = EC2_STANDARD_VCPU_QUOTA
    instance_type = deployment.sizing.web_instance_type
    if not _is_standard_family(instance_type):
        return CheckResult(
            name, region, Status.WARN, f"{instance_type} is not a standard family: check its own vCPU quota"
        )
    try:
        described = ec2.describe_instance_types(InstanceTypes=[instance_type])["InstanceTypes"]
        vcpus = int(described[0]["VCpuInfo"]["DefaultVCpus"])
        quota, source = _quota_value(service_quotas, service, code)
    except (*AWS_ERRORS, IndexError, KeyError) as error:
        return CheckResult(name, region, Status.WARN, f"could not read the vCPU quota ({_error_code(error) or error})")
    maximum = deployment.sizing.web_max_capacity
    needed = maximum * vcpus
    surge = needed * RELEASE_SURGE_FACTOR
    summary = f"{quota:g} vCPUs ({source}); web tier at most {maximum} x {instance_type} ({vcpus} vCPUs) = {needed}"
    if quota < needed:
        return CheckResult(name, region, Status.FAIL, summary, _quota_remedy(service, code, surge, region, options))
    if quota < surge:
        return CheckResult(
            name,
            region,
            Status.WARN,
            f"{summary}; a release at full scale (instance refresh, MaxHealthyPercentage 200) needs {surge}",
            _quota_remedy(service, code, surge, region, options),
        )
    return CheckResult(name, region, Status.OK, f"{summary}, {surge} during a release at full scale")


def check_lambda_concurrency_quota(
    service_quotas: Any, region: str, options: PreflightOptions = PreflightOptions()
) -> CheckResult:
    """Lambda concurrent executions leave room for every function of `region` at once: the canaries,
    the hosted rotation and CDK's custom resources (issue 17 item 9). New accounts may have a lower
    quota than the documented 1,000.
    https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"""
    name = "Lambda concurrency quota"
    service, code = LAMBDA_CONCURRENCY_QUOTA
    functions = dict(options.lambda_functions).get(region, LAMBDA_FALLBACK_FUNCTIONS)
    try:
        quota, source = _quota_value(service_quotas, service, code)
    except AWS_ERRORS as error:
        return CheckResult(
            name, region, Status.WARN, f"could not read the Lambda quota ({_error_code(error) or error})"
        )
    summary = f"{quota:g} concurrent executions ({source}) for {functions} functions and canaries"
    remedy = _quota_remedy(service, code, LAMBDA_DEFAULT_CONCURRENCY, region, options)
    if quota < functions:
        return CheckResult(name, region, Status.FAIL, summary, remedy)
    if quota < LAMBDA_DEFAULT_CONCURRENCY:
        return CheckResult(
            name, region, Status.WARN, f"{summary}: below the default {LAMBDA_DEFAULT_CONCURRENCY}", remedy
        )
    return CheckResult(name, region, Status.OK, summary)


def _normalize(names: Iterable[str]) -> set[str]:
    return {n.strip().lower().rstrip(".") for n in names if n.strip()}


def check_delegation(
    route53: Any,
    deployment: Deployment,
    lookup_ns: NameServerLookup | None,
    options: PreflightOptions = PreflightOptions(),
) -> CheckResult:
    name = "domain delegation"
    domain = deployment.domain_name.rstrip(".")
    listed = route53.list_hosted_zones_by_name(DNSName=domain)["HostedZones"]
    zones = [z for z in listed if z["Name"].rstrip(".").lower() == domain.lower() and not z["Config"]["PrivateZone"]]
    if not zones:
        return CheckResult(
            name,
            "global",
            Status.WARN,
            f"no public hosted zone {domain} yet",
            f"the deploy creates it ({deployment.name}-primary/Dns) and stops until the parent delegates to it",
        )
    if len(zones) > 1:
        ids = ", ".join(z["Id"].rsplit("/", 1)[-1] for z in zones)
        return CheckResult(
            name,
            "global",
            Status.FAIL,
            f"{len(zones)} public hosted zones named {domain} ({ids}); a failed create leaves one behind",
            "keep the zone of the Dns stack (its HostedZoneId output) and delete the other after emptying it: "
            "aws route53 delete-hosted-zone --id <id>",
        )
    zone_id = zones[0]["Id"].rsplit("/", 1)[-1]
    zone_ns = _normalize(route53.get_hosted_zone(Id=zone_id)["DelegationSet"]["NameServers"])
    if lookup_ns is None:
        return CheckResult(
            name,
            "global",
            Status.WARN,
            f"zone {zone_id} exists; delegation unverified (neither dig nor nslookup found), check manually",
            f"dig NS {domain} must answer {', '.join(sorted(zone_ns))}",
        )
    published = _normalize(lookup_ns(domain))
    if published and published == zone_ns:
        return CheckResult(name, "global", Status.OK, f"{domain} delegated to zone {zone_id}")
    return CheckResult(
        name,
        "global",
        Status.FAIL,
        f"{domain} resolves to NS {sorted(published) or 'nothing'}, not to zone {zone_id}",
        f"in the parent zone, set the NS record of {domain} to: {' '.join(sorted(zone_ns))} "
        "(certificate validation waits for it)",
    )


# --- the user pool's e-mail (issue 17 item 12) ---------------------------------------------


def check_user_email(
    sesv2: Any, region: str, deployment: Deployment, options: PreflightOptions = PreflightOptions()
) -> CheckResult:
    """SES in the primary region: out of the sandbox, the Dns stack's domain identity verified.

    In the sandbox SES delivers only to verified addresses, at most 200 a day
    (https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html); the identity
    verifies once the zone's Easy DKIM records resolve. Cognito's own sender (about 50 a day) is
    configured for development only (config `user_email`)."""
    name = "user e-mail (SES)"
    sender = deployment.user_email_from
    if sender is None:
        return CheckResult(name, region, Status.OK, "Cognito's default sender (development; about 50 e-mails a day)")
    domain = deployment.domain_name
    profile = _profile(options)
    try:
        production = bool(sesv2.get_account().get("ProductionAccessEnabled"))
    except AWS_ERRORS as error:
        return CheckResult(name, region, Status.WARN, f"could not read the SES account: {_error_code(error) or error}")
    if not production:
        return CheckResult(
            name,
            region,
            Status.WARN,
            f"SES is in the sandbox in {region}: the user pool can mail verified addresses only, 200 a day",
            f"aws sesv2 put-account-details --production-access-enabled --mail-type TRANSACTIONAL "
            f"--website-url https://{domain} --use-case-description 'user invitations and password resets' "
            f"--region {region}{profile}  (AWS reviews it, usually within a day)",
        )
    try:
        identity = sesv2.get_email_identity(EmailIdentity=domain)
    except AWS_ERRORS as error:
        if _error_code(error) == "NotFoundException":
            return CheckResult(
                name, region, Status.WARN, f"no SES identity {domain} yet: the Dns stack creates it (Easy DKIM)"
            )
        return CheckResult(name, region, Status.WARN, f"could not read SES identity {domain}: {error}")
    if not identity.get("VerifiedForSendingStatus"):
        return CheckResult(
            name,
            region,
            Status.WARN,
            f"SES identity {domain} not verified yet (DKIM {identity.get('DkimAttributes', {}).get('Status', '?')})",
            f"delegate {domain} (the Dns stack wrote the DKIM records); "
            f"aws sesv2 get-email-identity --email-identity {domain} --region {region}{profile}",
        )
    return CheckResult(name, region, Status.OK, f"{sender} through SES, out of the sandbox, {domain} verified")


# --- orphans of a failed first create (item 6) ----------------------------------------------


@dataclass
class _Found:
    resource_type: str
    name: str
    arn: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _managed_physical_ids(cloudformation: Any, deployment: Deployment) -> tuple[set[str], list[str]]:
    """Physical ids of resources that live stacks of this deployment manage; and stacks to clean up."""
    managed: set[str] = set()
    failed: list[str] = []
    paginator = cloudformation.get_paginator("list_stacks")
    for page in paginator.paginate():
        for summary in page["StackSummaries"]:
            stack_name = summary["StackName"]
            if not stack_name.startswith(f"{deployment.name}-"):
                continue
            if summary["StackStatus"] == "ROLLBACK_COMPLETE":
                failed.append(stack_name)
            if summary["StackStatus"] in GONE_STACK_STATES:
                continue
            for resources_page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
                for resource in resources_page["StackResourceSummaries"]:
                    if resource.get("ResourceStatus") not in GONE_RESOURCE_STATES:
                        managed.add(resource.get("PhysicalResourceId", ""))
    return managed, failed


def _existing(
    clients: ClientFactory, region: str, deployment: Deployment, wanted: Sequence[NamedResource]
) -> list[_Found]:
    prefix = deployment.name
    found: list[_Found] = []
    wanted_names = {(r.resource_type, r.name) for r in wanted}
    found += _buckets(clients("s3", region), region, deployment, wanted_names)
    backup = clients("backup", region)
    for vault in backup.list_backup_vaults().get("BackupVaultList", []):
        name = vault["BackupVaultName"]
        if (
            re.fullmatch(rf"{re.escape(prefix)}-(primary|dr)-vault", name)
            or ("AWS::Backup::BackupVault", name) in wanted_names
        ):
            found.append(_Found("AWS::Backup::BackupVault", name, vault.get("BackupVaultArn", "")))
    found += _log_groups(clients("logs", region), prefix, wanted)
    secrets = clients("secretsmanager", region)
    for page in secrets.get_paginator("list_secrets").paginate(
        IncludePlannedDeletion=True, Filters=[{"Key": "name", "Values": [f"{prefix}-"]}]
    ):
        for secret in page["SecretList"]:
            if secret["Name"].startswith(f"{prefix}-"):
                extra = {"deleted": "yes"} if secret.get("DeletedDate") else {}
                found.append(_Found("AWS::SecretsManager::Secret", secret["Name"], secret["ARN"], extra))
    for page in clients("rds", region).get_paginator("describe_db_instances").paginate():
        for instance in page["DBInstances"]:
            name = instance["DBInstanceIdentifier"]
            if name.startswith(f"{prefix}-") or ("AWS::RDS::DBInstance", name) in wanted_names:
                found.append(_Found("AWS::RDS::DBInstance", name, instance.get("DBInstanceArn", "")))
    for trail in clients("cloudtrail", region).describe_trails(includeShadowTrails=False).get("trailList", []):
        if ("AWS::CloudTrail::Trail", trail["Name"]) in wanted_names:
            found.append(_Found("AWS::CloudTrail::Trail", trail["Name"], trail.get("TrailARN", "")))
    found += _named_policies(clients, region, wanted_names)
    found += _user_pools(clients, region, wanted_names)
    return found


def _buckets(s3: Any, region: str, deployment: Deployment, wanted_names: set[tuple[str, str]]) -> list[_Found]:
    pattern = re.compile(rf"^{re.escape(deployment.name)}-(primary|dr)-.+-{deployment.account}$")
    found = []
    for bucket in s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        if not (pattern.match(name) or ("AWS::S3::Bucket", name) in wanted_names):
            continue
        location = s3.get_bucket_location(Bucket=name).get("LocationConstraint") or "us-east-1"
        if location == region:
            found.append(_Found("AWS::S3::Bucket", name))
    return found


def _log_groups(logs: Any, prefix: str, wanted: Sequence[NamedResource]) -> list[_Found]:
    found: list[_Found] = []
    log_names = {r.name for r in wanted if r.resource_type == "AWS::Logs::LogGroup"}
    for log_prefix in sorted({f"/aws/rds/instance/{prefix}-", *log_names}):
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=log_prefix):
            for group in page["logGroups"]:
                name = group["logGroupName"]
                if (name.startswith(f"/aws/rds/instance/{prefix}-") or name in log_names) and not any(
                    f.name == name for f in found
                ):
                    found.append(_Found("AWS::Logs::LogGroup", name, group.get("arn", "")))
    return found


def _named_policies(clients: ClientFactory, region: str, wanted_names: set[tuple[str, str]]) -> list[_Found]:
    """IAM is global: only asked where the templates create a named managed policy."""
    names = {name for kind, name in wanted_names if kind == "AWS::IAM::ManagedPolicy"}
    if not names:
        return []
    found = []
    for page in clients("iam", region).get_paginator("list_policies").paginate(Scope="Local"):
        for policy in page["Policies"]:
            if policy["PolicyName"] in names:
                found.append(_Found("AWS::IAM::ManagedPolicy", policy["PolicyName"], policy["Arn"]))
    return found


def _user_pools(clients: ClientFactory, region: str, wanted_names: set[tuple[str, str]]) -> list[_Found]:
    names = {name for kind, name in wanted_names if kind == "AWS::Cognito::UserPool"}
    if not names:
        return []
    found = []
    for page in clients("cognito-idp", region).get_paginator("list_user_pools").paginate(MaxResults=60):
        for pool in page["UserPools"]:
            if pool["Name"] in names:
                found.append(_Found("AWS::Cognito::UserPool", pool["Name"], pool["Id"], {"id": pool["Id"]}))
    return found


def _kept_unnamed(clients: ClientFactory, region: str, deployment: Deployment) -> list[_Found]:
    """Kept resources without a name of ours: by the deployment's tags, or by the generated name."""
    found: list[_Found] = []
    type_of = {api_type: cfn_type for cfn_type, api_type in TAGGED_KEPT_TYPES.items()}
    tag_filters = [
        {"Key": "environment", "Values": [deployment.environment.value]},
        {"Key": "jurisdiction", "Values": [deployment.jurisdiction]},
    ]
    kms = clients("kms", region)
    for page in (
        clients("resourcegroupstaggingapi", region)
        .get_paginator("get_resources")
        .paginate(TagFilters=tag_filters, ResourceTypeFilters=sorted(type_of))
    ):
        for mapping in page["ResourceTagMappingList"]:
            arn = mapping["ResourceARN"]
            service, resource = arn.split(":")[2], arn.split(":", 5)[5]
            kind = type_of.get(f"{service}:{resource.split('/', 1)[0]}")
            if kind is None:
                continue
            physical_id = arn if kind == "AWS::ElasticLoadBalancingV2::LoadBalancer" else resource.rsplit("/", 1)[-1]
            if kind == "AWS::KMS::Key" and kms.describe_key(KeyId=physical_id)["KeyMetadata"]["KeyState"] in (
                "PendingDeletion",
                "PendingReplicaDeletion",
            ):
                continue
            found.append(_Found(kind, physical_id, arn))
    rds = clients("rds", region)
    for page in rds.get_paginator("describe_db_subnet_groups").paginate():
        for group in page["DBSubnetGroups"]:
            if group["DBSubnetGroupName"].startswith(f"{deployment.name}-"):
                found.append(_Found("AWS::RDS::DBSubnetGroup", group["DBSubnetGroupName"]))
    for page in rds.get_paginator("describe_db_parameter_groups").paginate():
        for group in page["DBParameterGroups"]:
            if group["DBParameterGroupName"].startswith(f"{deployment.name}-"):
                found.append(_Found("AWS::RDS::DBParameterGroup", group["DBParameterGroupName"]))
    return found


def _remove_command(found: _Found, region: str, profile: str) -> str:
    where = f"--region {region}{profile}"
    kind, name = found.resource_type, found.name
    commands: dict[str, str] = {
        "AWS::S3::Bucket": (
            f"empty it (versioned: every object version and delete marker), then aws s3 rb s3://{name} {where}  "
            "(only if it holds nothing you must keep)"
        ),
        "AWS::Backup::BackupVault": (
            f"aws backup delete-backup-vault --backup-vault-name {name} {where}  "
            "(as break-glass; only if it has no recovery points and no compliance-mode lock past its grace time)"
        ),
        "AWS::Logs::LogGroup": f"aws logs delete-log-group --log-group-name {name} {where}",
        "AWS::RDS::DBInstance": (
            f"aws rds modify-db-instance --db-instance-identifier {name} --no-deletion-protection --apply-immediately "
            f"{where} && aws rds delete-db-instance --db-instance-identifier {name} --skip-final-snapshot "
            f"--delete-automated-backups {where}  (only if it holds nothing you must keep: one made by a failed "
            "first create holds nothing; then remove its security group, subnet and parameter groups, listed here)"
        ),
        "AWS::CloudTrail::Trail": (
            f"aws cloudtrail delete-trail --name {name} {where}  (as an administrator: the execution role's "
            "boundary denies it)"
        ),
        "AWS::IAM::ManagedPolicy": (
            f"aws iam delete-policy --policy-arn {found.arn}{profile}  (as an administrator: the execution role "
            "may not; only once no role uses it)"
        ),
        "AWS::Cognito::UserPool": (
            f"aws cognito-idp update-user-pool --user-pool-id {found.extra.get('id', name)} --deletion-protection "
            f"INACTIVE {where} && aws cognito-idp delete-user-pool --user-pool-id {found.extra.get('id', name)} "
            f"{where}  (only if it has no users you must keep)"
        ),
        "AWS::KMS::Key": (
            f"aws kms schedule-key-deletion --key-id {name} --pending-window-in-days 30 {where}  (as break-glass: "
            "every deploy and team role is denied it; only once nothing you keep is encrypted with it)"
        ),
        "AWS::ElasticLoadBalancingV2::LoadBalancer": (
            f"aws elbv2 modify-load-balancer-attributes --load-balancer-arn {name} --attributes "
            f"Key=deletion_protection.enabled,Value=false {where} && aws elbv2 delete-load-balancer "
            f"--load-balancer-arn {name} {where}"
        ),
        "AWS::EC2::SecurityGroup": (
            f"aws ec2 delete-security-group --group-id {name} {where}  (once the database or load balancer that used "
            "it is gone)"
        ),
        "AWS::RDS::DBSubnetGroup": (
            f"aws rds delete-db-subnet-group --db-subnet-group-name {name} {where}  (once its database is gone)"
        ),
        "AWS::RDS::DBParameterGroup": (
            f"aws rds delete-db-parameter-group --db-parameter-group-name {name} {where}  (once its database is gone)"
        ),
    }
    if kind == "AWS::SecretsManager::Secret":
        if found.extra.get("deleted"):
            return (
                f"aws secretsmanager restore-secret --secret-id {name} {where}  (scheduled for deletion: "
                f"the name stays taken; restore and import it, or delete-secret --force-delete-without-recovery)"
            )
        return f"aws secretsmanager delete-secret --secret-id {name} --force-delete-without-recovery {where}"
    return commands[kind]


IMPORT_NAME_KEYS: Final[dict[str, str]] = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::Backup::BackupVault": "BackupVaultName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SecretsManager::Secret": "Id",
    "AWS::CloudTrail::Trail": "TrailName",
    "AWS::IAM::ManagedPolicy": "PolicyArn",
    "AWS::Cognito::UserPool": "UserPoolId",
}
# Identified by their ARN or id, not by the name of the template (`cdk import`'s resource identifier).
IMPORT_BY_ARN: Final = frozenset({"AWS::SecretsManager::Secret", "AWS::IAM::ManagedPolicy", "AWS::Cognito::UserPool"})


def _adopt_commands(found: _Found, resource: NamedResource, profile: str) -> str:
    """How to take a kept resource back into its stack: auto-import on the retry's create, or `cdk import`."""
    if found.resource_type not in IMPORT_NAME_KEYS:  # a database: adopting it would keep a stale security group
        return ""
    value = found.arn if found.resource_type in IMPORT_BY_ARN else found.name
    mapping = json.dumps({resource.logical_id: {IMPORT_NAME_KEYS[found.resource_type]: value}})
    manual = f"npx cdk import --app cdk.out {resource.stage_path} --resource-mapping-inline '{mapping}'{profile}"
    if found.resource_type in AUTO_IMPORT_TYPES:
        auto = f"npx cdk deploy --app cdk.out --exclusively {resource.stage_path} --import-existing-resources{profile}"
        return f"  OR adopt it: {auto} (creates the stack and imports it), then run the same command again"
    return f"  OR, once {resource.stack_name} exists, import: {manual}"


def check_orphans(
    clients: ClientFactory, region: str, deployment: Deployment, options: PreflightOptions = PreflightOptions()
) -> list[CheckResult]:
    """Kept resources of this deployment in `region` that no live stack manages (a failed create's leftovers)."""
    name = "orphaned resources"
    profile = _profile(options)
    wanted = [r for r in options.named_resources if r.region == region]
    managed, failed_stacks = _managed_physical_ids(clients("cloudformation", region), deployment)
    results = [
        CheckResult(
            name,
            region,
            Status.WARN,
            f"stack {stack} is ROLLBACK_COMPLETE (a failed first create)",
            f"aws cloudformation delete-stack --stack-name {stack} --region {region}{profile} "
            "(cdk deploy also deletes it before re-creating; kept resources stay and are listed here)",
        )
        for stack in failed_stacks
    ]
    for found in _existing(clients, region, deployment, wanted):
        if {found.name, found.arn, found.extra.get("id")} & managed - {""}:
            continue
        match = next((r for r in wanted if r.resource_type == found.resource_type and r.name == found.name), None)
        remove = _remove_command(found, region, profile)
        if match is None:
            status, remedy = Status.FAIL, f"not in the current templates; remove: {remove}"
        elif found.resource_type in NON_UNIQUE_NAME_TYPES:
            status = Status.WARN
            remedy = (
                f"the next create of {match.stack_name} makes a second one of the same name. Remove this one: "
                f"{remove}{_adopt_commands(found, match, profile)}"
            )
        else:
            status = Status.FAIL
            remedy = (
                f"the next create of {match.stack_name} fails with 'already exists'. Remove: {remove}"
                f"{_adopt_commands(found, match, profile)}"
            )
        results.append(
            CheckResult(name, region, status, f"{found.resource_type} {found.name} exists outside any stack", remedy)
        )
    for found in _kept_unnamed(clients, region, deployment):
        if {found.name, found.arn} & managed - {""}:
            continue
        results.append(
            CheckResult(
                name,
                region,
                Status.WARN,
                f"{found.resource_type} {found.name} exists outside any stack (kept by a rollback; the retry "
                "creates a new one, this one costs until removed)",
                f"remove: {_remove_command(found, region, profile)}",
            )
        )
    if not results:
        results.append(CheckResult(name, region, Status.OK, "none"))
    return results


# --- the runner ----------------------------------------------------------------------------


def default_lookup_ns() -> NameServerLookup | None:
    """NS lookup with `dig` or `nslookup` if present; None (check reported unverified) otherwise."""
    dig = shutil.which("dig")
    if dig is not None:

        def with_dig(name: str) -> set[str]:
            output = subprocess.run(
                [dig, "+short", "NS", name], capture_output=True, text=True, timeout=20, check=False
            )
            return {line.strip() for line in output.stdout.splitlines() if line.strip()}

        return with_dig
    nslookup = shutil.which("nslookup")
    if nslookup is not None:

        def with_nslookup(name: str) -> set[str]:
            output = subprocess.run(
                [nslookup, "-type=NS", name], capture_output=True, text=True, timeout=20, check=False
            )
            return set(re.findall(r"nameserver\s*=\s*(\S+)", output.stdout))

        return with_nslookup
    return None


def run_preflight(
    deployment: Deployment,
    clients: ClientFactory,
    options: PreflightOptions = PreflightOptions(),
    lookup_ns: NameServerLookup | None = None,
) -> list[CheckResult]:
    """Every check, both regions; regions that are not enabled skip their regional checks."""
    account = clients("account", "us-east-1")
    results: list[CheckResult] = []
    for region in deployment.regions:
        opt_in = check_region_opt_in(account, region, options)
        results.append(opt_in)
        if opt_in.status is Status.FAIL:
            results.append(CheckResult("regional checks", region, Status.FAIL, "skipped: region not enabled"))
            continue
        results.append(check_session_document(clients("ssm", region), region, options))
        results.append(check_config_recorder(clients("config", region), region, options))
        results.append(check_bootstrap(clients("cloudformation", region), region, deployment, options))
        results.append(check_canary_runtime(clients("synthetics", region), region, options=options))
        rds = clients("rds", region)
        results.append(check_db_engine_version(rds, region, options=options))
        results.append(check_db_instance_class(rds, region, deployment, options=options))
        elasticache = clients("elasticache", region)
        results.append(check_cache_engine_version(elasticache, region, options=options))
        results.extend(_offerings(clients("ec2", region), elasticache, region, deployment, options))
        quotas = clients("service-quotas", region)
        results.append(check_ec2_vcpu_quota(quotas, clients("ec2", region), region, deployment, options))
        results.append(check_lambda_concurrency_quota(quotas, region, options))
        if region == deployment.primary_region:
            results.append(check_user_email(clients("sesv2", region), region, deployment, options))
        results.extend(check_orphans(clients, region, deployment, options))
    results.append(check_delegation(clients("route53", "us-east-1"), deployment, lookup_ns, options))
    return results


def _offerings(
    ec2: Any, elasticache: Any, region: str, deployment: Deployment, options: PreflightOptions
) -> list[CheckResult]:
    from tooling.preflight_offerings import check_cache_node_type, check_instance_type_offerings

    return [
        check_instance_type_offerings(ec2, region, deployment, options),
        check_cache_node_type(elasticache, region, deployment, options),
    ]


def render_table(results: Sequence[CheckResult]) -> str:
    header = ("status", "scope", "check", "message")
    rows = [(r.status.value.upper(), r.scope, r.check, r.message) for r in results]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    lines = [
        "  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(row)) for row in [header, *rows]
    ]
    remedies = [f"  - [{r.scope}] {r.check}: {r.remedy}" for r in results if r.status is not Status.OK and r.remedy]
    if remedies:
        lines += ["", "What to do:", *remedies]
    return "\n".join(lines)


def failed(results: Sequence[CheckResult]) -> bool:
    return any(r.status is Status.FAIL for r in results)


def session_clients(profile: str | None = None, endpoint_url: str | None = None) -> ClientFactory:
    import boto3

    session = boto3.Session(profile_name=profile)

    def factory(service: str, region: str) -> Any:
        return session.client(service, region_name=region, endpoint_url=endpoint_url)

    return factory


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deployment", default="au-production")
    parser.add_argument("--profile")
    parser.add_argument("--assembly", type=Path, default=Path("cdk.out"), help="synthesized cloud assembly")
    args = parser.parse_args(argv)
    deployment = load_config().get(args.deployment)
    options = options_from_assembly(args.assembly, deployment, profile=args.profile)
    results = run_preflight(deployment, session_clients(args.profile), options, default_lookup_ns())
    print(render_table(results))
    return 1 if failed(results) else 0


if __name__ == "__main__":
    sys.exit(main())

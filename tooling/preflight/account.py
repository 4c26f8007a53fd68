"""The account and its regions: opt-in, Session Manager document, Config recorder, the CDK
bootstrap stack, the domain delegation and the user pool's e-mail."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

from config import Deployment
from patterns.session_manager import DEFAULT_SESSION_DOCUMENT as PREFERENCES_DOCUMENT
from tooling.bootstrap_policy import boundary_policy_name, execution_policy_name, policy_arn
from tooling.preflight.results import (
    AWS_ERRORS,
    CheckResult,
    NameServerLookup,
    PreflightOptions,
    Status,
    error_code,
    profile_flag,
)

TOOLKIT_STACK: Final = "CDKToolkit"
ADMINISTRATOR_ACCESS: Final = "arn:aws:iam::aws:policy/AdministratorAccess"
ENABLED_STATES: Final = frozenset({"ENABLED", "ENABLED_BY_DEFAULT"})


def check_region_opt_in(account: Any, region: str, options: PreflightOptions = PreflightOptions()) -> CheckResult:
    name = "region opt-in"
    try:
        status = str(account.get_region_opt_status(RegionName=region)["RegionOptStatus"])
    except AWS_ERRORS as error:
        return CheckResult(
            name,
            region,
            Status.WARN,
            f"could not read the opt-in status ({error_code(error) or error})",
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
        f"aws account enable-region --region-name {region}{profile_flag(options)}  "
        f"(then wait for `aws account get-region-opt-status --region-name {region}` to say ENABLED)",
    )


def check_session_document(ssm: Any, region: str, options: PreflightOptions = PreflightOptions()) -> CheckResult:
    name = "session preferences"
    created_by_stacks = region in options.session_document_regions
    try:
        document = ssm.describe_document(Name=PREFERENCES_DOCUMENT)["Document"]
    except AWS_ERRORS as error:
        if error_code(error) == "InvalidDocument":
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
        f"save it (aws ssm get-document --name {PREFERENCES_DOCUMENT} --region {region}{profile_flag(options)}), "
        f"then aws ssm delete-document --name {PREFERENCES_DOCUMENT} --region {region}{profile_flag(options)}",
    )


def check_config_recorder(config: Any, region: str, options: PreflightOptions = PreflightOptions()) -> CheckResult:
    name = "AWS Config recorder"
    remedy = (
        "turn on AWS Config recording in this region (console: AWS Config > Settings, or "
        f"aws configservice put-configuration-recorder ... && aws configservice start-configuration-recorder "
        f"--configuration-recorder-name default --region {region}{profile_flag(options)}); "
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
        else f"./scripts/run --deployment {deployment.name} --target aws{profile_flag(options)} "
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
    profile = profile_flag(options)
    try:
        production = bool(sesv2.get_account().get("ProductionAccessEnabled"))
    except AWS_ERRORS as error:
        return CheckResult(name, region, Status.WARN, f"could not read the SES account: {error_code(error) or error}")
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
        if error_code(error) == "NotFoundException":
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

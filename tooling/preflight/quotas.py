"""Service Quotas of a fresh account: On-Demand standard vCPUs and Lambda concurrent executions."""

from __future__ import annotations

import re
from typing import Any, Final

from botocore.exceptions import ClientError

from config import Deployment
from tooling.preflight.results import AWS_ERRORS, CheckResult, PreflightOptions, Status, error_code, profile_flag

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


def _quota_value(service_quotas: Any, service: str, code: str) -> tuple[float, str]:
    """The applied quota, else its default: GetServiceQuota answers NoSuchResourceException where
    only the default is available.
    https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_GetServiceQuota.html
    https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_GetAWSDefaultServiceQuota.html"""
    try:
        return float(service_quotas.get_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"]), "applied"
    except ClientError as error:
        if error_code(error) != "NoSuchResourceException":
            raise
    answer = service_quotas.get_aws_default_service_quota(ServiceCode=service, QuotaCode=code)
    return float(answer["Quota"]["Value"]), "default"


def _quota_remedy(service: str, code: str, wanted: int, region: str, options: PreflightOptions) -> str:
    return (
        f"aws service-quotas request-service-quota-increase --service-code {service} --quota-code {code} "
        f"--desired-value {wanted} --region {region}{profile_flag(options)}  (approval can take days: ask early)"
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
        return CheckResult(name, region, Status.WARN, f"could not read the vCPU quota ({error_code(error) or error})")
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
        return CheckResult(name, region, Status.WARN, f"could not read the Lambda quota ({error_code(error) or error})")
    summary = f"{quota:g} concurrent executions ({source}) for {functions} functions and canaries"
    remedy = _quota_remedy(service, code, LAMBDA_DEFAULT_CONCURRENCY, region, options)
    if quota < functions:
        return CheckResult(name, region, Status.FAIL, summary, remedy)
    if quota < LAMBDA_DEFAULT_CONCURRENCY:
        return CheckResult(
            name, region, Status.WARN, f"{summary}: below the default {LAMBDA_DEFAULT_CONCURRENCY}", remedy
        )
    return CheckResult(name, region, Status.OK, summary)

"""Orphans of a failed first create (item 6): named or kept resources outside any stack, with the
command to remove or adopt each."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from config import Deployment
from tooling.preflight.assembly import AUTO_IMPORT_TYPES, NON_UNIQUE_NAME_TYPES, TAGGED_KEPT_TYPES
from tooling.preflight.results import CheckResult, ClientFactory, NamedResource, PreflightOptions, Status, profile_flag

# Stack states whose resources CloudFormation no longer manages.
GONE_STACK_STATES: Final = frozenset({"DELETE_COMPLETE", "ROLLBACK_COMPLETE"})
GONE_RESOURCE_STATES: Final = frozenset({"DELETE_COMPLETE", "DELETE_SKIPPED"})


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
    profile = profile_flag(options)
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

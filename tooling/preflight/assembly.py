"""What the synthesized assembly requires of the account: bootstrap version, named resources,
functions that may run at once (read from the manifests, never from AWS)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

from config import Deployment
from config.names import DR, PRIMARY, DeploymentNames
from patterns.session_manager import DEFAULT_SESSION_DOCUMENT as PREFERENCES_DOCUMENT
from tooling.preflight.quotas import LAMBDA_RESOURCE_TYPES
from tooling.preflight.results import DEFAULT_BOOTSTRAP_VERSION, NamedResource, PreflightOptions

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

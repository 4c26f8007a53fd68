"""Where a deployment's data lives and where it flows, read from the synthesized templates.

Every store and flow comes from a template property, never from configuration, and every region
from the resource itself: its stack's environment, or the region of the ARN a property names
(S3 bucket ARNs carry none, so a bucket is found by its name among the assembly's buckets).

Flows (HOST-2, BAK-5, DR-1, ACC-3, OPS-7):

- AWS Backup copy actions (`CopyActions[].DestinationBackupVaultArn`);
- S3 replication rules (`ReplicationConfiguration.Rules[].Destination.Bucket`);
- the cross-region read replica (`SourceDBInstanceIdentifier`, the source's ARN);
- Secrets Manager replicas (`ReplicaRegions`);
- CloudTrail's destinations (`S3BucketName`, `CloudWatchLogsLogGroupArn`);
- VPC flow logs (`LogGroupName` / `LogDestination`);
- release artifacts: the release (`runbooks/release.py`) uploads into each region's release
  bucket (tagged `data-classification=codebase`, `patterns/release_store.py`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from policies.rules.model import Resource, StackView

RELEASE_SOURCE = "release"
DATA_CLASSIFICATION_TAG = "data-classification"  # patterns/tagging.py (which loads aws_cdk)
UNKNOWN_REGION = "unknown"
_ARN = re.compile(r"^arn:[a-z-]+:(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>\d*):(?P<rest>.+)$")
_PSEUDO = {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}


@dataclass(frozen=True)
class LocalRef:
    """A `Ref` / `Fn::GetAtt` to a resource of the same template."""

    logical_id: str


@dataclass(frozen=True)
class Store:
    """A node of the diagram: a stateful resource, or where a flow ends outside the templates."""

    id: str  # construct path, or "<kind>:<region>:<name>" for what no template of the assembly holds
    kind: str  # database, bucket, vault, secret, keys, log group, trail, vpc, replica secret, external, release
    label: str
    region: str  # UNKNOWN_REGION when nothing names it; "" for the release source (no region)
    stack: str = ""  # the owning stack's name; "" when no template of the assembly holds it
    deployment: str = ""


@dataclass(frozen=True)
class Flow:
    source: str  # Store.id
    target: str  # Store.id
    kind: str  # "backup copy", "S3 replication", ...
    label: str
    source_region: str
    target_region: str
    evidence: str  # which template property says so
    within_jurisdiction: bool = True


@dataclass
class DeploymentFlows:
    deployment: str
    jurisdiction: str
    allowed_regions: tuple[str, ...]
    primary_region: str
    dr_region: str
    stacks: list[StackView]
    stores: dict[str, Store] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)

    @property
    def breaches(self) -> list[Flow]:
        return [flow for flow in self.flows if not flow.within_jurisdiction]


def resolve(value: Any, stack: StackView) -> str | LocalRef | None:
    """A property value as a string or a reference to a local resource; None when it is neither."""
    if isinstance(value, str):
        return value
    if not isinstance(value, Mapping) or len(value) != 1:
        return None
    ((function, argument),) = value.items()
    if function == "Ref":
        if argument == "AWS::Region":
            return stack.region
        if argument == "AWS::AccountId":
            return stack.account
        if argument in _PSEUDO:
            return _PSEUDO[argument]
        return LocalRef(str(argument)) if argument in stack.resources else None
    if function == "Fn::GetAtt":
        target = argument[0] if isinstance(argument, list) else str(argument).split(".")[0]
        return LocalRef(str(target)) if target in stack.resources else None
    if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
        parts = [resolve(part, stack) for part in argument[1]]
        if all(isinstance(part, str) for part in parts):
            return str(argument[0]).join(str(part) for part in parts)
        return None
    if function == "Fn::Sub" and isinstance(argument, str):
        pseudo = {"AWS::Region": stack.region, "AWS::AccountId": stack.account, **_PSEUDO}
        text = re.sub(r"\$\{([^}]+)\}", lambda m: pseudo.get(m.group(1), m.group(0)), argument)
        return None if "${" in text else text
    return None


def arn_region(text: str) -> str | None:
    match = _ARN.match(text)
    return match.group("region") if match and match.group("region") else None


def arn_resource_name(text: str) -> str:
    """The last name of an ARN's resource part (`backup-vault:NAME`, `db:NAME`, `:::NAME`)."""
    match = _ARN.match(text)
    rest = match.group("rest") if match else text
    return re.split(r"[:/]", rest)[-1]


def _kms_encrypted(bucket: Resource) -> bool:
    rules = bucket.prop("BucketEncryption", "ServerSideEncryptionConfiguration", default=[]) or []
    return any(
        str((rule.get("ServerSideEncryptionByDefault") or {}).get("SSEAlgorithm", "")).startswith("aws:kms")
        for rule in rules
        if isinstance(rule, Mapping)
    )


def _store_id(stack: StackView, resource: Resource) -> str:
    return resource.path.removesuffix("/Resource") or f"{stack.name}/{resource.logical_id}"


def _name(value: Any, stack: StackView, fallback: str) -> str:
    resolved = resolve(value, stack)
    return resolved if isinstance(resolved, str) else fallback


class _Index:
    """The assembly's named resources, to place a flow's destination by name or ARN."""

    def __init__(self, stacks: Iterable[StackView]) -> None:
        self.buckets: dict[str, tuple[StackView, Resource]] = {}
        self.vaults: dict[tuple[str, str], tuple[StackView, Resource]] = {}
        self.databases: dict[tuple[str, str], tuple[StackView, Resource]] = {}
        for stack in stacks:
            for resource in stack.resources.values():
                if resource.type == "AWS::S3::Bucket":
                    name = resolve(resource.properties.get("BucketName"), stack)
                    if isinstance(name, str):
                        self.buckets[name] = (stack, resource)
                elif resource.type == "AWS::Backup::BackupVault":
                    name = resolve(resource.properties.get("BackupVaultName"), stack)
                    if isinstance(name, str):
                        self.vaults[(stack.region, name)] = (stack, resource)
                elif resource.type == "AWS::RDS::DBInstance":
                    name = resolve(resource.properties.get("DBInstanceIdentifier"), stack)
                    if isinstance(name, str):
                        self.databases[(stack.region, name)] = (stack, resource)


class _Builder:
    def __init__(self, result: DeploymentFlows, index: _Index) -> None:
        self.result, self.index = result, index

    def store(self, stack: StackView, resource: Resource, kind: str, label: str) -> str:
        store_id = _store_id(stack, resource)
        if store_id not in self.result.stores:
            self.result.stores[store_id] = Store(
                store_id, kind, label, stack.region, stack.name, self.result.deployment
            )
        return store_id

    def outside(self, kind: str, region: str, name: str) -> str:
        """A destination no template of the assembly holds (a foreign vault, a secret's replica)."""
        store_id = f"{kind}:{region}:{name}"
        self.result.stores.setdefault(store_id, Store(store_id, kind, name, region, "", self.result.deployment))
        return store_id

    def flow(self, source: str, target: str, kind: str, label: str, evidence: str) -> None:
        source_region = self.result.stores[source].region
        target_region = self.result.stores[target].region
        allowed = self.result.allowed_regions
        within = target_region in allowed and (source_region in allowed or source_region == "")
        self.result.flows.append(Flow(source, target, kind, label, source_region, target_region, evidence, within))

    def bucket(self, name: str, fallback_region: str | None) -> str:
        if name in self.index.buckets:
            stack, resource = self.index.buckets[name]
            return self.store(stack, resource, "bucket", name)
        return self.outside("external", fallback_region or UNKNOWN_REGION, f"s3://{name}")

    def local_or_named_bucket(self, stack: StackView, value: Any) -> str | None:
        resolved = resolve(value, stack)
        if isinstance(resolved, LocalRef):
            resource = stack.resources[resolved.logical_id]
            name = _name(resource.properties.get("BucketName"), stack, resource.logical_id)
            return self.store(stack, resource, "bucket", name)
        if isinstance(resolved, str):
            return self.bucket(arn_resource_name(resolved), arn_region(resolved))
        return None

    def log_group(self, stack: StackView, value: Any) -> str | None:
        resolved = resolve(value, stack)
        if isinstance(resolved, LocalRef):
            resource = stack.resources[resolved.logical_id]
            name = _name(
                resource.properties.get("LogGroupName"),
                stack,
                f"log group {_store_id(stack, resource).rsplit('/', 1)[-1]}",
            )
            return self.store(stack, resource, "log group", name)
        if isinstance(resolved, str):
            region = arn_region(resolved) or stack.region
            return self.outside("external", region, resolved)
        return None


def _stores(builder: _Builder, stack: StackView) -> None:
    aliases = sorted(
        str(r.properties["AliasName"])
        for r in stack.resources.values()
        if r.type == "AWS::KMS::Alias" and isinstance(r.properties.get("AliasName"), str)
    )
    keys = [r for r in stack.resources.values() if r.type == "AWS::KMS::Key"]
    if keys:
        label = f"{len(keys)} KMS keys" + (": " + ", ".join(a.rsplit("/", 1)[-1] for a in aliases) if aliases else "")
        builder.result.stores.setdefault(
            f"{stack.name}/kms",
            Store(f"{stack.name}/kms", "keys", label, stack.region, stack.name, builder.result.deployment),
        )
    for resource in stack.resources.values():
        props = resource.properties
        if resource.type == "AWS::RDS::DBInstance":
            name = _name(props.get("DBInstanceIdentifier"), stack, resource.logical_id)
            replica = props.get("SourceDBInstanceIdentifier") is not None
            builder.store(stack, resource, "database", f"{name}" + (" (read replica)" if replica else ""))
        elif resource.type == "AWS::S3::Bucket" and _kms_encrypted(resource):
            builder.store(stack, resource, "bucket", _name(props.get("BucketName"), stack, resource.logical_id))
        elif resource.type == "AWS::Backup::BackupVault":
            builder.store(stack, resource, "vault", _name(props.get("BackupVaultName"), stack, resource.logical_id))
        elif resource.type == "AWS::SecretsManager::Secret":
            builder.store(stack, resource, "secret", _name(props.get("Name"), stack, resource.logical_id))


def _backup_copies(builder: _Builder, stack: StackView, plan: Resource) -> None:
    copies: dict[tuple[str, str], list[str]] = defaultdict(list)
    for rule in plan.prop("BackupPlan", "BackupPlanRule", default=[]) or []:
        source_name = resolve(rule.get("TargetBackupVault"), stack)
        if isinstance(source_name, LocalRef):
            vault = stack.resources[source_name.logical_id]
            source = builder.store(stack, vault, "vault", _name(vault.properties.get("BackupVaultName"), stack, ""))
        elif isinstance(source_name, str) and (stack.region, source_name) in builder.index.vaults:
            owner, vault = builder.index.vaults[(stack.region, source_name)]
            source = builder.store(owner, vault, "vault", source_name)
        else:
            source = builder.outside("external", stack.region, f"vault {source_name or '?'}")
        for action in rule.get("CopyActions") or []:
            destination = resolve(action.get("DestinationBackupVaultArn"), stack)
            if not isinstance(destination, str):
                continue
            region, name = arn_region(destination) or UNKNOWN_REGION, arn_resource_name(destination)
            if (region, name) in builder.index.vaults:
                owner, vault = builder.index.vaults[(region, name)]
                target = builder.store(owner, vault, "vault", name)
            else:
                target = builder.outside("external", region, f"backup vault {name}")
            copies[(source, target)].append(str(rule.get("RuleName", "?")))
    plan_name = _name(plan.prop("BackupPlan", "BackupPlanName"), stack, plan.logical_id)
    for (source, target), rules in copies.items():
        builder.flow(
            source,
            target,
            "backup copy",
            f"AWS Backup copy, plan {plan_name} ({', '.join(sorted(set(rules)))})",
            f"{stack.name}: {plan.path or plan.logical_id} CopyActions.DestinationBackupVaultArn",
        )


def _replication(builder: _Builder, stack: StackView, bucket: Resource) -> None:
    rules = bucket.prop("ReplicationConfiguration", "Rules", default=[]) or []
    source = builder.store(
        stack, bucket, "bucket", _name(bucket.properties.get("BucketName"), stack, bucket.logical_id)
    )
    for rule in rules:
        destination = rule.get("Destination") or {}
        arn = resolve(destination.get("Bucket"), stack)
        key = resolve((destination.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID"), stack)
        key_region = arn_region(key) if isinstance(key, str) else None
        if isinstance(arn, LocalRef):
            target = builder.local_or_named_bucket(stack, destination.get("Bucket"))
        elif isinstance(arn, str):
            target = builder.bucket(arn_resource_name(arn), arn_region(arn) or key_region)
        else:
            target = None
        if target is None:
            continue
        under = f", re-encrypted under {key.split(':', 5)[-1]}" if isinstance(key, str) else ""
        builder.flow(
            source,
            target,
            "S3 replication",
            f"S3 replication{under}",
            f"{stack.name}: {bucket.path or bucket.logical_id} ReplicationConfiguration.Rules.Destination.Bucket",
        )


def _read_replica(builder: _Builder, stack: StackView, replica: Resource) -> None:
    source_value = resolve(replica.properties.get("SourceDBInstanceIdentifier"), stack)
    if source_value is None:
        return
    target = _store_id(stack, replica)
    if isinstance(source_value, LocalRef):
        source_resource = stack.resources[source_value.logical_id]
        source = builder.store(stack, source_resource, "database", source_resource.logical_id)
    else:
        region, name = arn_region(source_value) or stack.region, arn_resource_name(source_value)
        if (region, name) in builder.index.databases:
            owner, database = builder.index.databases[(region, name)]
            source = builder.store(owner, database, "database", name)
        else:
            source = builder.outside("external", region, f"database {name}")
    key = resolve(replica.properties.get("KmsKeyId"), stack)
    under = f", encrypted under {key.split(':', 5)[-1]}" if isinstance(key, str) else ""
    builder.flow(
        source,
        target,
        "read replica",
        f"cross-region read replica{under}"
        if builder.result.stores[source].region != stack.region
        else f"read replica{under}",
        f"{stack.name}: {replica.path or replica.logical_id} SourceDBInstanceIdentifier",
    )


def _secret_replicas(builder: _Builder, stack: StackView, secret: Resource) -> None:
    source = _store_id(stack, secret)
    name = builder.result.stores[source].label
    for replica in secret.properties.get("ReplicaRegions") or []:
        region = resolve(replica.get("Region"), stack)
        region = region if isinstance(region, str) else UNKNOWN_REGION
        target = builder.outside("replica secret", region, f"{name} (replica)")
        key = resolve(replica.get("KmsKeyId"), stack)
        under = f", under {key}" if isinstance(key, str) else ""
        builder.flow(
            source,
            target,
            "secret replica",
            f"Secrets Manager replica{under}",
            f"{stack.name}: {secret.path or secret.logical_id} ReplicaRegions",
        )


def _trail(builder: _Builder, stack: StackView, trail: Resource) -> None:
    props = trail.properties
    label = _name(props.get("TrailName"), stack, "CloudTrail trail")
    if props.get("IsMultiRegionTrail") is True:
        label += " (multi-region)"
    source = builder.store(stack, trail, "trail", label)
    evidence = f"{stack.name}: {trail.path or trail.logical_id}"
    bucket = builder.local_or_named_bucket(stack, props.get("S3BucketName"))
    if bucket is not None:
        builder.flow(source, bucket, "trail logs", "CloudTrail log files", f"{evidence} S3BucketName")
    group = builder.log_group(stack, props.get("CloudWatchLogsLogGroupArn"))
    if group is not None:
        builder.flow(source, group, "trail logs", "CloudTrail events", f"{evidence} CloudWatchLogsLogGroupArn")


def _flow_log(builder: _Builder, stack: StackView, flow_log: Resource) -> None:
    props = flow_log.properties
    origin = resolve(props.get("ResourceId"), stack)
    if isinstance(origin, LocalRef):
        vpc = stack.resources[origin.logical_id]
        cidr = vpc.properties.get("CidrBlock")
        source = builder.store(stack, vpc, "vpc", f"VPC {cidr}" if isinstance(cidr, str) else "VPC")
    else:
        source = builder.outside("external", stack.region, f"network interface {origin or '?'}")
    evidence = f"{stack.name}: {flow_log.path or flow_log.logical_id}"
    if str(props.get("LogDestinationType", "cloud-watch-logs")) == "s3":
        target = builder.local_or_named_bucket(stack, props.get("LogDestination"))
    elif props.get("LogGroupName") is not None:
        target = builder.log_group(stack, props.get("LogGroupName"))
    else:
        target = builder.log_group(stack, props.get("LogDestination"))
    if target is not None:
        builder.flow(source, target, "flow logs", "VPC flow logs", f"{evidence} LogDestination / LogGroupName")


def _releases(builder: _Builder, stacks: list[StackView]) -> None:
    buckets = [
        (stack, resource)
        for stack in stacks
        for resource in stack.resources.values()
        if resource.type == "AWS::S3::Bucket" and resource.tags.get(DATA_CLASSIFICATION_TAG) == "codebase"
    ]
    if not buckets:
        return
    source = f"{RELEASE_SOURCE}:{builder.result.deployment}"
    builder.result.stores[source] = Store(
        source, "release", "release artifact (runbooks/release.py, write-once)", "", "", builder.result.deployment
    )
    for stack, resource in buckets:
        name = _name(resource.properties.get("BucketName"), stack, resource.logical_id)
        target = builder.store(stack, resource, "bucket", name)
        builder.flow(
            source,
            target,
            "release artifact",
            "release upload (If-None-Match)",
            f"{stack.name}: {resource.path or resource.logical_id} Tags.{DATA_CLASSIFICATION_TAG}=codebase",
        )


_HANDLERS = {
    "AWS::Backup::BackupPlan": _backup_copies,
    "AWS::S3::Bucket": lambda b, s, r: _replication(b, s, r) if r.prop("ReplicationConfiguration") else None,
    "AWS::RDS::DBInstance": _read_replica,
    "AWS::SecretsManager::Secret": _secret_replicas,
    "AWS::CloudTrail::Trail": _trail,
    "AWS::EC2::FlowLog": _flow_log,
}


def deployment_flows(stacks: list[StackView]) -> list[DeploymentFlows]:
    """Stores and flows per deployment, in the assembly's order of deployments and stacks."""
    index = _Index(stacks)
    by_deployment: dict[str, DeploymentFlows] = {}
    for stack in stacks:
        deployment = stack.deployment
        if deployment is None:
            continue
        if deployment.name not in by_deployment:
            by_deployment[deployment.name] = DeploymentFlows(
                deployment=deployment.name,
                jurisdiction=deployment.jurisdiction,
                allowed_regions=tuple(deployment.allowed_regions),
                primary_region=deployment.primary_region,
                dr_region=deployment.dr_region,
                stacks=[],
            )
        by_deployment[deployment.name].stacks.append(stack)
    for result in by_deployment.values():
        builder = _Builder(result, index)
        for stack in result.stacks:
            _stores(builder, stack)
        for stack in result.stacks:
            for resource in stack.resources.values():
                handler = _HANDLERS.get(resource.type)
                if handler is not None:
                    handler(builder, stack, resource)
        _releases(builder, result.stacks)
        result.flows.sort(key=lambda f: (f.kind, f.source, f.target))
    return list(by_deployment.values())

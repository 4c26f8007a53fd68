"""Rules that apply to every resource: residency, environment separation, secrets, retention."""

from __future__ import annotations

import re

from policies.rules.cfn import flatten, regions_in, strings_in
from policies.rules.model import Resource, Result, StackView, fail, na, ok, rule

STATEFUL_TYPES = (
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::S3::Bucket",
    "AWS::Backup::BackupVault",
    "AWS::KMS::Key",
    "AWS::Logs::LogGroup",
    "AWS::SecretsManager::Secret",
    "AWS::EC2::Volume",
    "AWS::DynamoDB::Table",
    "AWS::EFS::FileSystem",
)
DATA_STORE_TYPES = (
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::S3::Bucket",
    "AWS::Backup::BackupVault",
    "AWS::KMS::Key",
)
SNAPSHOT_OK = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::ElastiCache::ReplicationGroup", "AWS::EC2::Volume")


def _allowed(stack: StackView) -> tuple[str, ...]:
    return stack.allowed_regions


@rule(
    "HOST2-StackRegion",
    "HOST-2",
    ("*",),
    "HOST-2: data stays in the deployment's jurisdiction; this resource's stack is in a region outside it "
    "(or belongs to no deployment).",
    "Seeds 000/001/002 promise storage in the customer's jurisdiction (Sydney / US / EU-UK).",
)
def stack_region(resource: Resource, stack: StackView) -> Result:
    owner = stack.deployment or stack.pipeline
    if owner is None:
        return fail(f"stack {stack.name} belongs to no configured deployment or pipeline, so it has no jurisdiction")
    allowed = _allowed(stack)
    if stack.region not in allowed:
        return fail(f"stack {stack.name} is in {stack.region}; {owner.jurisdiction} allows {', '.join(allowed)}")
    return ok(f"{stack.region} is in {owner.jurisdiction}")


@rule(
    "HOST2-RegionReferences",
    "HOST-2",
    ("*",),
    "HOST-2: every region a deployment touches (backup copy, replication target, replica key, ARN) lies in its "
    "jurisdiction; this resource names a region outside it.",
    "Seeds 000/001/002: customer data never leaves its jurisdiction, not even as a copy.",
)
def region_references(resource: Resource, stack: StackView) -> Result:
    regions = regions_in(resource.properties)
    if not regions:
        return na("names no region")
    outside = sorted(regions - set(_allowed(stack)))
    if outside:
        return fail(f"references region(s) {', '.join(outside)} outside the jurisdiction")
    return ok(f"references only {', '.join(sorted(regions))}")


_ACCOUNT_IN_TEXT = re.compile(r"(?<!\d)(\d{12})(?!\d)")


@rule(
    "HOST3-NoProductionReference",
    "HOST-3",
    ("*",),
    "HOST-3: non-production stacks have no replication, backup copy or key grant that touches production; this "
    "resource refers to a production account or resource.",
    "Seed 002: separate production, staging and development; customer data never replicated outside production.",
)
def no_production_reference(resource: Resource, stack: StackView) -> Result:
    if stack.deployment is None or stack.is_production:
        return na("production stack")
    if stack.account in stack.production_accounts:
        return fail(f"non-production stack {stack.name} is deployed into production account {stack.account}")
    for text in strings_in(resource.properties):
        for account in _ACCOUNT_IN_TEXT.findall(text):
            if account in stack.production_accounts:
                return fail(f"refers to production account {account} in {text[:120]!r}")
        for name in stack.production_names:
            if re.search(rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])", text):
                return fail(f"refers to production deployment {name!r} in {text[:120]!r}")
    return ok("no production account or resource referenced")


_SECRET_KEY = re.compile(r"(password|passwd|secretstring|authtoken|secretaccesskey|privatekey|apikey)$", re.I)
_DYNAMIC = ("{{resolve:secretsmanager:", "{{resolve:ssm-secure:")


def _secret_values(value: object, key: str = "") -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found.extend(_secret_values(v, str(k)))
    elif isinstance(value, list):
        for item in value:
            found.extend(_secret_values(item, key))
    elif key and _SECRET_KEY.search(key):
        found.append((key, value))
    return found


@rule(
    "ENC4-NoPlaintextSecrets",
    "ENC-4",
    ("*",),
    "ENC-4: staff cannot see passwords, so no template holds a plaintext secret; this resource has a literal "
    "password/secret value instead of a Secrets Manager reference.",
    "Seeds 001/003/004: passwords are never visible to staff; templates are readable by staff.",
)
def no_plaintext_secrets(resource: Resource, stack: StackView) -> Result:
    literal = [
        key
        for key, value in _secret_values(dict(resource.properties))
        if isinstance(value, str | int) and not str(value).startswith(_DYNAMIC) and str(value) != ""
    ]
    for key, value in _secret_values(dict(resource.properties)):
        if isinstance(value, dict) and "Fn::Join" in value:
            text = flatten(value)
            if "{{resolve:" not in text:
                literal.append(key)
    if resource.type == "AWS::SecretsManager::Secret" and "SecretString" in resource.properties:
        literal.append("SecretString")
    if literal:
        return fail(f"literal secret value(s) in {', '.join(sorted(set(literal)))}")
    return ok("no literal secret values")


@rule(
    "BAK8-RetainStateful",
    "BAK-8",
    STATEFUL_TYPES,
    "BAK-8: data is not deleted automatically and nothing is lost on stack deletion; this stateful resource's "
    "DeletionPolicy/UpdateReplacePolicy would delete it.",
    "Seed 000: data loss never follows from infrastructure changes.",
)
def retain_stateful(resource: Resource, stack: StackView) -> Result:
    allowed = {"Retain", "RetainExceptOnCreate"} | ({"Snapshot"} if resource.type in SNAPSHOT_OK else set())
    bad = [
        f"{name}={value or 'Delete (default)'}"
        for name, value in (
            ("DeletionPolicy", resource.deletion_policy),
            ("UpdateReplacePolicy", resource.update_replace_policy),
        )
        if value not in allowed
    ]
    if bad:
        return fail(", ".join(bad))
    return ok(f"DeletionPolicy={resource.deletion_policy}")


@rule(
    "BAK8-TerminationProtection",
    "BAK-8",
    STATEFUL_TYPES,
    "BAK-8: production stacks have termination protection; this stateful resource lives in a production stack "
    "without it.",
    "Seed 000: a stack deletion must not take data with it.",
)
def termination_protection(resource: Resource, stack: StackView) -> Result:
    if not stack.is_production:
        return na("non-production stack")
    if not stack.termination_protection:
        return fail(f"stack {stack.name} has terminationProtection off")
    return ok("stack has termination protection")


@rule(
    "HOST5-DataClassification",
    "HOST-5",
    DATA_STORE_TYPES,
    "HOST-5: data is partitioned per customer and class; every data store carries the data-classification tag "
    "(ABAC and auditors read it); this one has none.",
    "Seeds 000/004: multi-tenant, data partitioned per customer licence.",
)
def data_classification(resource: Resource, stack: StackView) -> Result:
    from config.policy import DATA_CLASSES

    tags = resource.tags
    if resource.type == "AWS::Backup::BackupVault":
        tags = {str(k): str(v) for k, v in (resource.prop("BackupVaultTags") or {}).items()}
    value = tags.get("data-classification")
    if value is None:
        return fail("no data-classification tag")
    if value not in DATA_CLASSES:
        return fail(f"data-classification={value!r} is not one of {', '.join(DATA_CLASSES)}")
    return ok(f"data-classification={value}")


RULES = [
    stack_region,
    region_references,
    no_production_reference,
    no_plaintext_secrets,
    retain_stateful,
    termination_protection,
    data_classification,
]

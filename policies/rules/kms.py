"""KMS rules: rotation, one key per data class, least-privilege key policies, and every resource
encrypted with its region's key of its data class (ENC-1, ENC-2)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from config.policy import DATA_CLASSES
from policies.rules.cfn import flatten, is_true
from policies.rules.iam_match import actions_of, statements
from policies.rules.model import Resource, Result, StackView, Target, fail, na, ok, rule

KEY = ("AWS::KMS::Key",)
DATA_CLASSIFICATION: Final = "data-classification"
BUCKET_KEY: Final = ("BucketEncryption", "ServerSideEncryptionConfiguration", 0, "ServerSideEncryptionByDefault")
# Declarative table (ENC-2): the data class whose key encrypts each type, and the properties that name
# the key. None: the resource's own data-classification tag decides (a bucket holds one class).
KEY_OF_CLASS: Final[Mapping[str, tuple[str | None, tuple[tuple[str | int, ...], ...]]]] = {
    "AWS::Logs::LogGroup": ("logs", (("KmsKeyId",),)),
    "AWS::CloudTrail::Trail": ("logs", (("KMSKeyId",),)),
    "AWS::SNS::Topic": ("system", (("KmsMasterKeyId",),)),
    "AWS::SQS::Queue": ("system", (("KmsMasterKeyId",),)),
    "AWS::SecretsManager::Secret": ("system", (("KmsKeyId",),)),  # credentials are system-generated data
    "AWS::Backup::BackupVault": ("backup", (("EncryptionKeyArn",),)),
    "AWS::RDS::DBInstance": ("customer", (("KmsKeyId",), ("PerformanceInsightsKMSKeyId",))),
    "AWS::ElastiCache::ReplicationGroup": ("customer", (("KmsKeyId",),)),
    "AWS::S3::Bucket": (None, ((*BUCKET_KEY, "KMSMasterKeyID"),)),
}


@rule(
    "ENC1-KeyRotation",
    "ENC-1",
    KEY,
    "ENC-1: customer-managed keys rotate automatically; this key has rotation off.",
    "Seeds 001/004: data encrypted with KMS; rotation limits the data under one key version.",
)
def key_rotation(resource: Resource, stack: StackView) -> Result:
    if resource.prop("KeySpec", default="SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
        return na("asymmetric/HMAC keys cannot rotate automatically")
    return ok("rotation on") if is_true(resource.prop("EnableKeyRotation")) else fail("EnableKeyRotation is not true")


@rule(
    "ENC2-KeyPerDataClass",
    "ENC-2",
    KEY,
    "ENC-2: one customer-managed key per data class per region; this key has no/unknown data-classification tag "
    "or shares its class with another key of the region.",
    "Seed 004: keys separated by data category (customer input, system generated, logs, codebase).",
)
def key_per_data_class(resource: Resource, stack: StackView) -> Result:
    data_class = resource.tags.get("data-classification")
    if data_class not in DATA_CLASSES:
        return fail(f"data-classification={data_class!r}; allowed {', '.join(DATA_CLASSES)}")
    same = [
        k.logical_id
        for _, k in stack.in_region("AWS::KMS::Key")
        if k.tags.get("data-classification") == data_class and k is not resource
    ]
    return fail(f"class {data_class!r} also used by {', '.join(same)}") if same else ok(f"the only {data_class} key")


@rule(
    "ENC2-KeyPolicyLeastPrivilege",
    "ENC-2",
    KEY,
    "ENC-2: key policies are least privilege; this key policy allows everyone, or gives a non-root principal kms:*.",
    "Seed 004: keys per data category are only useful if each key's users are restricted.",
)
def key_policy(resource: Resource, stack: StackView) -> Result:
    for statement in statements(resource.prop("KeyPolicy")):
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        aws = principal.get("AWS") if isinstance(principal, dict) else principal
        everyone = principal == "*" or aws == "*" or (isinstance(aws, list) and "*" in aws)
        if everyone and not statement.get("Condition"):
            return fail(f"statement {statement.get('Sid', '?')} allows any principal without a condition")
        text = json.dumps(principal)
        is_root = ":root" in text or (isinstance(aws, str) and aws.isdigit())
        if not is_root and ("kms:*" in actions_of(statement) or "*" in actions_of(statement)):
            return fail(f"statement {statement.get('Sid', '?')} gives {text[:80]} kms:*")
    return ok("no wildcard principal; kms:* only for the account root")


@rule(
    "ENC2-EveryClassInRegion",
    "ENC-2",
    KEY,
    f"ENC-2: every region holding data has one key for each class ({', '.join(DATA_CLASSES)}); this region's "
    "customer key has siblings missing.",
    "Seed 004: the codebase, logs, system and customer data each have their own key, in every region.",
)
def every_class_in_region(resource: Resource, stack: StackView) -> Result:
    if resource.tags.get("data-classification") != "customer":
        return na("the region's customer key anchors the check")
    present = {k.tags.get("data-classification") for _, k in stack.in_region("AWS::KMS::Key")}
    missing = [c for c in DATA_CLASSES if c not in present]
    return fail(f"no {', '.join(missing)} key in {stack.region}") if missing else ok(f"all {len(DATA_CLASSES)} classes")


def _key_behind(reference: Any, stack: StackView) -> Target | str:
    """The KMS key a property names (through an alias), or what stops the check."""
    target = stack.resolve(reference)
    if target is not None and target.resource.type == "AWS::KMS::Alias":
        target = target.stack.resolve(target.resource.prop("TargetKeyId"))
    if target is None:
        return f"{flatten(reference)} names no key of this synth, so its data class cannot be checked"
    if target.resource.type != "AWS::KMS::Key":
        return f"{target.stack.name}/{target.resource.logical_id} is a {target.resource.type}, not a KMS key"
    if target.stack.region != stack.region:
        return f"key {target.stack.name}/{target.resource.logical_id} is in {target.stack.region}, not {stack.region}"
    return target


@rule(
    "ENC2-KeyOfDataClass",
    "ENC-2",
    tuple(KEY_OF_CLASS),
    "ENC-2: data is encrypted with its region's key of its data class (logs, system, backup, customer; a bucket's "
    "class is its data-classification tag); this resource names another class's key, another region's key, or a "
    "key the synth does not hold.",
    "Seed 004: keys separated by data category only separate data if each resource uses the key of its category.",
)
def key_of_data_class(resource: Resource, stack: StackView) -> Result:
    fixed_class, properties = KEY_OF_CLASS[resource.type]
    named = [(path, resource.prop(*path)) for path in properties if resource.prop(*path) is not None]
    if not named:
        return na("names no KMS key (the ENC-1 rules check that it is encrypted)")
    expected = fixed_class or resource.tags.get(DATA_CLASSIFICATION)
    if expected not in DATA_CLASSES:
        return fail(f"{DATA_CLASSIFICATION}={expected!r}; allowed {', '.join(DATA_CLASSES)}")
    for path, reference in named:
        key = _key_behind(reference, stack)
        if isinstance(key, str):
            return fail(f"{path[-1]}: {key}")
        found = key.resource.tags.get(DATA_CLASSIFICATION)
        if found != expected:
            return fail(
                f"{path[-1]}: key {key.stack.name}/{key.resource.logical_id} is of class {found!r}, not {expected!r}"
            )
    return ok(f"the {expected} key of {stack.region}")


RULES = [key_rotation, key_per_data_class, key_policy, every_class_in_region, key_of_data_class]

"""KMS rules: rotation, one key per data class, least-privilege key policies (ENC-1, ENC-2)."""

from __future__ import annotations

import json

from config.policy import DATA_CLASSES
from policies.rules.cfn import is_true
from policies.rules.iam_match import actions_of, statements
from policies.rules.model import Resource, Result, StackView, fail, na, ok, rule

KEY = ("AWS::KMS::Key",)


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


RULES = [key_rotation, key_per_data_class, key_policy, every_class_in_region]

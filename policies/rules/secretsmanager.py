"""Secrets Manager rules: customer-managed keys and rotation (ENC-1, ENC-4)."""

from __future__ import annotations

from policies.rules.cfn import is_customer_key, refs_in
from policies.rules.model import Resource, Result, StackView, fail, ok, rule

SECRET = ("AWS::SecretsManager::Secret",)


@rule(
    "ENC1-SecretKms",
    "ENC-1",
    SECRET,
    "ENC-1: secrets are encrypted with a customer-managed KMS key; this secret uses the AWS-managed key.",
    "Seeds 001/004: data at rest encrypted with KMS.",
)
def secret_kms(resource: Resource, stack: StackView) -> Result:
    key = resource.prop("KmsKeyId")
    if not is_customer_key(key):
        return fail(f"KmsKeyId={key!r}")
    return ok("customer-managed key")


@rule(
    "ENC4-SecretRotation",
    "ENC-4",
    SECRET,
    "ENC-4: credentials in Secrets Manager rotate; this secret has no rotation schedule.",
    "Seeds 001/003/004: staff cannot see passwords; rotation limits a leaked credential.",
)
def secret_rotation(resource: Resource, stack: StackView) -> Result:
    ids = {resource.logical_id}
    ids |= {
        a.logical_id
        for a in stack.of_type("AWS::SecretsManager::SecretTargetAttachment")
        if resource.logical_id in refs_in(a.prop("SecretId"))
    }
    for _, schedule in stack.in_region("AWS::SecretsManager::RotationSchedule"):
        if refs_in(schedule.prop("SecretId")) & ids:
            return ok(f"rotation schedule {schedule.logical_id}")
    return fail("no AWS::SecretsManager::RotationSchedule")


RULES = [secret_kms, secret_rotation]

"""SNS rules: severity topics are encrypted with a customer-managed key (ENC-1, OPS-2)."""

from __future__ import annotations

from policies.rules.cfn import is_customer_key
from policies.rules.model import Resource, Result, StackView, fail, ok, rule


@rule(
    "ENC1-SnsKms",
    "ENC-1",
    ("AWS::SNS::Topic",),
    "ENC-1: notifications are encrypted with a customer-managed KMS key; this topic is unencrypted or uses the "
    "AWS-managed key.",
    "Seeds 001/004: data at rest encrypted; OPS-2 topics carry incident details.",
)
def sns_kms(resource: Resource, stack: StackView) -> Result:
    key = resource.prop("KmsMasterKeyId")
    if not is_customer_key(key):
        return fail(f"KmsMasterKeyId={key!r}")
    return ok("customer-managed key")


RULES = [sns_kms]

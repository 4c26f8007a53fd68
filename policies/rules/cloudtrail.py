"""CloudTrail rules: a multi-region, validated, encrypted trail per deployment (ACC-3, ENC-1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.rules.cfn import as_list, flatten, is_true
from policies.rules.model import Resource, Result, StackView, fail, na, ok, rule

TRAIL = ("AWS::CloudTrail::Trail",)


@rule(
    "ACC3-TrailConfiguration",
    "ACC-3",
    TRAIL,
    "ACC-3: every change is audited by a multi-region CloudTrail with log file validation; this trail is "
    "single-region, not logging or unvalidated.",
    "Seeds 001/003: every access and change audited; audit records kept.",
)
def trail_configuration(resource: Resource, stack: StackView) -> Result:
    missing = [
        p for p in ("IsMultiRegionTrail", "EnableLogFileValidation", "IsLogging") if not is_true(resource.prop(p))
    ]
    return fail(f"{', '.join(missing)} not true") if missing else ok("multi-region, validated, logging")


@rule(
    "ENC1-TrailKms",
    "ENC-1",
    TRAIL,
    "ENC-1: audit logs are encrypted with a customer-managed KMS key; this trail has no KMSKeyId.",
    "Seeds 001/004: logs encrypted at rest.",
)
def trail_kms(resource: Resource, stack: StackView) -> Result:
    return ok("KMS-encrypted") if resource.prop("KMSKeyId") else fail("no KMSKeyId")


@rule(
    "ACC3-TrailPresent",
    "ACC-3",
    ("AWS::EC2::VPC",),
    "ACC-3: every deployment records every change with CloudTrail; this deployment (anchored on its primary VPC) "
    "has no multi-region trail.",
    "Seeds 001/003: every change audited.",
)
def trail_present(resource: Resource, stack: StackView) -> Result:
    if stack.role != "primary":
        return na("the multi-region trail lives in the primary region")
    trails = [
        t
        for s in stack.deployment_stacks or [stack]
        for t in s.of_type("AWS::CloudTrail::Trail")
        if is_true(t.prop("IsMultiRegionTrail"))
    ]
    return (
        ok(f"{len(trails)} multi-region trail(s)")
        if trails
        else fail("no multi-region AWS::CloudTrail::Trail in the deployment")
    )


def _field(selector: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    for field in as_list(selector.get("FieldSelectors")):
        if isinstance(field, Mapping) and field.get("Field") == name:
            return field
    return None


def _records_management(trail: Resource) -> bool:
    advanced = as_list(trail.prop("AdvancedEventSelectors"))
    if not advanced:
        return True  # basic selectors (or none) log management events by default
    for selector in advanced:
        category = _field(selector, "eventCategory") if isinstance(selector, Mapping) else None
        if category and "Management" in as_list(category.get("Equals")):
            return True
    return False


def _records_object_events(trail: Resource, bucket_name: str) -> bool:
    """Does the trail record S3 object-level data events of `bucket_name`?"""
    object_arn = f"arn:aws:s3:::{bucket_name}/"
    for selector in as_list(trail.prop("AdvancedEventSelectors")):
        if not isinstance(selector, Mapping):
            continue
        category, kind, arn = (_field(selector, f) for f in ("eventCategory", "resources.type", "resources.ARN"))
        if not category or "Data" not in as_list(category.get("Equals")):
            continue
        if not kind or "AWS::S3::Object" not in as_list(kind.get("Equals")):
            continue
        if arn is None:
            return True  # every bucket
        prefixes = [flatten(v) for v in as_list(arn.get("StartsWith"))] + [
            flatten(v) for v in as_list(arn.get("Equals"))
        ]
        if any(object_arn.startswith(prefix) for prefix in prefixes if prefix.startswith("arn:")):
            return True
    for selector in as_list(trail.prop("EventSelectors")):
        for data in as_list(selector.get("DataResources") if isinstance(selector, Mapping) else None):
            if isinstance(data, Mapping) and data.get("Type") == "AWS::S3::Object":
                values = [flatten(v) for v in as_list(data.get("Values"))]
                if any(object_arn.startswith(v) for v in values):
                    return True
    return False


@rule(
    "ACC3-CustomerDataEvents",
    "ACC-3",
    ("AWS::S3::Bucket",),
    "ACC-3: every access to customer data is audited: a multi-region CloudTrail of the deployment records the S3 "
    "data events (object reads and writes) of each bucket holding customer data, and still its management "
    "events; this customer bucket's object accesses are not recorded.",
    "Seeds 001/003: every access and every change audited.",
)
def customer_data_events(resource: Resource, stack: StackView) -> Result:
    if resource.tags.get("data-classification") != "customer":
        return na("not a customer-data bucket")
    name = flatten(resource.prop("BucketName", default=""))
    if not name or "{" in name:
        return fail("customer bucket without a literal BucketName: no trail selector can name it")
    trails = [
        t
        for s in stack.deployment_stacks or [stack]
        for t in s.of_type("AWS::CloudTrail::Trail")
        if is_true(t.prop("IsMultiRegionTrail"))
    ]
    if not trails:
        return fail("no multi-region trail in the deployment")
    for trail in trails:
        if _records_object_events(trail, name):
            if not _records_management(trail):
                return fail(f"trail {trail.logical_id} records data events but no management events")
            return ok(f"S3 data events of {name} recorded by {trail.logical_id}")
    return fail(f"no trail records S3 data events (AWS::S3::Object) of arn:aws:s3:::{name}/")


RULES = [trail_configuration, trail_kms, trail_present, customer_data_events]

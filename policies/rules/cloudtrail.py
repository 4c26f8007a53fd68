"""CloudTrail rules: a multi-region, validated, encrypted trail per deployment whose records are immutable
and copied into the DR region (ACC-3, ENC-1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from config.policy import PRODUCTION_AUDIT_LOCK_MODE
from policies.rules.cfn import as_list, flatten, is_true, ref_id
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


def _is_trail_bucket(bucket: Resource, stack: StackView) -> bool:
    return any(
        ref_id(trail.prop("S3BucketName")) == bucket.logical_id
        or trail.prop("S3BucketName") == bucket.prop("BucketName")
        for _, trail in stack.in_region("AWS::CloudTrail::Trail")
    )


def _lock_problem(bucket: Resource, stack: StackView) -> str | None:
    """Why `bucket` (in `stack`) does not lock every new record version for as long as it is kept, or None."""
    if not is_true(bucket.prop("ObjectLockEnabled")):
        return "ObjectLockEnabled is not true"
    retention = bucket.prop("ObjectLockConfiguration", "Rule", "DefaultRetention")
    if not isinstance(retention, Mapping):
        return "no default retention (ObjectLockConfiguration.Rule.DefaultRetention)"
    mode = retention.get("Mode")
    if mode not in ("COMPLIANCE", "GOVERNANCE"):
        return f"default retention mode {mode!r}"
    if stack.is_production and mode != PRODUCTION_AUDIT_LOCK_MODE:
        return f"{mode} mode in production ({PRODUCTION_AUDIT_LOCK_MODE} required: nobody may lift the lock)"
    days = int(retention.get("Days") or 0) or 365 * int(retention.get("Years") or 0)
    kept = stack.retention_days("log_archive_expiry_days")
    if days < kept:
        return f"records locked for {days} days but kept for {kept} (log_archive_expiry_days)"
    return None


@rule(
    "ACC3-AuditBucketObjectLock",
    "ACC-3",
    ("AWS::S3::Bucket",),
    "ACC-3: audit records are kept: the bucket a trail delivers to has S3 Object Lock with a default retention of "
    "at least the audit retention (log_archive_expiry_days), in COMPLIANCE mode in production; this trail bucket "
    "lets records be deleted or overwritten early.",
    "Seeds 001/003: every access and every change audited; audit records kept.",
)
def audit_bucket_object_lock(resource: Resource, stack: StackView) -> Result:
    if not _is_trail_bucket(resource, stack):
        return na("no trail delivers to this bucket")
    problem = _lock_problem(resource, stack)
    return fail(problem) if problem else ok("Object Lock on every record version for the audit retention")


def _bucket_named(name: str, stack: StackView) -> tuple[StackView, Resource] | None:
    for view in stack.deployment_stacks or [stack]:
        for bucket in view.of_type("AWS::S3::Bucket"):
            if bucket.prop("BucketName") == name:
                return view, bucket
    return None


def _copy_problem(rule_: Mapping[str, Any], stack: StackView) -> str | None:
    """Why one replication rule does not copy the records into a locked bucket of the DR region, or None."""
    if rule_.get("Status") != "Enabled":
        return f"rule {rule_.get('Id')} is not enabled"
    destination = flatten((rule_.get("Destination") or {}).get("Bucket", ""))
    name = destination.rsplit(":::", 1)[-1]  # `arn:aws:s3:::<name>`, or `arn:{AWS::Partition}:...` unflagged
    found = _bucket_named(name, stack)
    if found is None:
        return f"destination {destination} is no bucket of this deployment"
    view, target = found
    dr_region = stack.deployment.dr_region if stack.deployment is not None else None
    if view.region == stack.region or (dr_region is not None and view.region != dr_region):
        return f"destination {name} is in {view.region}, not the deployment's DR region"
    if (rule_.get("DeleteMarkerReplication") or {}).get("Status") == "Enabled":
        return f"rule {rule_.get('Id')} replicates delete markers: a delete at the source would hide the copy"
    problem = _lock_problem(target, view)
    return f"destination {name}: {problem}" if problem else None


@rule(
    "ACC3-AuditBucketReplicatedToLock",
    "ACC-3",
    ("AWS::S3::Bucket",),
    "ACC-3: audit records survive the loss of a region: the bucket a trail delivers to replicates into an Object "
    "Lock bucket (same lock rules) in the deployment's DR region, without replicating delete markers; this trail "
    "bucket's records live in one region or in a copy that can be deleted.",
    "Seeds 001/003: audit records kept; seeds 000/002: stored in geographically isolated locations.",
)
def audit_bucket_replicated_to_lock(resource: Resource, stack: StackView) -> Result:
    if not _is_trail_bucket(resource, stack):
        return na("no trail delivers to this bucket")
    rules = [r for r in as_list(resource.prop("ReplicationConfiguration", "Rules")) if isinstance(r, Mapping)]
    if not rules:
        return fail("no ReplicationConfiguration")
    problems = []
    for replication_rule in rules:
        problem = _copy_problem(replication_rule, stack)
        if problem is None:
            destination = flatten(replication_rule["Destination"]["Bucket"])
            return ok(f"replicated into the locked bucket {destination} of the DR region")
        problems.append(problem)
    return fail("; ".join(problems))


RULES = [
    trail_configuration,
    trail_kms,
    trail_present,
    customer_data_events,
    audit_bucket_object_lock,
    audit_bucket_replicated_to_lock,
]

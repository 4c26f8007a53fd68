"""S3 rules: KMS encryption, TLS-only policies, versioning, access logs, log lifecycle, tenant prefixes
(ENC-1, ENC-3, BAK-6, ACC-3, BAK-7, HOST-5)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from policies.rules.cfn import as_list, flatten, is_customer_key, ref_id, refs_in
from policies.rules.iam_match import statements
from policies.rules.model import Resource, Result, StackView, fail, na, ok, rule

BUCKET = ("AWS::S3::Bucket",)
# What S3 itself needs to replicate a bucket (DR-1): the whole bucket, never a tenant's view of it.
REPLICATION_ACTIONS = frozenset(
    {
        "s3:getobjectversionforreplication",
        "s3:getobjectversionacl",
        "s3:getobjectversiontagging",
        "s3:replicateobject",
        "s3:replicatedelete",
        "s3:replicatetags",
    }
)
GLACIER_CLASSES = ("GLACIER", "DEEP_ARCHIVE", "GLACIER_IR")


def _policy_of(bucket: Resource, stack: StackView) -> list[Any]:
    found: list[Any] = []
    for policy in stack.of_type("AWS::S3::BucketPolicy"):
        if ref_id(policy.prop("Bucket")) == bucket.logical_id:
            found.extend(statements(policy.prop("PolicyDocument")))
    return found


# An account's root principal as CDK renders it: `arn:aws:iam::<account>:root` with the flag
# @aws-cdk/core:enablePartitionLiterals (cdk.json), an `arn:${AWS::Partition}:...` Fn::Join without it.
_ACCOUNT_ROOT = re.compile(r"^arn:(aws[a-z-]*|\{AWS::Partition\}):iam::\d{12}:root$")


def _account_root_principal(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    aws = principal.get("AWS") if isinstance(principal, Mapping) else None
    return any(_ACCOUNT_ROOT.match(flatten(value)) for value in as_list(aws))


def _sse_s3_only_destination(bucket: Resource, stack: StackView) -> bool:
    """Receives S3 server access logs or ALB access logs: AWS delivers those only to SSE-S3 buckets."""
    for _, other in stack.in_region("AWS::S3::Bucket"):
        if ref_id(other.prop("LoggingConfiguration", "DestinationBucketName")) == bucket.logical_id:
            return True
    for statement in _policy_of(bucket, stack):
        principal = json.dumps(statement.get("Principal", ""))
        if "logging.s3.amazonaws.com" in principal or "logdelivery.elasticloadbalancing.amazonaws.com" in principal:
            return True
        if _account_root_principal(statement) and "/AWSLogs/" in flatten(statement.get("Resource", "")):
            return True  # the regional Elastic Load Balancing account delivering ALB access logs
    return False


def _is_log_destination(bucket: Resource, stack: StackView) -> bool:
    """Receives S3 server access logs, ALB access logs or CloudTrail (it cannot log into itself)."""
    if _sse_s3_only_destination(bucket, stack):
        return True
    return any(
        ref_id(trail.prop("S3BucketName")) == bucket.logical_id
        for _, trail in stack.in_region("AWS::CloudTrail::Trail")
    )


def _is_log_bucket(bucket: Resource, stack: StackView) -> bool:
    return bucket.tags.get("data-classification") == "logs" or _is_log_destination(bucket, stack)


@rule(
    "ENC1-S3Kms",
    "ENC-1",
    BUCKET,
    "ENC-1: buckets are encrypted with a customer-managed KMS key; this bucket uses SSE-S3 or the AWS-managed key.",
    "Seeds 001/004: data at rest encrypted with KMS.",
)
def s3_kms(resource: Resource, stack: StackView) -> Result:
    rules = as_list(resource.prop("BucketEncryption", "ServerSideEncryptionConfiguration"))
    for item in rules:
        default = (item or {}).get("ServerSideEncryptionByDefault") or {}
        if default.get("SSEAlgorithm") in ("aws:kms", "aws:kms:dsse"):
            key = default.get("KMSMasterKeyID")
            if is_customer_key(key):
                return ok("SSE-KMS with a customer-managed key")
            return fail("SSE-KMS with the AWS-managed key")
        if default.get("SSEAlgorithm") == "AES256" and _sse_s3_only_destination(resource, stack):
            return na("receives S3 server access / ALB access logs, which AWS delivers only to SSE-S3 buckets")
        if default.get("SSEAlgorithm"):
            return fail(f"SSEAlgorithm={default.get('SSEAlgorithm')} (not a customer-managed KMS key)")
    return fail("no default encryption configured")


@rule(
    "ENC3-S3DenyNonTls",
    "ENC-3",
    BUCKET,
    "ENC-3: buckets refuse non-TLS requests; this bucket has no policy denying aws:SecureTransport=false.",
    "Seeds 001/004: encrypted connections.",
)
def s3_deny_non_tls(resource: Resource, stack: StackView) -> Result:
    for statement in _policy_of(resource, stack):
        condition = flatten(statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport", ""))
        if statement.get("Effect") == "Deny" and condition == "false":
            return ok("denies non-TLS requests")
    return fail("no Deny on aws:SecureTransport=false")


@rule(
    "BAK6-Versioning",
    "BAK-6",
    BUCKET,
    "BAK-6: every data bucket is versioned; this bucket has versioning off.",
    "Seed 002: S3 versioning protects against overwrite and deletion.",
)
def versioning(resource: Resource, stack: StackView) -> Result:
    status = resource.prop("VersioningConfiguration", "Status")
    return ok("versioning Enabled") if status == "Enabled" else fail(f"VersioningConfiguration.Status={status!r}")


@rule(
    "BAK6-NoncurrentRetention",
    "BAK-6",
    BUCKET,
    "BAK-6: noncurrent versions expire only after the retention window; this bucket expires them sooner than "
    "config's noncurrent_version_days.",
    "Seed 002: versioning is only a backup while old versions are kept.",
)
def noncurrent_retention(resource: Resource, stack: StackView) -> Result:
    minimum = stack.retention_days("noncurrent_version_days")
    days = [
        r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays", r.get("NoncurrentVersionExpirationInDays"))
        for r in as_list(resource.prop("LifecycleConfiguration", "Rules"))
        if isinstance(r, dict) and r.get("Status", "Enabled") == "Enabled"
    ]
    days = [int(d) for d in days if d is not None]
    if not days:
        return ok("noncurrent versions never expire")
    return (
        ok(f"noncurrent versions kept {min(days)} days")
        if min(days) >= minimum
        else fail(f"noncurrent versions expire after {min(days)} days < {minimum}")
    )


@rule(
    "ACC3-S3AccessLogs",
    "ACC-3",
    BUCKET,
    "ACC-3: every access to stored data is audited; this bucket has no server access logging.",
    "Seeds 001/003: every access audited.",
)
def s3_access_logs(resource: Resource, stack: StackView) -> Result:
    if resource.prop("LoggingConfiguration"):
        return ok("server access logging on")
    if _is_log_destination(resource, stack):
        return na("this bucket receives access logs / audit logs itself; logging it into itself would loop")
    return fail("no LoggingConfiguration")


SMALL_OBJECT_BYTES = 128 * 1024


def _small_objects_transition(bucket: Resource, item: Mapping[str, Any]) -> bool:
    """S3's default minimum transition size is 128 KB (`all_storage_classes_128K`) unless the bucket
    says `varies_by_storage_class` (Glacier classes take any size) or the rule filters on size."""
    default = bucket.prop("LifecycleConfiguration", "TransitionDefaultMinimumObjectSize")
    if default == "varies_by_storage_class":
        return True
    size = item.get("ObjectSizeGreaterThan")
    if size is None and isinstance(item.get("Filter"), Mapping):
        size = item["Filter"].get("ObjectSizeGreaterThan")
    return size is not None and int(size) < SMALL_OBJECT_BYTES


@rule(
    "BAK7-LogBucketLifecycle",
    "BAK-7",
    BUCKET,
    "BAK-7: log archives move to a Glacier storage class after 30 days and then expire per policy; this log bucket "
    "has no such lifecycle.",
    "Seed 004: logs archived daily to S3, kept 30 days, then lifecycle rules.",
)
def log_bucket_lifecycle(resource: Resource, stack: StackView) -> Result:
    if not _is_log_bucket(resource, stack):
        return na("not a log bucket")
    transition_min = stack.retention_days("log_archive_transition_days")
    expiry_min = stack.retention_days("log_archive_expiry_days")
    for item in as_list(resource.prop("LifecycleConfiguration", "Rules")):
        if not isinstance(item, dict) or item.get("Status") != "Enabled":
            continue
        transitions = as_list(item.get("Transitions")) + as_list(item.get("Transition"))
        glacier = [t for t in transitions if isinstance(t, dict) and t.get("StorageClass") in GLACIER_CLASSES]
        expiry = item.get("ExpirationInDays")
        if glacier and expiry is not None:
            if not _small_objects_transition(resource, item):
                return fail(
                    "objects under 128 KB never transition: TransitionDefaultMinimumObjectSize is not "
                    "varies_by_storage_class and the rule has no ObjectSizeGreaterThan filter below 128 KB"
                )
            after = min(int(t.get("TransitionInDays", 0)) for t in glacier)
            if after < transition_min:
                return fail(f"moves to Glacier after {after} days, before the {transition_min}-day hot window ends")
            if int(expiry) < expiry_min:
                return fail(f"expires after {expiry} days < {expiry_min}")
            return ok(f"Glacier after {after} d, expiry after {expiry} d")
    return fail("no enabled lifecycle rule with a Glacier transition and an expiry")


@rule(
    "HOST5-TenantScopedAccess",
    "HOST-5",
    ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role"),
    "HOST-5: access to customer objects is tenant-scoped (tenants/<tenant-id>/ prefix or tenant-id tag "
    "condition); this policy grants object access to a customer bucket without either.",
    "Seeds 000/004: data partitioned per customer licence.",
)
def tenant_scoped_access(resource: Resource, stack: StackView) -> Result:
    customer = {
        b.logical_id for _, b in stack.in_region("AWS::S3::Bucket") if b.tags.get("data-classification") == "customer"
    }
    documents = [resource.prop("PolicyDocument")] + [
        p.get("PolicyDocument") for p in as_list(resource.prop("Policies")) if isinstance(p, dict)
    ]
    checked = 0
    for statement in (s for d in documents for s in statements(d)):
        if statement.get("Effect") != "Allow" or not refs_in(statement.get("Resource")) & customer:
            continue
        actions = [str(a) for a in as_list(statement.get("Action"))]
        if all(a.lower() in REPLICATION_ACTIONS for a in actions):
            continue  # S3 replication (DR-1) copies every tenant's objects, as S3 itself
        if not any((a.lower().startswith("s3:") and "object" in a.lower()) or a in ("*", "s3:*") for a in actions):
            continue
        checked += 1
        text = flatten(statement.get("Resource")) + flatten(statement.get("Condition", ""))
        if "tenants/" not in text and "tenant-id" not in text:
            return fail("object access to a customer bucket without a tenants/ prefix or tenant-id condition")
    return ok(f"{checked} tenant-scoped grant(s)") if checked else na("grants no object access to customer buckets")


RULES = [
    s3_kms,
    s3_deny_non_tls,
    versioning,
    noncurrent_retention,
    s3_access_logs,
    log_bucket_lifecycle,
    tenant_scoped_access,
]

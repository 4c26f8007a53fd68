"""Helpers the operational runbooks share (DATA-1, DATA-2, DATA-3, OPS-4, OPS-5, OPS-6, ENC-1, BAK-9).

Everything here is read-only or a thin wrapper; the audit log, the step runner, the
exit codes and the CLI conventions stay in `runbooks/toolkit.py`.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from config.model import Deployment
from config.topology import FailoverTopology
from runbooks.toolkit import AuditLog, RefusedError, RunResult, StepRunner

# HOST-5: objects of tenant T live under `tenants/<T>/` (patterns.tagging.TENANT_PREFIX_TEMPLATE;
# repeated here so that runbooks never import CDK; a test keeps the two equal).
TENANT_PREFIX_TEMPLATE = "tenants/{tenant_id}/"
TENANT_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
DELETE_BATCH = 1000


def tenant_id(value: str) -> str:
    """argparse type: a tenant id as the application writes it into the key prefix."""
    if not TENANT_ID_PATTERN.match(value):
        raise argparse.ArgumentTypeError(
            f"tenant id {value!r} is not allowed: 2-63 characters, lowercase letters, digits and '-'"
        )
    return value


def tenant_prefix(tenant: str) -> str:
    return TENANT_PREFIX_TEMPLATE.format(tenant_id=tenant)


def client_region(client: Any) -> str:
    return str(client.meta.region_name)


def require_region(client: Any, expected: str, what: str) -> None:
    """Refuse a client of the wrong region: the procedure would act on the wrong copy."""
    actual = client_region(client)
    if actual != expected:
        raise RefusedError(f"{what} client is in region {actual}, expected {expected}")


def export_bucket(topology: FailoverTopology) -> str:
    """The DATA-2 export bucket (stacks/operations.py)."""
    return topology.export_bucket()


def evidence_bucket(topology: FailoverTopology) -> str:
    """The OPS-6 evidence bucket (stacks/operations.py)."""
    return topology.evidence_bucket()


def bucket_exists(s3: Any, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception as error:  # 404 / 403: either way the procedure cannot use it
        if "404" in str(error) or "Not Found" in str(error) or "NoSuchBucket" in str(error):
            return False
        raise
    return True


def secure_bucket_problems(s3: Any, bucket: str) -> list[str]:
    """What keeps `bucket` from being an encrypted (SSE-KMS), TLS-only, versioned bucket (ENC-1, ENC-3)."""
    if not bucket_exists(s3, bucket):
        return [f"bucket {bucket} does not exist"]
    problems = []
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    except Exception:
        rules = []
    algorithms = {r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules}
    if not algorithms & {"aws:kms", "aws:kms:dsse"}:
        problems.append(f"bucket {bucket} has no SSE-KMS default encryption")
    try:
        policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except Exception:
        policy = ""
    if "aws:SecureTransport" not in policy:
        problems.append(f"bucket {bucket} has no policy denying requests without TLS")
    if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
        problems.append(f"bucket {bucket} is not versioned")
    return problems


def kms_key_of(s3: Any, bucket: str) -> str | None:
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    for rule in rules:
        key = rule["ApplyServerSideEncryptionByDefault"].get("KMSMasterKeyID")
        if key:
            return str(key)
    return None


def iter_versions(s3: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    """Every version and delete marker under `prefix`: {Key, VersionId, DeleteMarker}."""
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for version in page.get("Versions", []):
            yield {"Key": version["Key"], "VersionId": version["VersionId"], "DeleteMarker": False}
        for marker in page.get("DeleteMarkers", []):
            yield {"Key": marker["Key"], "VersionId": marker["VersionId"], "DeleteMarker": True}


def delete_versions(s3: Any, bucket: str, versions: list[dict[str, Any]]) -> int:
    """Delete the given versions permanently (by version id); returns how many were deleted."""
    deleted = 0
    for start in range(0, len(versions), DELETE_BATCH):
        batch = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions[start : start + DELETE_BATCH]]
        response = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        errors = response.get("Errors", [])
        if errors:
            raise RuntimeError(f"{len(errors)} deletions failed in {bucket}, first: {errors[0]}")
        deleted += len(batch)
    return deleted


def runner(
    audit: AuditLog, *, run_id: str, clause: str, execute: bool, out: TextIO | None, procedure: str
) -> StepRunner:
    return StepRunner(audit, run_id=run_id, clause=clause, execute=execute, out=out, final_step=procedure)


def audit_log(args: argparse.Namespace, topology: FailoverTopology, procedure: str) -> AuditLog:
    return AuditLog(args.audit_log or Path(topology.audit_log_name(procedure)))


def finish(procedure: str, result: RunResult) -> int:
    print(f"{procedure} {result.run_id}: {result.outcome}")
    return result.exit_code


def deployment_of(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Deployment:
    """The deployment named by --deployment, or a usage error (exit 2) listing the allowed names."""
    from config import load_config

    try:
        config = load_config(args.config)
    except Exception as error:
        parser.error(f"cannot load {args.config}: {error}")
    try:
        return config.get(args.deployment)
    except KeyError as error:
        parser.error(str(error.args[0]))

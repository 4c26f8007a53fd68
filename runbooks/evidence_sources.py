"""Where the OPS-6 / ACC-3 evidence comes from: CloudTrail, AWS Backup, SSM Patch Manager, the compliance report.

AWS Backup job history and SSM patch states sit behind the thin `JobHistory` protocol
(moto 5.2 implements neither `list_backup_jobs`/`list_copy_jobs`/`list_restore_jobs`
nor `describe_instance_patch_states`); `AwsJobHistory` is the real implementation.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import ClientError


class JobHistory(Protocol):
    def jobs(self, kind: str, since: datetime) -> list[dict[str, Any]]:
        """kind: backup | copy | restore. Each job: {id, state, resource, created, message}."""
        ...

    def patch_states(self) -> list[dict[str, Any]]:
        """Per managed instance: {instance, missing, failed, installed, operation_end}."""
        ...


_CALLS = {
    "backup": ("list_backup_jobs", "BackupJobs", "ByCreatedAfter", "BackupJobId"),
    "copy": ("list_copy_jobs", "CopyJobs", "ByCreatedAfter", "CopyJobId"),
    "restore": ("list_restore_jobs", "RestoreJobs", "ByCreatedAfter", "RestoreJobId"),
}


class AwsJobHistory:
    def __init__(self, backup: Any, ssm: Any) -> None:
        self.backup = backup
        self.ssm = ssm

    def jobs(self, kind: str, since: datetime) -> list[dict[str, Any]]:
        call, field, after, id_field = _CALLS[kind]
        found = []
        for page in self.backup.get_paginator(call).paginate(**{after: since}):
            for job in page.get(field, []):
                found.append(
                    {
                        "id": job.get(id_field),
                        "state": job.get("State", job.get("Status")),
                        "resource": job.get("ResourceArn", job.get("CreatedResourceArn", "")),
                        "created": str(job.get("CreationDate", "")),
                        "message": job.get("StatusMessage", ""),
                    }
                )
        return found

    def patch_states(self) -> list[dict[str, Any]]:
        ids = [
            i["InstanceId"]
            for page in self.ssm.get_paginator("describe_instance_information").paginate()
            for i in page["InstanceInformationList"]
        ]
        found = []
        for start in range(0, len(ids), 50):
            states = self.ssm.describe_instance_patch_states(InstanceIds=ids[start : start + 50])["InstancePatchStates"]
            found += [
                {
                    "instance": s["InstanceId"],
                    "missing": s.get("MissingCount", 0),
                    "failed": s.get("FailedCount", 0),
                    "installed": s.get("InstalledCount", 0),
                    "operation_end": str(s.get("OperationEndTime", "")),
                }
                for s in states
            ]
        return found


def trails(cloudtrail: Any) -> list[dict[str, Any]]:
    found = []
    for trail in cloudtrail.describe_trails(includeShadowTrails=False)["trailList"]:
        status = cloudtrail.get_trail_status(Name=trail["TrailARN"])
        found.append(
            {
                "name": trail["Name"],
                "logging": bool(status.get("IsLogging")),
                "log_file_validation": bool(trail.get("LogFileValidationEnabled")),
                "multi_region": bool(trail.get("IsMultiRegionTrail")),
                "kms_key": trail.get("KmsKeyId", ""),
                "bucket": trail.get("S3BucketName", ""),
                "latest_delivery": str(status.get("LatestDeliveryTime", "")),
            }
        )
    return found


def object_lock(s3: Any, bucket: str) -> dict[str, Any]:
    """ACC-3: the default S3 Object Lock retention of an audit bucket (patterns/audit_lock.py); `enabled` is
    False when the bucket has none (S3 answers ObjectLockConfigurationNotFoundError) or cannot be read."""
    try:
        config = s3.get_object_lock_configuration(Bucket=bucket).get("ObjectLockConfiguration", {})
    except ClientError as error:
        return {"bucket": bucket, "enabled": False, "mode": "", "days": 0, "error": error.response["Error"]["Code"]}
    retention = config.get("Rule", {}).get("DefaultRetention", {})
    days = int(retention.get("Days") or 365 * int(retention.get("Years") or 0))
    enabled = config.get("ObjectLockEnabled") == "Enabled" and bool(retention.get("Mode"))
    return {"bucket": bucket, "enabled": enabled, "mode": retention.get("Mode", ""), "days": days}


def compliance_report(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    report = json.loads(path.read_text())
    statuses = Counter(clause["status"] for clause in report.get("clauses", []))
    return {"path": str(path), "summary": report.get("summary", {}), "clause_statuses": dict(sorted(statuses.items()))}


def findings(bundle: dict[str, Any]) -> list[str]:
    """What an auditor must read first: every control that did not hold in the period."""
    found = []
    if not bundle["trails"]:
        found.append("no CloudTrail trail (ACC-3)")
    for trail in bundle["trails"]:
        if not trail["logging"]:
            found.append(f"trail {trail['name']} is not logging (ACC-3)")
        if not trail["log_file_validation"]:
            found.append(f"trail {trail['name']} has no log file validation (ACC-3)")
        if not trail["kms_key"]:
            found.append(f"trail {trail['name']} is not KMS-encrypted (ACC-3)")
    for lock in bundle.get("object_locks", []):
        error = lock.get("error", "ObjectLockConfigurationNotFoundError")
        if not lock["enabled"] and error != "ObjectLockConfigurationNotFoundError":
            found.append(f"could not read the S3 Object Lock of audit bucket {lock['bucket']}: {error} (ACC-3)")
        elif not lock["enabled"]:
            found.append(f"audit bucket {lock['bucket']} has no S3 Object Lock default retention (ACC-3)")
        elif bundle.get("production") and lock["mode"] != "COMPLIANCE":
            found.append(f"audit bucket {lock['bucket']} is locked in {lock['mode']} mode, not COMPLIANCE (ACC-3)")
    for kind in ("backup", "copy", "restore"):
        failed = [j for j in bundle["jobs"][kind] if j["state"] in ("FAILED", "ABORTED", "EXPIRED")]
        if failed:
            found.append(f"{len(failed)} {kind} job(s) failed, first: {failed[0]['id']} {failed[0]['message']}")
    if not bundle["jobs"]["restore"]:
        found.append("no restore test in the period (BAK-9)")
    for state in bundle["patches"]:
        if state["missing"] or state["failed"]:
            found.append(
                f"instance {state['instance']}: {state['missing']} missing, {state['failed']} failed patches (OPS-1)"
            )
    if bundle["compliance_report"] is None:
        found.append("no compliance report found (run cdk synth; policies/report.py)")
    return found

"""OperationsStack: the buckets the operational runbooks write into (DATA-2, OPS-6, ACC-3), primary region.

- `<deployment>-primary-exports-<account>`: tenant exports (`runbooks/data_export.py`,
  DATA-2). Customer key (it holds customer data), TLS-only, versioned, access-logged;
  an export expires `EXPORT_DAYS` after it is written (the download link lives at most
  7 days), its noncurrent version after the retention window (BAK-6).
- `<deployment>-primary-evidence-<account>`: compliance evidence bundles
  (`runbooks/compliance_evidence.py`, OPS-6, ACC-3). Logs key, TLS-only, versioned,
  archived to Glacier and expired like every log bucket (BAK-7).

The names are deterministic (`runbooks/ops.py` derives them from config alone).
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from config import Deployment
from patterns.keys import DataClassKeyRing
from patterns.secure_bucket import AccessLogBucket, AccessLogBucketProps, LogArchive, SecureBucket, SecureBucketProps
from policies.acknowledgments import acknowledge
from policies.rules.model import PACK_NAME
from stacks.base import PlatformStack

EXPORT_DAYS = 30


class OperationsStack(PlatformStack):
    def __init__(
        self, scope: Construct, id: str, *, deployment: Deployment, role: str, key_ring: DataClassKeyRing
    ) -> None:
        super().__init__(
            scope,
            id,
            deployment=deployment,
            role=role,
            summary="encrypted, TLS-only export and compliance-evidence buckets (DATA-2, OPS-6)",
        )
        retention = deployment.retention
        self.access_log_bucket = AccessLogBucket(
            self,
            "AccessLogs",
            props=AccessLogBucketProps.from_retention(
                retention, f"{self.name_prefix}-operations-access-logs-{self.account}"
            ),
        ).bucket
        self.export_bucket = SecureBucket(
            self,
            "Exports",
            props=SecureBucketProps(
                encryption_key=key_ring.customer,
                access_log_bucket=self.access_log_bucket,
                access_log_prefix="exports/",
                noncurrent_version_days=retention.noncurrent_version_days,
                data_class="customer",
                bucket_name=f"{self.name_prefix}-exports-{self.account}",
                no_replication_reason=(
                    "Tenant exports are short-lived copies of data that is itself replicated (the content "
                    "bucket) or backed up (the database); a lost export is produced again by the runbook."
                ),
            ),
        ).bucket
        acknowledge(
            self.export_bucket.node.default_child,  # type: ignore[arg-type]
            [f"{PACK_NAME}::{PACK_NAME}-DR1-BucketReplicationRtc"],
            "DR-1 replicates customer files into the DR content bucket; exports are derived, short-lived copies of "
            "those files and of the database. Compensating controls: after a failover the export runbook produces "
            "the export again from the DR replica and the promoted database; versioned, KMS-encrypted, TLS-only.",
        )
        self.export_bucket.add_lifecycle_rule(id="ExportsExpire", expiration=cdk.Duration.days(EXPORT_DAYS))
        self.evidence_bucket = SecureBucket(
            self,
            "Evidence",
            props=SecureBucketProps(
                encryption_key=key_ring.logs,
                access_log_bucket=self.access_log_bucket,
                access_log_prefix="evidence/",
                noncurrent_version_days=retention.noncurrent_version_days,
                data_class="logs",
                archive=LogArchive.from_retention(retention),
                bucket_name=f"{self.name_prefix}-evidence-{self.account}",
                no_replication_reason=(
                    "Evidence bundles are regenerated from their sources (multi-region CloudTrail, both backup "
                    "vaults, SSM); each bundle's JSON also stays with the change record."
                ),
            ),
        ).bucket
        for name, bucket in (("ExportBucketName", self.export_bucket), ("EvidenceBucketName", self.evidence_bucket)):
            cdk.CfnOutput(self, name, value=bucket.bucket_name)

"""OperationsStack: the buckets the operational runbooks write into (DATA-2, OPS-6, ACC-3), primary region.

- `<deployment>-primary-exports-<account>`: tenant exports (`runbooks/data_export.py`,
  DATA-2). Customer key (it holds customer data), TLS-only, versioned, access-logged;
  an export expires `EXPORT_DAYS` after it is written (the download link lives at most
  7 days), its noncurrent version after the retention window (BAK-6).
- `<deployment>-primary-evidence-<account>`: compliance evidence bundles
  (`runbooks/compliance_evidence.py`, OPS-6, ACC-3). Logs key, TLS-only, versioned,
  archived to Glacier and expired like every log bucket (BAK-7), and immutable like the
  trail's bucket (patterns/audit_lock.py): S3 Object Lock for the audit retention, record
  deletion and settings changes denied, replicated into the DR region's locked audit
  archive (stacks/audit_archive.py).

The names are deterministic (`runbooks/ops.py` derives them from config alone).
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from config import Deployment
from config.topology import FailoverTopology
from patterns.audit_lock import ObjectLock
from patterns.keys import DataClassKeyRing
from patterns.secure_bucket import LoggedBuckets
from policies.acknowledgments import acknowledge
from policies.rules.model import PACK_NAME
from stacks.audit import audit_archive_target
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
            summary="encrypted, TLS-only export and locked compliance-evidence buckets (DATA-2, OPS-6, ACC-3)",
        )
        retention = deployment.retention
        buckets = LoggedBuckets(
            self,
            "AccessLogs",
            retention=retention,
            bucket_name=f"{self.name_prefix}-operations-access-logs-{self.account}",
        )
        self.access_log_bucket = buckets.access_logs
        self.export_bucket = buckets.secure(
            "Exports",
            key=key_ring.customer,
            data_class="customer",
            bucket_name=self.names.export_bucket(),
            no_replication_reason=(
                "Tenant exports are short-lived copies of data that is itself replicated (the content "
                "bucket) or backed up (the database); a lost export is produced again by the runbook."
            ),
        )
        acknowledge(
            self.export_bucket.node.default_child,  # type: ignore[arg-type]
            [f"{PACK_NAME}::{PACK_NAME}-DR1-BucketReplicationRtc"],
            "DR-1 replicates customer files into the DR content bucket; exports are derived, short-lived copies of "
            "those files and of the database. Compensating controls: after a failover the export runbook produces "
            "the export again from the DR replica and the promoted database; versioned, KMS-encrypted, TLS-only.",
        )
        self.export_bucket.add_lifecycle_rule(id="ExportsExpire", expiration=cdk.Duration.days(EXPORT_DAYS))
        self.evidence_bucket = buckets.secure(
            "Evidence",
            key=key_ring.logs,
            data_class="logs",
            archive=True,
            bucket_name=FailoverTopology.of(deployment).evidence_bucket(),
            object_lock=ObjectLock.from_retention(retention),
            replication=audit_archive_target(FailoverTopology.of(deployment), "evidence"),
        )
        for name, bucket in (("ExportBucketName", self.export_bucket), ("EvidenceBucketName", self.evidence_bucket)):
            cdk.CfnOutput(self, name, value=bucket.bucket_name)

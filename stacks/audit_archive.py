"""AuditArchiveStack: the DR region's locked copy of the audit records (ACC-3, HOST-2).

The primary's trail bucket and compliance-evidence bucket replicate into this bucket
(`<deployment>-dr-audit-<account>`): the DR region of the same jurisdiction, so a lost or
compromised primary region does not take the audit records with it. Like its sources it is
an immutable audit bucket (patterns/audit_lock.py): S3 Object Lock with the same mode and
retention (S3 replicates locked objects only into a bucket with Object Lock), deletes of
records denied to every principal, settings changes to every principal but CloudFormation;
DR logs key, versioned, access-logged, TLS-only, archived and expired like its sources (BAK-7).

Part of the DR foundation of every deployment, with or without a warm standby: the DR
region always exists (the backup copies of BAK-5 live there), and audit records are not
customer data, so a deployment without a standby (`standby.enabled = false`,
stacks/data.py's NO_STANDBY_REASON) copies its audit records all the same.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from config import Deployment
from config.topology import DR, FailoverTopology
from patterns.audit_lock import ObjectLock
from patterns.keys import DataClassKeyRing
from patterns.secure_bucket import LoggedBuckets
from stacks.base import PlatformStack


class AuditArchiveStack(PlatformStack):
    def __init__(self, scope: Construct, id: str, *, deployment: Deployment, key_ring: DataClassKeyRing) -> None:
        super().__init__(
            scope,
            id,
            deployment=deployment,
            role=DR,
            summary="locked copy of the audit trail and compliance evidence in the DR region (ACC-3)",
        )
        topology = FailoverTopology.of(deployment)
        buckets = LoggedBuckets(
            self,
            "AccessLogs",
            retention=deployment.retention,
            bucket_name=f"{self.name_prefix}-audit-access-logs-{self.account}",
        )
        self.access_log_bucket = buckets.access_logs
        self.bucket = buckets.secure(
            "Archive",
            key=key_ring.logs,
            data_class="logs",
            archive=True,
            bucket_name=topology.audit_bucket(DR),
            object_lock=ObjectLock.from_retention(deployment.retention),
            no_replication_reason=(
                "This bucket is itself the DR region's locked copy of the primary's audit trail and "
                "compliance evidence (ACC-3); Object Lock keeps every record for the audit retention."
            ),
        )
        cdk.CfnOutput(self, "AuditArchiveBucketName", value=self.bucket.bucket_name)

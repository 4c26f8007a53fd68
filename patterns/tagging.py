"""Tag keys and values shared by patterns, the backup plans and the policy pack.

Tags are the contract between the resource that holds data and the controls that
protect it: AWS Backup selects resources by `backup-tier` (BAK-1..BAK-5), auditors
and ABAC policies read `data-classification` (ENC-2) and `tenant-id` (HOST-5).
"""

from __future__ import annotations

from typing import Final

import aws_cdk as cdk
from constructs import IConstruct

BACKUP_TIER: Final = "backup-tier"
# Databases: hourly, 12-hourly, daily (>= 30 d) and monthly archive.
BACKUP_TIER_DATABASE: Final = "database"
# EC2 instances and EBS volumes: daily at 03:00 kept >= 90 d, and monthly archive.
BACKUP_TIER_COMPUTE: Final = "compute"
# A standby read replica (DR-1): no plan selects it while it replicates (its source is backed
# up); the failover runbook retags the promoted writer `database`.
BACKUP_TIER_STANDBY: Final = "standby"
BACKUP_TIERS: Final = (BACKUP_TIER_DATABASE, BACKUP_TIER_COMPUTE, BACKUP_TIER_STANDBY)

# BAK-2: a tier that holds no data and is rebuilt, not restored: the web tier's instances and
# root volumes come from the launch template (AMI + user data) and are replaced by the Auto
# Scaling group. No backup plan selects it; the policy pack checks it really keeps nothing
# (every volume deleted on termination). Any EC2/EBS that holds data is `compute` instead.
BACKUP_TIER_STATELESS: Final = "stateless"

DATA_CLASSIFICATION: Final = "data-classification"
# Same values as config.policy.DATA_CLASSES: customer, system, logs, backup, codebase.

TENANT_ID: Final = "tenant-id"
# HOST-5: objects of tenant T live under s3://<bucket>/tenants/<T>/ and carry tenant-id=T.
TENANT_PREFIX_TEMPLATE: Final = "tenants/{tenant_id}/"
# ABAC (HOST-5): people and sessions carry the principal tag tenant-id=T; their S3
# policies name `tenants/${aws:PrincipalTag/tenant-id}/*`, so one policy serves every
# tenant and a session without the tag reaches no tenant's objects.
TENANT_PREFIX_ABAC: Final = "tenants/${aws:PrincipalTag/" + TENANT_ID + "}/"
# Every tenant's objects; what the multi-tenant web tier may touch (never outside it).
TENANT_PREFIX_ALL: Final = "tenants/"

# OPS-1: SSM Patch Manager selects instances by this tag (the spelling without a
# space, which instance-metadata tags require); value `<deployment>-web`.
PATCH_GROUP: Final = "PatchGroup"


def tag_backup_tier(construct: IConstruct, tier: str) -> None:
    if tier not in BACKUP_TIERS:
        raise ValueError(f"backup tier {tier!r} unknown; allowed: {', '.join(BACKUP_TIERS)}")
    cdk.Tags.of(construct).add(BACKUP_TIER, tier)


def tag_stateless(construct: IConstruct) -> None:
    """Declare that `construct` holds no data and is rebuilt from code, never backed up (BAK-2)."""
    cdk.Tags.of(construct).add(BACKUP_TIER, BACKUP_TIER_STATELESS)


def tag_data_classification(construct: IConstruct, data_class: str) -> None:
    cdk.Tags.of(construct).add(DATA_CLASSIFICATION, data_class)

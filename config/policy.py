"""Hard limits that docs/POLICY.md (the specification) puts on configuration.

These numbers are the policy, not defaults: configuration may be stricter, never
looser. Each constant names the clause it comes from, and validation errors quote
that clause so the person editing the config knows which promise they are about
to break.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from config.regions import KNOWN_REGIONS, REGION_AVAILABILITY_ZONES

# Region facts (pinned availability zones) live in config/regions.py; re-exported here.
# HOST-2's allow-list of regions is configuration: `allowed_regions` of each
# [jurisdictions.<j>] table in config/deployments.toml, on `Deployment.allowed_regions`.

ENVIRONMENTS: Final[tuple[str, ...]] = ("production", "staging", "development")

# (config field, policy minimum in days, clause)
RETENTION_MINIMUMS: Final[Mapping[str, tuple[int, str]]] = MappingProxyType(
    {
        "hourly_backup_days": (1, "BAK-1"),
        "twice_daily_backup_days": (7, "BAK-1"),
        "ebs_snapshot_days": (90, "BAK-2"),
        "rds_automated_backup_days": (30, "BAK-3"),
        "rds_daily_backup_days": (30, "BAK-3"),
        "monthly_archive_days": (365, "BAK-4"),
        "log_retention_days": (30, "BAK-7"),
        "log_archive_transition_days": (30, "BAK-7"),
        "log_archive_expiry_days": (365, "BAK-7"),
        "noncurrent_version_days": (30, "BAK-6"),
    }
)


# ACC-3: S3 Object Lock modes of the audit buckets; production must use the first (COMPLIANCE).
AUDIT_LOCK_MODES: Final[tuple[str, ...]] = ("COMPLIANCE", "GOVERNANCE")
PRODUCTION_AUDIT_LOCK_MODE: Final = "COMPLIANCE"


def retention_minimum(field: str) -> int:
    """The policy minimum (days) of a `Retention` field, from RETENTION_MINIMUMS."""
    return RETENTION_MINIMUMS[field][0]


# HOST-1: the web tier runs at least this many instances.
WEB_MIN_INSTANCES: Final = 2

# The web tier's CPU target (target tracking): above this a scale-out starts too late for a spike.
WEB_CPU_TARGET_PERCENT_MAX: Final = 95

# RDS for PostgreSQL: the smallest allocated storage (GiB) of general-purpose SSD.
RDS_MIN_ALLOCATED_STORAGE_GIB: Final = 20

# One NAT gateway per availability zone at most (config/regions.py pins three per region);
# HOST-4: production has one in each, so an AZ failure leaves the others' egress.
NAT_GATEWAYS_MAX: Final = 3
PRODUCTION_NAT_GATEWAYS: Final = 3

# ElastiCache: at most five read replicas per shard; HOST-4: production has one to fail over to.
CACHE_REPLICAS_MAX: Final = 5
PRODUCTION_CACHE_REPLICAS_MIN: Final = 1

# HOST-4: the web tier survives an AZ failure, so it spans at least this many availability zones.
WEB_MIN_AVAILABILITY_ZONES: Final = 2

# ENC-4: user passwords are at least this long (with upper, lower, digit and symbol).
PASSWORD_MIN_LENGTH: Final = 8

# BAK-2 (and BAK-3's daily snapshot): taken daily at 03:00 in the deployment's time zone.
DAILY_SNAPSHOT_SCHEDULE: Final = "cron(0 3 * * ? *)"

# RDS caps automated backup retention at 35 days.
RDS_AUTOMATED_BACKUP_MAX_DAYS: Final = 35

# CloudWatch Logs accepts only these retention values (days).
LOG_RETENTION_ALLOWED_DAYS: Final[tuple[int, ...]] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

# AWS Backup: a recovery point in cold storage must stay there >= 90 days.
COLD_STORAGE_MIN_DAYS: Final = 90

WEEKDAYS: Final[tuple[str, ...]] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# OPS-5: the announced weekly maintenance window lasts at most this many hours.
MAINTENANCE_MAX_HOURS: Final = 6

# ENC-2: "codebase" protects release artifacts (the application, its configuration files, e-mail templates).
DATA_CLASSES: Final[tuple[str, ...]] = ("customer", "system", "logs", "backup", "codebase")

# OPS-7: a release is named by a semantic version and identified by its SHA-256 digest.
RELEASE_VERSION_PATTERN: Final = r"[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z][0-9A-Za-z.]*)?"
RELEASE_SHA256_PATTERN: Final = r"[0-9a-f]{64}"

# DR-1: the design recovery objectives of the warm standby.
DATABASE_RPO_MAX_SECONDS: Final = 60  # ReplicaLag alarm threshold may not exceed this
OBJECT_RPO_MAX_MINUTES: Final = 15  # S3 Replication Time Control's SLA
FAILOVER_AUTOMATION_MAX_MINUTES: Final = 15
STANDBY_MIN_WEB_CAPACITY: Final = 2  # HOST-1 holds in the DR region too
FAILOVER_MAX_LAG_SECONDS_LIMIT: Final = 3600  # the most replica lag a failover may be configured to accept

# stacks/base.py:vpc_cidr gives jurisdiction i the /16s 10.(16 + 32*i + 8*environment + dr).0.0:
# seven jurisdictions (0..6) fit below 10.255.0.0.
CIDR_INDEX_MAX: Final = 6

# Who sends the user pool's e-mail (config/model.py UserEmail): Cognito's own sender serves development only.
USER_EMAIL_SENDERS: Final = ("ses", "cognito")

# ACC-1 (least privilege, network): the web tier reaches the VPC's AWS endpoints and the data tier;
# a third-party API it calls is an allow-listed network of at most this many addresses (/16), never "anywhere".
EGRESS_MIN_PREFIX_LENGTH: Final = 16
EGRESS_REASON_MIN_LENGTH: Final = 10


__all__ = [
    "AUDIT_LOCK_MODES",
    "CACHE_REPLICAS_MAX",
    "CIDR_INDEX_MAX",
    "COLD_STORAGE_MIN_DAYS",
    "DAILY_SNAPSHOT_SCHEDULE",
    "DATABASE_RPO_MAX_SECONDS",
    "DATA_CLASSES",
    "EGRESS_MIN_PREFIX_LENGTH",
    "EGRESS_REASON_MIN_LENGTH",
    "ENVIRONMENTS",
    "FAILOVER_AUTOMATION_MAX_MINUTES",
    "FAILOVER_MAX_LAG_SECONDS_LIMIT",
    "KNOWN_REGIONS",
    "LOG_RETENTION_ALLOWED_DAYS",
    "MAINTENANCE_MAX_HOURS",
    "NAT_GATEWAYS_MAX",
    "OBJECT_RPO_MAX_MINUTES",
    "PASSWORD_MIN_LENGTH",
    "PRODUCTION_AUDIT_LOCK_MODE",
    "PRODUCTION_CACHE_REPLICAS_MIN",
    "PRODUCTION_NAT_GATEWAYS",
    "RDS_AUTOMATED_BACKUP_MAX_DAYS",
    "RDS_MIN_ALLOCATED_STORAGE_GIB",
    "REGION_AVAILABILITY_ZONES",
    "RELEASE_SHA256_PATTERN",
    "RELEASE_VERSION_PATTERN",
    "RETENTION_MINIMUMS",
    "STANDBY_MIN_WEB_CAPACITY",
    "USER_EMAIL_SENDERS",
    "WEB_CPU_TARGET_PERCENT_MAX",
    "WEB_MIN_AVAILABILITY_ZONES",
    "WEB_MIN_INSTANCES",
    "WEEKDAYS",
    "retention_minimum",
]

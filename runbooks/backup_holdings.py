"""Which backups still hold removed data, and until when (DATA-1).

AWS Backup recovery points are immutable (vault lock, ACC-4): a removal cannot reach
into them, they expire with their rule's retention. The platform backs up the
database tier only (`patterns/backup_plan.py`: content files are protected by
versioning and replication, which the removal itself clears). So data removed at
time T is still held by the last database recovery point of each rule taken before
T, in the primary vault and its copy in the DR vault, until T + that rule's
retention. `tests/runbooks/test_data_removal.py` keeps this table equal to
`patterns.backup_plan.tier_rules`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from config.model import Deployment
from config.names import DR, PRIMARY, DeploymentNames


@dataclass(frozen=True)
class Holding:
    backup: str
    location: str
    kept_days: int
    holds_until: str  # ISO date (UTC): the data is gone from this backup after this day

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def database_rules(deployment: Deployment) -> dict[str, int]:
    """AWS Backup rules of the database tier: name -> retention days."""
    retention = deployment.retention
    return {
        "Hourly": retention.hourly_backup_days,
        "TwiceDaily": retention.twice_daily_backup_days,
        "Daily": retention.rds_daily_backup_days,
        "Monthly": retention.monthly_archive_days,
    }


def holdings(deployment: Deployment, removed_at: datetime) -> list[Holding]:
    found = []
    for role in (PRIMARY, DR):
        names = DeploymentNames.of(deployment)
        vault, region = names.backup_vault_name(role), names.region(role)
        for rule, days in database_rules(deployment).items():
            until = (removed_at + timedelta(days=days)).date().isoformat()
            found.append(Holding(f"database {rule} recovery points", f"{vault} ({region})", days, until))
    automated = deployment.retention.rds_automated_backup_days
    found.append(
        Holding(
            "RDS automated backups (point-in-time recovery)",
            f"{deployment.name}-{PRIMARY}-postgres ({deployment.primary_region})",
            automated,
            (removed_at + timedelta(days=automated)).date().isoformat(),
        )
    )
    return found

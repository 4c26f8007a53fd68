"""What a failover touches (DR-1, DR-2): the deployment's names (config/names.py, the one naming
map) plus the figures the failover and failback automation decide by (capacities, replica lag,
backup retention, the maintenance window), and the failover switch's metric.

Derived from configuration alone, so the DR region can be failed over to with the primary region
gone. Pure Python (no CDK), so runbooks import it without the app.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from config.model import Deployment
from config.names import AUDIT_LOG_GROUP_PREFIX, DR, PRIMARY, DeploymentNames, RegionRole

# The failover switch (AWS's "standby takes over primary" pattern): a metric that the
# failover automation publishes in the DR region, an alarm on it in the DR region, and a
# Route 53 health check on that alarm guarding the PRIMARY failover record. Publishing
# 1 makes the alarm fire, the health check unhealthy and Route 53 answer with the
# SECONDARY (DR) record; publishing 0 switches back. The alarm treats missing data as
# "ignore", so the last published value holds until the next one.
SWITCH_NAMESPACE = "Platform/Failover"
SWITCH_METRIC = "FailoverRequested"
SWITCH_DIMENSION = "Deployment"

FAILOVER_RECORD_PRIMARY = "primary"  # SetIdentifier of the PRIMARY record
FAILOVER_RECORD_SECONDARY = "dr"  # SetIdentifier of the SECONDARY record


@dataclass(frozen=True)
class FailoverTopology(DeploymentNames):
    """The names of everything a failover touches, in both regions, and the figures it decides by."""

    domain_name: str
    standby_enabled: bool
    primary_web_min_capacity: int
    primary_web_max_capacity: int
    standby_web_min_capacity: int
    replica_lag_alarm_seconds: int
    failover_max_lag_seconds: int
    db_backup_retention_days: int
    db_multi_az: bool
    maintenance_day: str
    maintenance_start_utc: str
    maintenance_duration_hours: int

    @classmethod
    def of(cls, deployment: Deployment) -> FailoverTopology:
        return cls(
            **asdict(DeploymentNames.of(deployment)),
            domain_name=deployment.domain_name,
            standby_enabled=deployment.standby.enabled,
            primary_web_min_capacity=deployment.sizing.web_min_capacity,
            primary_web_max_capacity=deployment.sizing.web_max_capacity,
            standby_web_min_capacity=deployment.standby.web_min_capacity,
            replica_lag_alarm_seconds=deployment.standby.replica_lag_alarm_seconds,
            failover_max_lag_seconds=deployment.standby.failover_max_lag_seconds,
            db_backup_retention_days=deployment.retention.rds_automated_backup_days,
            db_multi_az=deployment.sizing.db_multi_az,
            maintenance_day=deployment.maintenance.day,
            maintenance_start_utc=deployment.maintenance.start_utc,
            maintenance_duration_hours=deployment.maintenance.duration_hours,
        )

    @property
    def switch_dimensions(self) -> dict[str, str]:
        return {SWITCH_DIMENSION: self.deployment}

    @property
    def record_name(self) -> str:
        return f"{self.domain_name}."


__all__ = [
    "AUDIT_LOG_GROUP_PREFIX",
    "DR",
    "FAILOVER_RECORD_PRIMARY",
    "FAILOVER_RECORD_SECONDARY",
    "PRIMARY",
    "SWITCH_DIMENSION",
    "SWITCH_METRIC",
    "SWITCH_NAMESPACE",
    "DeploymentNames",
    "FailoverTopology",
    "RegionRole",
]

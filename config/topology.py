"""What each region of a deployment holds, by name: the contract between the stacks,
the failover automation and the local emulator (DR-1, DR-2).

Every name here is derived from configuration alone, so the DR region can be
deployed, and failed over to, with the primary region gone: nothing is looked up
in the primary region at deploy time or during a failover. Pure Python (no CDK),
so runbooks import it without the app.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.model import Deployment

PRIMARY = "primary"
DR = "dr"

# The failover switch (AWS's "standby takes over primary" pattern): a metric that the
# failover automation publishes in the DR region, an alarm on it in the DR region, and a
# Route 53 health check on that alarm guarding the PRIMARY failover record. Publishing
# 1 makes the alarm fire, the health check unhealthy and Route 53 answer with the
# SECONDARY (DR) record; publishing 0 switches back. The alarm treats missing data as
# "ignore", so the last published value holds until the next one.
SWITCH_NAMESPACE = "Platform/Failover"
SWITCH_METRIC = "FailoverRequested"
SWITCH_DIMENSION = "Deployment"

AUDIT_LOG_GROUP_PREFIX = "/audit/"  # the trail's CloudWatch Logs group: /audit/<deployment>-audit

FAILOVER_RECORD_PRIMARY = "primary"  # SetIdentifier of the PRIMARY record
FAILOVER_RECORD_SECONDARY = "dr"  # SetIdentifier of the SECONDARY record


@dataclass(frozen=True)
class FailoverTopology:
    """The names and ARNs of everything a failover touches, in both regions."""

    deployment: str
    account: str
    primary_region: str
    dr_region: str
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
            deployment=deployment.name,
            account=deployment.account,
            primary_region=deployment.primary_region,
            dr_region=deployment.dr_region,
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

    def region(self, role: str) -> str:
        return self.primary_region if role == PRIMARY else self.dr_region

    def prefix(self, role: str) -> str:
        """`au-production-primary`: the physical-name prefix of one region."""
        return f"{self.deployment}-{role}"

    # --- database: the primary writer and its cross-region read replica
    def db_instance_id(self, role: str) -> str:
        return f"{self.prefix(role)}-postgres"

    def db_instance_arn(self, role: str) -> str:
        return f"arn:aws:rds:{self.region(role)}:{self.account}:db:{self.db_instance_id(role)}"

    # --- web tier
    def web_asg_name(self, role: str) -> str:
        return f"{self.prefix(role)}-web"

    # --- content buckets: primary replicates into DR (RTC)
    def content_bucket(self, role: str) -> str:
        return f"{self.prefix(role)}-content-{self.account}"

    # OPS-7: where a region's releases live and what it runs (one of each per region).
    def release_bucket(self, role: str) -> str:
        return f"{self.prefix(role)}-releases-{self.account}"

    def release_role_name(self, role: str) -> str:
        return f"{self.prefix(role)}-release"

    def release_parameter(self, role: str) -> str:
        """The SSM parameter recording the release a region runs (JSON: version, sha256, when)."""
        return f"/{self.prefix(role)}/release/current"

    def rotation_subnets_parameter(self) -> str:
        """SSM parameter (Network stack): the primary's private subnets, comma-separated, for the hosted rotation."""
        return f"/{self.prefix(PRIMARY)}/network/rotation-subnet-ids"

    def s3_prefix_list_parameter(self, role: str) -> str:
        """SSM parameter (written by tooling/region_facts.py before the deploy): the region's AWS-managed
        S3 prefix list id, the web tier's egress to the S3 gateway endpoint."""
        return f"/{self.prefix(role)}/network/s3-prefix-list-id"

    def rotation_key_parameter(self) -> str:
        """SSM parameter (Keys stack): the primary's `system` key ARN, for the hosted rotation."""
        return f"/{self.prefix(PRIMARY)}/keys/system-key-arn"

    def web_launch_template_name(self, role: str) -> str:
        return f"{self.prefix(role)}-web"

    def web_rollback_alarm_names(self, role: str) -> tuple[str, ...]:
        """The web tier's Sev1 and Sev2 alarms: a rollout that trips one rolls back (OPS-7)."""
        return tuple(f"{self.prefix(role)}-web-{name}" for name in ("NoHealthyHosts", "Elb5xx", "Target5xx"))

    def customer_key_alias(self) -> str:
        """The customer-data key's alias; the same name in both regions (ENC-2)."""
        return f"alias/{self.deployment}/customer"

    def customer_key_alias_arn(self, role: str) -> str:
        return f"arn:aws:kms:{self.region(role)}:{self.account}:{self.customer_key_alias()}"

    def replication_role_name(self) -> str:
        return f"{self.deployment}-content-replication"

    def reverse_replication_role_name(self) -> str:
        """The role S3 assumes to replicate the DR content bucket back to the primary during failback."""
        return f"{self.deployment}-dr-reverse-replication"

    # --- audit records (ACC-3): Object Lock buckets, the primary's copied into the DR region's archive
    def audit_bucket(self, role: str) -> str:
        """The trail's bucket (primary) or the locked archive its records replicate into (DR)."""
        return f"{self.prefix(role)}-audit-{self.account}"

    def evidence_bucket(self) -> str:
        """The OPS-6 compliance-evidence bucket (primary region; also copied into the DR audit archive)."""
        return f"{self.prefix(PRIMARY)}-evidence-{self.account}"

    def audit_bucket_arns(self) -> tuple[str, ...]:
        """The audit buckets of both regions and their objects, as IAM resources (ACC-3)."""
        buckets = (f"arn:aws:s3:::{self.deployment}-*-audit-{self.account}", f"arn:aws:s3:::{self.evidence_bucket()}")
        return (*buckets, *(f"{bucket}/*" for bucket in buckets))

    def audit_log_group_arn(self) -> str:
        """The trail's CloudWatch Logs copies (`/audit/<trail>`, patterns/audit_trail.py) and their streams."""
        return f"arn:aws:logs:*:{self.account}:log-group:{AUDIT_LOG_GROUP_PREFIX}*"

    def audit_replication_role_name(self, source: str) -> str:
        """The role S3 assumes to copy `source` (`audit` or `evidence`) into the DR audit archive."""
        return f"{self.deployment}-{source}-replication"

    def logs_key_alias(self) -> str:
        """The logs-and-audit key's alias; the same name in both regions (ENC-2)."""
        return f"alias/{self.deployment}/logs"

    # --- the failover switch (lives in the DR region)
    @property
    def switch_alarm_name(self) -> str:
        return f"{self.prefix(DR)}-failover-switch"

    @property
    def switch_dimensions(self) -> dict[str, str]:
        return {SWITCH_DIMENSION: self.deployment}

    @property
    def replica_lag_alarm_name(self) -> str:
        return f"{self.prefix(DR)}-postgres-replica-lag"

    def alb_health_check_name(self, role: str) -> str:
        """The Name tag of the Route 53 health check that probes one region's ALB by its own name."""
        return f"{self.prefix(role)}-alb"

    @property
    def record_name(self) -> str:
        return f"{self.domain_name}."

    def audit_log_name(self, procedure: str) -> str:
        return f"{self.deployment}-{procedure}.jsonl"

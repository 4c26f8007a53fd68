"""Every physical name of a deployment's two regions, derived from configuration alone: the one
naming map that the stacks, the runbooks, the policy rules and the tooling read.

A name another party must know (a bucket another region replicates into, the Postgres id the
failover promotes, a key alias the DR region resolves, a vault the primary copies into) is written
once, here. Nothing is looked up at deploy time or during a failover, so the DR region can be
deployed, and failed over to, with the primary region gone. Pure Python (no CDK), so runbooks import
it without the app. IAM names, global to the account, are the deployment's own
(`Deployment.break_glass_role_name`, the boundaries); `config/topology.py` adds what a failover needs
beyond names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from config.model import Deployment

AUDIT_LOG_GROUP_PREFIX = "/audit/"  # the trail's CloudWatch Logs group: /audit/<deployment>-audit


class RegionRole(StrEnum):
    """A deployment's two regions (DR-1): the primary serves, the DR region holds the standby. A `str`,
    so it formats and compares as `primary` / `dr` (stage ids, stack names, tags)."""

    PRIMARY = "primary"
    DR = "dr"


# The members, typed as the `str` that role parameters take across the code base; `RegionRole(role)`
# (in `region` / `prefix` below) refuses anything else.
PRIMARY: Final[str] = RegionRole.PRIMARY
DR: Final[str] = RegionRole.DR


@dataclass(frozen=True)
class DeploymentNames:
    """The names and ARNs of one deployment's resources, in both regions."""

    deployment: str
    account: str
    primary_region: str
    dr_region: str

    @classmethod
    def of(cls, deployment: Deployment) -> DeploymentNames:
        return cls(
            deployment=deployment.name,
            account=deployment.account,
            primary_region=deployment.primary_region,
            dr_region=deployment.dr_region,
        )

    def region(self, role: str) -> str:
        """The region of `role`: the one place a role becomes a region."""
        return self.primary_region if RegionRole(role) is RegionRole.PRIMARY else self.dr_region

    def prefix(self, role: str) -> str:
        """`au-production-primary`: one region's stage id, stack-name prefix and physical-name prefix."""
        return f"{self.deployment}-{RegionRole(role).value}"

    def stack_name(self, role: str, stack_id: str) -> str:
        """`au-production-primary-data`: the CloudFormation name of a stack of one region's stage."""
        return f"{self.prefix(role)}-{stack_id.lower()}"

    def backup_vault_name(self, role: str) -> str:
        """Deterministic vault names, so the primary's copy rules need no lookup (BAK-5)."""
        return f"{self.prefix(role)}-vault"

    def key_alias(self, data_class: str) -> str:
        """`alias/<deployment>/<class>`: a data class's key, the same alias in both regions (ENC-2)."""
        return f"alias/{self.deployment}/{data_class}"

    def export_bucket(self) -> str:
        """The tenant-export bucket (DATA-2, primary region; runbooks/data_export.py)."""
        return f"{self.prefix(PRIMARY)}-exports-{self.account}"

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
        return self.key_alias("customer")

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
        return self.key_alias("logs")

    # --- the failover switch (lives in the DR region)
    @property
    def switch_alarm_name(self) -> str:
        return f"{self.prefix(DR)}-failover-switch"

    @property
    def replica_lag_alarm_name(self) -> str:
        return f"{self.prefix(DR)}-postgres-replica-lag"

    def alb_health_check_name(self, role: str) -> str:
        """The Name tag of the Route 53 health check that probes one region's ALB by its own name."""
        return f"{self.prefix(role)}-alb"

    def audit_log_name(self, procedure: str) -> str:
        return f"{self.deployment}-{procedure}.jsonl"

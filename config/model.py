"""Typed, frozen deployment configuration.

Instances are only created by `config.load`, which validates every field first (structure in
`config.parse`, policy in `config.validate`), so code that receives a `Deployment` can trust it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from config.regions import REGION_AVAILABILITY_ZONES


class Jurisdiction(str):
    """A jurisdiction's key in the config file (`"au"`): an open set, grown by configuration.

    A `str`, so it compares, hashes, formats and serialises as its key; `str(jurisdiction)` is
    that key as a plain `str`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Jurisdiction({str.__repr__(self)})"


class Environment(StrEnum):
    PRODUCTION = "production"
    STAGING = "staging"
    DEVELOPMENT = "development"


@dataclass(frozen=True)
class Sizing:
    web_instance_type: str
    web_min_capacity: int
    web_max_capacity: int
    web_cpu_target_percent: int
    web_requests_per_target: int
    db_instance_class: str
    db_allocated_storage_gib: int
    db_max_allocated_storage_gib: int
    db_multi_az: bool
    cache_node_type: str
    cache_replicas: int
    nat_gateways: int


@dataclass(frozen=True)
class RegionSizing:
    """A region's own class where the deployment's one is not offered there (issue 17 item 2):
    `[environments.<env>.region_sizing."<region>"]`. Only for a deployment's DR region: the
    primary region always runs `sizing.db_instance_class`."""

    region: str
    db_instance_class: str


@dataclass(frozen=True)
class Retention:
    """Retention in days; every field has a policy minimum (config/policy.py)."""

    hourly_backup_days: int
    twice_daily_backup_days: int
    ebs_snapshot_days: int
    rds_automated_backup_days: int
    rds_daily_backup_days: int
    monthly_archive_days: int
    monthly_cold_storage_after_days: int
    log_retention_days: int
    log_archive_transition_days: int
    log_archive_expiry_days: int
    noncurrent_version_days: int
    vault_lock_min_days: int
    vault_lock_max_days: int
    # ACC-3: the S3 Object Lock mode of the audit buckets (trail, its DR copy, compliance evidence):
    # COMPLIANCE (nobody, the root user included, can shorten or remove it; required in production) or
    # GOVERNANCE (non-production: bypassable with s3:BypassGovernanceRetention, which the buckets deny).
    audit_lock_mode: str

    @property
    def audit_lock_days(self) -> int:
        """ACC-3 with BAK-7: an audit record is locked for as long as it is kept (the log archive's expiry),
        so nothing removes it before its lifecycle does, and the lock never outlives the record."""
        return self.log_archive_expiry_days


@dataclass(frozen=True)
class MaintenanceWindow:
    """A weekly window in UTC; the announced window of clause OPS-5."""

    day: str  # Mon..Sun
    start_utc: str  # HH:MM
    duration_hours: int

    def _end(self) -> tuple[str, str]:
        hour, minute = (int(part) for part in self.start_utc.split(":"))
        total = hour * 60 + minute + self.duration_hours * 60
        days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
        end_day = days[(days.index(self.day) + total // (24 * 60)) % 7]
        return end_day, f"{(total // 60) % 24:02d}:{total % 60:02d}"

    @property
    def rds_window(self) -> str:
        """`ddd:hh24:mi-ddd:hh24:mi`, the format of RDS and ElastiCache."""
        end_day, end = self._end()
        return f"{self.day.lower()}:{self.start_utc}-{end_day.lower()}:{end}"

    @property
    def backup_blocked_minutes(self) -> tuple[int, int]:
        """[start, end) in minutes of the UTC week (Monday 00:00 = 0) in which AWS Backup starts no
        database backup: the hour before the window and the window itself (BAK-1, OPS-5;
        https://docs.aws.amazon.com/aws-backup/latest/devguide/plan-options-and-configuration.html)."""
        hour, minute = (int(part) for part in self.start_utc.split(":"))
        days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
        start = days.index(self.day) * 24 * 60 + hour * 60 + minute
        return start - 60, start + self.duration_hours * 60

    @property
    def backup_blocked_hours(self) -> frozenset[tuple[int, int]]:
        """(weekday 0=Mon, UTC hour) whose HH:00 falls in `backup_blocked_minutes`: an hourly backup
        scheduled then could not start before its one-hour start window ran out."""
        start, end = self.backup_blocked_minutes
        week = 7 * 24 * 60
        return frozenset((slot // 24, slot % 24) for slot in range(7 * 24) if (slot * 60 - start) % week < end - start)

    @property
    def ssm_schedule(self) -> str:
        """The SSM maintenance-window cron expression."""
        hour, minute = (int(part) for part in self.start_utc.split(":"))
        return f"cron({minute} {hour} ? * {self.day.upper()} *)"


@dataclass(frozen=True)
class Standby:
    """The warm standby in the DR region (DR-1): what fails over, and how eagerly."""

    enabled: bool
    web_min_capacity: int  # instances the DR web tier keeps running before a failover (HOST-1: >= 2)
    replica_lag_alarm_seconds: int  # ReplicaLag alarm threshold: the design database RPO
    failover_max_lag_seconds: int  # failover refuses above this lag unless --accept-data-loss


@dataclass(frozen=True)
class Release:
    """The application release a deployment's web tier runs (OPS-7): an immutable artifact named by
    version and identified by its SHA-256 digest. Both regions of a deployment pin the same one."""

    version: str  # semantic version, e.g. "2.0.0" (never "latest")
    sha256: str  # 64 lowercase hex digits of the artifact's digest

    @property
    def artifact_key(self) -> str:
        """The artifact's key in a region's release bucket (written once, never overwritten)."""
        return release_artifact_key(self.version)


def release_artifact_key(version: str) -> str:
    return f"releases/{version}/app.tar.gz"


@dataclass(frozen=True)
class AwsConfig:
    """AWS Config in the deployment's account (patterns/config_recorder.py, docs/aws-config-recorder.md).

    A configuration recorder is an account-region singleton, usually the organisation's (Control
    Tower). False (the default): the organisation provides it and the preflight checks it records
    what the backup audit framework evaluates. True: the Backup stack creates one for those types."""

    create_recorder: bool = False


@dataclass(frozen=True)
class UserEmail:
    """Who sends the user pool's e-mail (invitations, verification codes, password resets).

    `ses`: Amazon SES in the primary region, from `<from_local_part>@<domain_name>`; the Dns stack
    verifies the domain (Easy DKIM records in the public zone). `cognito`: Cognito's own sender,
    limited to about 50 messages a day per account, so development only (config/validate/user_email.py
    refuses it elsewhere). https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-email.html"""

    sender: str
    from_local_part: str


@dataclass(frozen=True)
class EgressRule:
    """A third-party API the web instances may call (ACC-1): TCP `port` to the IPv4 network `cidr` only,
    and why. Everything else the instances reach is inside the VPC (patterns/web_tier.py)."""

    cidr: str  # e.g. "203.0.113.0/24", at most a /16 (config/policy.py EGRESS_MIN_PREFIX_LENGTH)
    port: int
    reason: str  # who is called and what for, e.g. "payment provider's API"


@dataclass(frozen=True)
class JurisdictionSpec:
    """One `[jurisdictions.<key>]` table, validated: what the deployments of a jurisdiction share."""

    key: Jurisdiction
    primary_region: str
    dr_region: str
    allowed_regions: tuple[str, ...]
    cidr_index: int
    timezone: str
    domain_name: str
    alarm_email: str
    accounts: Mapping[Environment, str]
    pipeline: DeliveryPipeline | None = None


@dataclass(frozen=True)
class Deployment:
    """One jurisdiction x environment: a primary region and its DR region."""

    jurisdiction: Jurisdiction
    environment: Environment
    account: str
    primary_region: str
    dr_region: str
    timezone: str
    domain_name: str
    alarm_email: str
    owner: str
    service: str
    sizing: Sizing
    retention: Retention
    maintenance: MaintenanceWindow
    standby: Standby
    allowed_regions: tuple[str, ...]  # HOST-2: the jurisdiction's allow-list (primary and DR are on it)
    cidr_index: int  # the jurisdiction's slot in the VPC address plan (stacks/base.py:vpc_cidr)
    aws_config: AwsConfig = AwsConfig()
    user_email: UserEmail = UserEmail(sender="ses", from_local_part="no-reply")
    release: Release | None = None  # None: no release yet, the web tier serves the first-boot placeholder
    region_sizing: tuple[RegionSizing, ...] = ()  # per-region classes (DR region only)
    web_egress: tuple[EgressRule, ...] = ()  # third-party APIs the web tier may call (none by default)

    @property
    def name(self) -> str:
        return f"{self.jurisdiction}-{self.environment.value}"

    @property
    def user_email_from(self) -> str | None:
        """The user pool's From address, when SES sends (None: Cognito's default sender)."""
        if self.user_email.sender != "ses":
            return None
        return f"{self.user_email.from_local_part}@{self.domain_name}"

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def regions(self) -> tuple[str, str]:
        return (self.primary_region, self.dr_region)

    def db_instance_class_for(self, region: str) -> str:
        """The RDS class of this deployment's database in `region`: the region's own where one is
        configured, else `sizing.db_instance_class` (config/validate/offerings.py checks both are offered there)."""
        for override in self.region_sizing:
            if override.region == region:
                return override.db_instance_class
        return self.sizing.db_instance_class

    def availability_zones(self, region: str) -> tuple[str, ...]:
        return REGION_AVAILABILITY_ZONES[region]

    @property
    def break_glass_role_name(self) -> str:
        """IAM is global: the access stack (primary region) creates this role; backup
        vault policies in both regions refer to it by this deterministic name (ACC-4)."""
        return f"{self.name}-break-glass"

    @property
    def workload_boundary_name(self) -> str:
        """The permissions boundary of every role the stacks create but the team roles (ACC-1). A
        customer-managed policy created before bootstrap by tooling/bootstrap_policy.py, outside every
        stack, so no deploy can loosen it; the stacks refer to it by this name (stacks/base.py)."""
        return f"{self.name}-workload-boundary"

    @property
    def boundary_policy_names(self) -> tuple[str, ...]:
        """Every permissions boundary of the deployment (ACC-1), watched by the audit trail's BoundaryChanged
        alarm: the team roles' (patterns/team_roles.py), the workload roles' and the CDK execution role's
        (both created before bootstrap by tooling/bootstrap_policy.py)."""
        return (f"{self.name}-team-boundary", self.workload_boundary_name, f"{self.name}-cdk-boundary")

    @property
    def unbounded_role_names(self) -> tuple[str, ...]:
        """IAM name patterns of the only roles a deploy creates without a permissions boundary: the hosted
        secret rotation's function role, which the AWS::SecretsManager transform creates in a nested stack
        of the primary Data stack (named after it) from a template with no boundary parameter. The
        execution policy exempts them from its boundary requirement, and the team boundary denies
        assuming them (tooling/bootstrap_policy.py, patterns/team_roles.py; ACC-1)."""
        return (f"{self.name}-primary-data-*SecretsManager*",)

    @property
    def tags(self) -> dict[str, str]:
        return {
            "owner": self.owner,
            "service": self.service,
            "environment": self.environment.value,
            "jurisdiction": self.jurisdiction,
        }


@dataclass(frozen=True)
class DeliveryPipeline:
    """A jurisdiction's CDK pipeline (`[jurisdictions.<j>.pipeline]`, stacks/pipeline.py): it runs in a
    tooling account of its own, in a region of the jurisdiction's allow-list (HOST-2), fetches the
    repository through a CodeConnections connection of that account and region, and deploys every
    environment of its jurisdiction, and nothing else."""

    jurisdiction: Jurisdiction
    account: str  # the tooling account, none of the workload accounts
    region: str
    connection_arn: str  # arn:aws:codeconnections:<region>:<account>:connection/<id>
    repository: str  # "owner/name" of the repository the connection reaches
    branch: str
    allowed_regions: tuple[str, ...]  # HOST-2: the jurisdiction's allow-list

    @property
    def name(self) -> str:
        """`au-pipeline`: the pipeline's stack and CodePipeline name."""
        return f"{self.jurisdiction}-pipeline"

    @property
    def boundary_name(self) -> str:
        """The permissions boundary of every role of the pipeline stacks (tooling/pipeline_bootstrap.py, ACC-1)."""
        return f"{self.name}-boundary"

    def other_regions(self, deployments: Sequence[Deployment]) -> tuple[str, ...]:
        """The regions `deployments` deploy into besides the pipeline's own: each holds an artifact store."""
        return tuple(sorted({r for d in deployments for r in d.regions} - {self.region}))

    def artifact_stack(self, region: str) -> str:
        """`au-pipeline-artifacts-ap-southeast-4`: the artifact store stack of a region not the pipeline's."""
        return f"{self.name}-artifacts-{region}"

    def artifact_bucket(self, region: str) -> str:
        """The pipeline's artifact store in `region` (stacks/pipeline_artifacts.py): one per region it acts in."""
        return f"{self.name}-artifacts-{self.account}-{region}"


@dataclass(frozen=True)
class PlatformConfig:
    deployments: tuple[Deployment, ...]
    pipelines: tuple[DeliveryPipeline, ...] = ()

    def pipeline(self, jurisdiction: str) -> DeliveryPipeline:
        for pipeline in self.pipelines:
            if pipeline.jurisdiction == jurisdiction:
                return pipeline
        allowed = ", ".join(p.jurisdiction for p in self.pipelines) or "none configured"
        raise KeyError(f"no pipeline for jurisdiction {jurisdiction!r}; allowed: {allowed}")

    def deployments_of(self, jurisdiction: str) -> tuple[Deployment, ...]:
        return tuple(d for d in self.deployments if d.jurisdiction == jurisdiction)

    def get(self, name: str) -> Deployment:
        for deployment in self.deployments:
            if deployment.name == name:
                return deployment
        allowed = ", ".join(d.name for d in self.deployments)
        raise KeyError(f"unknown deployment {name!r}; allowed: {allowed}")

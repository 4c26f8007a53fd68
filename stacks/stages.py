"""One cdk.Stage per region of a deployment, each with an explicit build.

What each region holds, in the order it deploys. Each phase of a region's build marks the
stacks it built with its deploy step (stacks/deploy_steps.py); the main job, the README's
real-account procedure and the pipeline read the order from those marks:

1. **DR foundation** (`<deployment>-dr`, the DR region): keys, network, alarm topics,
   the locked backup vault, the locked audit archive (ACC-3) and, where the deployment
   has a warm standby, the content replica bucket and the failover switch. The primary
   copies backups, audit records and objects into it, and its health check watches the
   switch, so it exists first.
2. **Primary** (`<deployment>-primary`): everything that serves.
3. **DR standby** (the same DR stage; production and, by default, staging): the
   cross-region read replica (needs the primary database), Redis, and the small web
   tier behind its own ALB with the SECONDARY failover record.

The DR stage learns everything about the primary from configuration
(`config/topology.py`): nothing in it reads a value from the primary region.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from config import Deployment
from config.names import DeploymentNames
from config.topology import DR, PRIMARY, FailoverTopology
from patterns.keys import allow_secret_replicas
from patterns.patching import PatchManagement
from patterns.session_manager import SessionManagerPreferences
from stacks.access import AccessStack
from stacks.alerts import AlertsStack
from stacks.audit import AuditStack
from stacks.audit_archive import AuditArchiveStack
from stacks.backup import DrBackupStack, PrimaryBackupStack
from stacks.data import DataStack
from stacks.data_tier import DataStoreAccess
from stacks.deploy_steps import DR_FOUNDATION, DR_STANDBY, PRIMARY_REGION, StepKind, UnsteppedStackError, mark, step_of
from stacks.dns import DnsStack
from stacks.failover import FailoverSwitchStack
from stacks.identity import IdentityStack
from stacks.keys import KeysStack
from stacks.monitoring import MonitoringStack
from stacks.network import NetworkStack
from stacks.operations import OperationsStack
from stacks.patching import PatchingStack
from stacks.standby import StandbyDataStack, StandbyStorageStack
from stacks.web import PublicRecord, WebStack


def stage_id(deployment: Deployment, role: str) -> str:
    """`au-production-dr`: the construct id of a deployment's stage, and its nested assembly's name."""
    return DeploymentNames.of(deployment).prefix(role)


class RegionStacks:
    """The stacks of one deployment in one region, built into `scope`: a `RegionalStage` on the
    command line, a plain construct of the deployment's `DeploymentStage` in a pipeline
    (stacks/pipeline_stage.py). The stacks name themselves (`<deployment>-<role>-<id>`,
    stacks/base.py), so both paths deploy the same stacks."""

    role: str = ""

    def __init__(self, scope: Construct, *, deployment: Deployment) -> None:
        self.scope = scope
        self.deployment = deployment
        self.topology = FailoverTopology.of(deployment)
        self.phases: dict[StepKind, list[cdk.Stack]] = {}
        self.keys = KeysStack(scope, "Keys", deployment=deployment, role=self.role)
        self.network = NetworkStack(
            scope, "Network", deployment=deployment, role=self.role, logs_key=self.keys.key_ring.logs
        )
        # Every alarm publishes to a topic of its own region (OPS-2, OPS-4).
        self.alerts = AlertsStack(
            scope, "Alerts", deployment=deployment, role=self.role, system_key=self.keys.key_ring.system
        )

    @property
    def stacks(self) -> list[cdk.Stack]:
        return [child for child in self.scope.node.children if isinstance(child, cdk.Stack)]

    def _built(self, kind: StepKind) -> None:
        """A phase of the build is done: the stacks it built (every stack not yet marked) deploy in `kind`."""
        built = [stack for stack in self.stacks if step_of(stack) is None]
        if not built:
            raise ValueError(f"{kind.what} of {self.deployment.name}-{self.role} built no stack")
        mark(built, kind)
        self.phases[kind] = built

    def steps(self) -> dict[StepKind, list[cdk.Stack]]:
        """The stacks of each phase, in build order; refuses a stack built after the last phase."""
        for stack in self.stacks:
            if step_of(stack) is None:
                raise UnsteppedStackError(stack.stack_name)
        return self.phases

    def _web_stack(
        self,
        id: str,
        *,
        record: PublicRecord,
        data: DataStoreAccess,
        sessions: SessionManagerPreferences | None,
        patching: PatchManagement,
        min_capacity: int | None = None,
    ) -> WebStack:
        """A web tier in this region on its network, keys and alarm topics; the caller passes what differs."""
        key_ring = self.keys.key_ring
        network = self.network.network
        return WebStack(
            self.scope,
            id,
            deployment=self.deployment,
            role=self.role,
            vpc=network.vpc,
            endpoint_security_group=network.endpoint_security_group,
            customer_key=key_ring.customer,
            logs_key=key_ring.logs,
            system_key=key_ring.system,
            codebase_key=key_ring.codebase,
            record=record,
            alarm_topics=self.alerts.topics,
            min_capacity=min_capacity,
            patching=patching,
            sessions=sessions,
            data=data,
        )


class DisasterRecoveryRegion(RegionStacks):
    """The DR region, inside the same jurisdiction (HOST-2, DR-1): foundation, then standby."""

    role = DR

    def __init__(self, scope: Construct, *, deployment: Deployment) -> None:
        super().__init__(scope, deployment=deployment)
        self.storage: StandbyStorageStack | None = None
        self.switch: FailoverSwitchStack | None = None
        self.standby_data: StandbyDataStack | None = None
        self.standby_web: WebStack | None = None
        self._build_foundation(deployment)
        self._built(DR_FOUNDATION)
        if deployment.standby.enabled:
            self._build_standby(deployment)
            self._built(DR_STANDBY)

    def _build_foundation(self, deployment: Deployment) -> None:
        key_ring = self.keys.key_ring
        self.backup = DrBackupStack(
            self.scope,
            "Backup",
            deployment=deployment,
            backup_key=key_ring.backup,
            data_key=key_ring.customer,
            alarm_topics=self.alerts.topics,  # the dormant plan's failed jobs page too
        )
        # Every deployment, standby or not: the primary's audit records are copied here (ACC-3).
        self.audit_archive = AuditArchiveStack(self.scope, "AuditArchive", deployment=deployment, key_ring=key_ring)
        if not deployment.standby.enabled:
            return
        # The primary's master secret is replicated into this region under the `system` key (DR-1).
        allow_secret_replicas(key_ring.system, self.keys)
        self.storage = StandbyStorageStack(self.scope, "Storage", deployment=deployment, key_ring=key_ring)
        self.switch = FailoverSwitchStack(self.scope, "Switch", deployment=deployment, topics=self.alerts.topics)

    def _build_standby(self, deployment: Deployment) -> None:
        assert self.storage is not None
        key_ring = self.keys.key_ring
        self.standby_data = StandbyDataStack(
            self.scope,
            "StandbyData",
            deployment=deployment,
            key_ring=key_ring,
            vpc=self.network.network.vpc,
            topics=self.alerts.topics,
        )
        self.standby_patching = PatchingStack(
            self.scope,
            "StandbyPatching",
            deployment=deployment,
            role=self.role,
            logs_key=key_ring.logs,
            session_key=key_ring.system,
        )
        self.standby_web = self._web_stack(
            "StandbyWeb",
            record=PublicRecord.secondary(deployment),
            data=DataStoreAccess.of(self.standby_data.tier, content=self.storage, content_key=key_ring.customer),
            sessions=self.standby_patching.sessions,
            patching=self.standby_patching.patching,
            min_capacity=deployment.standby.web_min_capacity,
        )


class PrimaryRegion(RegionStacks):
    """The deployment's serving region."""

    role = PRIMARY

    def __init__(self, scope: Construct, *, deployment: Deployment) -> None:
        super().__init__(scope, deployment=deployment)
        key_ring = self.keys.key_ring
        self.data = DataStack(
            self.scope,
            "Data",
            deployment=deployment,
            role=self.role,
            key_ring=key_ring,
            vpc=self.network.network.vpc,
            topics=self.alerts.topics,
        )
        self.audit = AuditStack(
            self.scope, "Audit", deployment=deployment, role=self.role, key_ring=key_ring, topics=self.alerts.topics
        )
        # Export (DATA-2) and compliance-evidence (OPS-6) buckets used by the runbooks.
        self.operations = OperationsStack(
            self.scope, "Operations", deployment=deployment, role=self.role, key_ring=key_ring
        )
        # Plans copying into the DR vault by its deterministic name (BAK-1..BAK-5).
        self.backup = PrimaryBackupStack(
            self.scope,
            "Backup",
            deployment=deployment,
            backup_key=key_ring.backup,
            data_key=key_ring.customer,
            alarm_topics=self.alerts.topics,
            vpc=self.network.network.vpc,
            logs_key=key_ring.logs,
        )
        # Route 53 and IAM are global: the zone, team roles and Session Manager live here.
        self.dns = DnsStack(self.scope, "Dns", deployment=deployment, role=self.role)
        self.access = AccessStack(
            self.scope,
            "Access",
            deployment=deployment,
            role=self.role,
            system_key=key_ring.system,
            logs_key=key_ring.logs,
            content_bucket_name=self.data.content_bucket_name,
            content_key=key_ring.customer,
        )
        self.patching = PatchingStack(
            self.scope, "Patching", deployment=deployment, role=self.role, logs_key=key_ring.logs
        )
        # End users' passwords live in Cognito (ENC-4); a user pool is regional, see the README.
        self.identity = IdentityStack(self.scope, "Identity", deployment=deployment, role=self.role)
        self.web = self._build_web_tier(deployment)
        # Built last: the dashboard of the primary region (OPS-2), with the web tier's ALB and alarms.
        self.monitoring = MonitoringStack(
            self.scope,
            "Monitoring",
            deployment=deployment,
            role=self.role,
            data=self.data,
            load_balancer=self.web.web.alb,
            extra_alarms=list(self.web.web.alarms.values()),
        )
        self._built(PRIMARY_REGION)

    def _build_web_tier(self, deployment: Deployment) -> WebStack:
        return self._web_stack(
            "Web",
            record=PublicRecord.primary(deployment, self.dns.zone),
            data=DataStoreAccess.of(self.data.tier, content=self.data, content_key=self.keys.key_ring.customer),
            sessions=self.access.sessions,
            patching=self.patching.patching,
        )


class RegionalStage(cdk.Stage):
    """One region of a deployment as its own `cdk.Stage` with an explicit env: what the command line
    deploys, step by step (stacks/deploy_steps.py)."""

    region_class: type[RegionStacks] = RegionStacks

    def __init__(self, scope: Construct, *, deployment: Deployment) -> None:
        role = self.region_class.role
        region = DeploymentNames.of(deployment).region(role)
        super().__init__(
            scope, stage_id(deployment, role), env=cdk.Environment(account=deployment.account, region=region)
        )
        self.role = role
        self.deployment = deployment
        self.region_stacks = self.region_class(self, deployment=deployment)

    @property
    def stacks(self) -> list[cdk.Stack]:
        return self.region_stacks.stacks


class DisasterRecoveryStage(RegionalStage):
    region_class = DisasterRecoveryRegion


class PrimaryStage(RegionalStage):
    region_class = PrimaryRegion

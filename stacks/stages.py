"""One cdk.Stage per deployment unit: a deployment's primary region and its DR region."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from config import Deployment
from stacks.access import AccessStack
from stacks.alerts import AlertsStack
from stacks.audit import AuditStack
from stacks.backup import BackupStack
from stacks.data import DataStack
from stacks.dns import DnsStack
from stacks.keys import KeysStack
from stacks.monitoring import MonitoringStack
from stacks.network import NetworkStack
from stacks.patching import PatchingStack
from stacks.web import DataStoreAccess, WebStack


class RegionalStage(cdk.Stage):
    """The stacks of one deployment in one region, with an explicit env."""

    role: str = ""

    def __init__(self, scope: Construct, *, deployment: Deployment) -> None:
        region = deployment.primary_region if self.role == "primary" else deployment.dr_region
        super().__init__(
            scope,
            f"{deployment.name}-{self.role}",
            env=cdk.Environment(account=deployment.account, region=region),
        )
        self.deployment = deployment
        self.keys = KeysStack(self, "Keys", deployment=deployment, role=self.role)
        self.network = NetworkStack(
            self,
            "Network",
            deployment=deployment,
            role=self.role,
            logs_key=self.keys.key_ring.logs,
        )
        # Primary only: every alarm of the deployment publishes to these topics (OPS-2, OPS-4).
        self.alerts: AlertsStack | None = None
        if self.role == "primary":
            self.alerts = AlertsStack(
                self,
                "Alerts",
                deployment=deployment,
                role=self.role,
                system_key=self.keys.key_ring.system,
            )
        # Primary only: the data tier (DR gets a replica later, DR-1) and the multi-region trail (ACC-3).
        self.data: DataStack | None = None
        self.audit: AuditStack | None = None
        if self.alerts is not None:
            self.data = DataStack(
                self,
                "Data",
                deployment=deployment,
                role=self.role,
                key_ring=self.keys.key_ring,
                vpc=self.network.network.vpc,
                topics=self.alerts.topics,
            )
            self.audit = AuditStack(self, "Audit", deployment=deployment, role=self.role, key_ring=self.keys.key_ring)
        # Both regions: a locked vault; primary only: plans copying into the DR vault (BAK-1..BAK-5).
        self.backup = BackupStack(
            self,
            "Backup",
            deployment=deployment,
            role=self.role,
            backup_key=self.keys.key_ring.backup,
            data_key=self.keys.key_ring.customer,
            alarm_topics=self.alerts.topics if self.alerts else None,
        )
        # Primary only: zone, team roles + Session Manager (IAM is global), patching, web tier.
        self.dns: DnsStack | None = None
        self.access: AccessStack | None = None
        self.patching: PatchingStack | None = None
        self.web: WebStack | None = None
        if self.alerts is not None and self.data is not None:
            self._build_web_tier(deployment, self.alerts, self.data)
        # Built last: the dashboard of the primary region (OPS-2), with the web tier's ALB and alarms.
        self.monitoring: MonitoringStack | None = None
        if self.data is not None:
            self.monitoring = MonitoringStack(
                self,
                "Monitoring",
                deployment=deployment,
                role=self.role,
                data=self.data,
                load_balancer=self.web.web.alb if self.web else None,
                extra_alarms=list(self.web.web.alarms.values()) if self.web else (),
            )

    def _build_web_tier(self, deployment: Deployment, alerts: AlertsStack, data: DataStack) -> None:
        key_ring = self.keys.key_ring
        # A literal name, not a cross-stack reference: the Access and Web stacks scope IAM to it.
        content_bucket_name = data.content_bucket_name
        self.dns = DnsStack(self, "Dns", deployment=deployment, role=self.role)
        self.access = AccessStack(
            self,
            "Access",
            deployment=deployment,
            role=self.role,
            system_key=key_ring.system,
            logs_key=key_ring.logs,
            content_bucket_name=content_bucket_name,
            content_key=key_ring.customer,
        )
        self.patching = PatchingStack(self, "Patching", deployment=deployment, role=self.role, logs_key=key_ring.logs)
        self.web = WebStack(
            self,
            "Web",
            deployment=deployment,
            role=self.role,
            vpc=self.network.network.vpc,
            customer_key=key_ring.customer,
            logs_key=key_ring.logs,
            system_key=key_ring.system,
            zone=self.dns.zone,
            alarm_topics=alerts.topics,
            sessions=self.access.sessions,
            patching=self.patching.patching,
            data=DataStoreAccess(
                database_security_group=data.db_security_group,
                database_port=data.database_port,
                database_secret=data.db_secret,
                cache_security_group=data.cache_security_group,
                cache_port=data.cache_port,
                cache_secret=data.cache_secret,
                content_bucket_name=content_bucket_name,
                content_key=key_ring.customer,
                server_access_logs_bucket=data.access_log_bucket,
            ),
        )

    @property
    def stacks(self) -> list[cdk.Stack]:
        return [child for child in self.node.children if isinstance(child, cdk.Stack)]


class PrimaryStage(RegionalStage):
    """The deployment's serving region."""

    role = "primary"


class DisasterRecoveryStage(RegionalStage):
    """The deployment's DR region, inside the same jurisdiction (HOST-2, DR-1)."""

    role = "dr"

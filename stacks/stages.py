"""One cdk.Stage per deployment unit: a deployment's primary region and its DR region."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from config import Deployment
from stacks.alerts import AlertsStack
from stacks.audit import AuditStack
from stacks.backup import BackupStack
from stacks.data import DataStack
from stacks.keys import KeysStack
from stacks.monitoring import MonitoringStack
from stacks.network import NetworkStack


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
        # Built last: the dashboard of the primary region (OPS-2). Pass the web tier's ALB when it exists.
        self.monitoring: MonitoringStack | None = None
        if self.data is not None:
            self.monitoring = MonitoringStack(
                self, "Monitoring", deployment=deployment, role=self.role, data=self.data
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

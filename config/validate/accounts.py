"""Accounts: environments never share one (HOST-3); a pipeline's tooling account holds no workload and
its connection lives there (ACC-1, HOST-2)."""

from __future__ import annotations

from collections.abc import Sequence

from config.errors import ErrorCollector
from config.model import DeliveryPipeline, Deployment


def check_accounts_separate(deployments: Sequence[Deployment], errors: ErrorCollector) -> None:
    """HOST-3: environments never share an account; HOST-2: nor do jurisdictions (a jurisdiction's data
    stays in its own accounts)."""
    owner: dict[str, Deployment] = {}
    for deployment in deployments:
        other = owner.setdefault(deployment.account, deployment)
        if other.jurisdiction != deployment.jurisdiction:
            errors.add(
                f"jurisdictions.{deployment.jurisdiction}.accounts.{deployment.environment.value}",
                deployment.account,
                f"an account not used by {other.name} (jurisdictions are separate accounts)",
                "HOST-2",
            )
        elif other.environment is not deployment.environment:
            errors.add(
                f"jurisdictions.{deployment.jurisdiction}.accounts.{deployment.environment.value}",
                deployment.account,
                f"an account not used by {other.name} (environments are separate accounts)",
                "HOST-3",
            )


def check_tooling_accounts(
    pipelines: Sequence[DeliveryPipeline], deployments: Sequence[Deployment], errors: ErrorCollector
) -> None:
    """A pipeline's tooling account holds no workload: a deploy role there could not reach the data
    (ACC-1), and deleting a workload account never deletes a jurisdiction's delivery (HOST-3)."""
    workload = {d.account: d.name for d in deployments}
    for pipeline in pipelines:
        if pipeline.account in workload:
            errors.add(
                f"jurisdictions.{pipeline.jurisdiction}.pipeline.account",
                pipeline.account,
                f"a tooling account that no deployment uses (it is {workload[pipeline.account]}'s)",
                "ACC-1",
            )


def check_connection_home(
    field: str,
    connection_arn: str,
    home: tuple[str, str],
    pipeline_home: tuple[str, str],
    errors: ErrorCollector,
) -> None:
    """HOST-2: the pipeline's CodeConnections connection is of its own (region, account)."""
    if home != pipeline_home:
        region, account = pipeline_home
        errors.add(
            field,
            connection_arn,
            f"a connection of the pipeline's own account and region ({account}, {region})",
            "HOST-2",
        )

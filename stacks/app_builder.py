"""Build the whole app from configuration: the code behind app.py, reused by tests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aws_cdk as cdk

from config import ConfigError, Deployment, PlatformConfig, Retention
from config.policy import REGION_AVAILABILITY_ZONES

if TYPE_CHECKING:
    from stacks.pipeline import PipelineStack

from stacks.stages import DisasterRecoveryStage, PrimaryStage, RegionalStage, stage_id

SELECTORS = ("deployment", "jurisdiction", "environment")

# aws-cdk-lib records a JavaScript creation stack trace on every CloudFormation element
# unless this context key is set. A Python app's frames never appear in it (every entry
# reads "no user code"), and capturing and parsing thousands of them is paid on every synth.
# `cdk synth --debug` (CDK_DEBUG) still records them.
DISABLE_CREATION_STACK_TRACES = "aws:cdk:disable-creation-stack-traces"


@dataclass(frozen=True)
class Selection:
    """Which deployments to synthesize: all by default (what CI gates on)."""

    deployment: str | None = None
    jurisdiction: str | None = None
    environment: str | None = None

    @classmethod
    def from_context(cls, app: cdk.App) -> Selection:
        values = {key: app.node.try_get_context(key) for key in SELECTORS}
        return cls(**{key: str(value) for key, value in values.items() if value})

    def apply(self, config: PlatformConfig) -> tuple[Deployment, ...]:
        chosen = config.deployments
        for key in SELECTORS:
            wanted = getattr(self, key)
            if wanted is None:
                continue
            allowed = sorted({_value(d, key) for d in config.deployments})
            if wanted not in allowed:
                raise ConfigError(f"context {key}", wanted, f"one of: {', '.join(allowed)}")
            chosen = tuple(d for d in chosen if _value(d, key) == wanted)
        if not chosen:
            raise ConfigError("context", self, "a combination that selects at least one deployment")
        return chosen


def _value(deployment: Deployment, key: str) -> str:
    if key == "deployment":
        return deployment.name
    return str(getattr(deployment, key))


def pin_availability_zones(app: cdk.App, deployments: tuple[Deployment, ...]) -> None:
    """Hermetic synth: answer the AZ context lookups before any stack asks."""
    for deployment in deployments:
        for region in deployment.regions:
            key = f"availability-zones:account={deployment.account}:region={region}"
            app.node.set_context(key, list(REGION_AVAILABILITY_ZONES[region]))


def build_app(app: cdk.App, config: PlatformConfig, selection: Selection) -> list[RegionalStage]:
    return build_deployments(app, selection.apply(config))


# A deployment's stages in the order they are built (and appear in the cloud assembly): DR first.
STAGES: tuple[type[RegionalStage], ...] = (DisasterRecoveryStage, PrimaryStage)


def build_deployments(app: cdk.App, deployments: tuple[Deployment, ...]) -> list[RegionalStage]:
    """Every stage of every deployment, in `stage_ids` order (the order `stacks/parallel_synth.py` restores)."""
    app.node.set_context(DISABLE_CREATION_STACK_TRACES, True)
    pin_availability_zones(app, deployments)
    return [stage(app, deployment=deployment) for deployment in deployments for stage in STAGES]


def stage_ids(deployments: Iterable[Deployment]) -> list[str]:
    """The ids of the stages `build_deployments` builds, in its order."""
    return [stage_id(deployment, stage.region_class.role) for deployment in deployments for stage in STAGES]


def build_pipeline(app: cdk.App, config: PlatformConfig, jurisdiction: str) -> PipelineStack:
    """`-c pipeline=<j>`: the jurisdiction's pipeline stack, its artifact stores and one
    `DeploymentStage` per deployment of that jurisdiction, and nothing of another (HOST-2)."""
    from stacks.pipeline import PipelineStack
    from stacks.pipeline_artifacts import ArtifactReplicationStack
    from stacks.pipeline_stage import DeploymentStage

    try:
        pipeline = config.pipeline(jurisdiction)
    except KeyError:
        allowed = ", ".join(p.jurisdiction for p in config.pipelines) or "none: add [jurisdictions.<j>.pipeline]"
        raise ConfigError("context pipeline", jurisdiction, f"a jurisdiction with a pipeline: {allowed}") from None
    deployments = config.deployments_of(jurisdiction)
    app.node.set_context(DISABLE_CREATION_STACK_TRACES, True)
    pin_availability_zones(app, deployments)
    retention = pipeline_retention(deployments)
    regions = pipeline.other_regions(deployments)
    stores = [
        ArtifactReplicationStack(app, pipeline=pipeline, region=r, retention=retention, deployments=deployments)
        for r in regions
    ]
    stages = [DeploymentStage(app, deployment=deployment) for deployment in deployments]
    stack = PipelineStack(app, pipeline=pipeline, stages=stages, retention=retention)
    for store in stores:
        stack.add_stack_dependency(store, "the pipeline copies artifacts into its regional stores")
    return stack


def pipeline_retention(deployments: tuple[Deployment, ...]) -> Retention:
    """The pipeline keeps its logs and artifacts as long as its production deployment keeps its own."""
    production = [d for d in deployments if d.is_production]
    return (production or list(deployments))[0].retention

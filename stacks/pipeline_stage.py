"""DeploymentStage: one deployment, both regions, as one stage of its jurisdiction's pipeline.

CDK Pipelines deploys a `cdk.Stage` as a unit and refuses a stack that depends on a stack of
another stage, while the DR standby uses the DR foundation's keys, network and topics and must
wait for the primary. So the pipeline's stage holds both regions (the same builders as the
command line's two stages, stacks/stages.py, each under a plain construct `dr` / `primary`), and
the deploy order (stacks/deploy_steps.py, read off the built regions) becomes stack dependencies:
every stack of a step waits for every stack of the step before. CDK Pipelines turns those
dependencies into run orders inside the stage's CodePipeline stage: DR foundation, then primary,
then DR standby, as `./scripts/run --target aws` deploys them. The stacks name themselves
(`<deployment>-<role>-<id>`), so both paths deploy the same CloudFormation stacks.
"""

from __future__ import annotations

from itertools import pairwise

import aws_cdk as cdk
from constructs import Construct

from config import Deployment
from config.topology import DR, PRIMARY
from stacks.deploy_steps import STEP_SEQUENCE, StepKind
from stacks.stages import DisasterRecoveryRegion, PrimaryRegion, RegionStacks


class DeploymentStage(cdk.Stage):
    """`<deployment>` in the pipeline: its account, both regions, stacks in the deploy order."""

    def __init__(self, scope: Construct, *, deployment: Deployment) -> None:
        # The account is the stage's; each stack carries its own region (stacks/base.py).
        super().__init__(scope, deployment.name, env=cdk.Environment(account=deployment.account))
        self.deployment = deployment
        self.regions: dict[str, RegionStacks] = {
            DR: DisasterRecoveryRegion(Construct(self, DR), deployment=deployment),
            PRIMARY: PrimaryRegion(Construct(self, PRIMARY), deployment=deployment),
        }
        built = {kind: stacks for region in self.regions.values() for kind, stacks in region.steps().items()}
        self.steps: list[tuple[StepKind, list[cdk.Stack]]] = [(k, built[k]) for k in STEP_SEQUENCE if k in built]
        for (earlier, before), (later, after) in pairwise(self.steps):
            for stack in after:
                for dependency in before:
                    stack.add_stack_dependency(
                        dependency, f"{later.what} after {earlier.what} (stacks/deploy_steps.py)"
                    )

    @property
    def stacks(self) -> list[cdk.Stack]:
        return [stack for _, stacks in self.steps for stack in stacks]

    def stack(self, role: str, stack_id: str) -> cdk.Stack:
        found = self.regions[role].scope.node.find_child(stack_id)
        assert isinstance(found, cdk.Stack)
        return found

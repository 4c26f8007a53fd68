"""DeploymentStage: one deployment, both regions, as one stage of its jurisdiction's pipeline.

CDK Pipelines deploys a `cdk.Stage` as a unit and refuses a stack that depends on a stack of
another stage, while the DR standby uses the DR foundation's keys, network and topics and must
wait for the primary. So the pipeline's stage holds both regions (the same builders as the
command line's two stages, stacks/stages.py, each under a plain construct `dr` / `primary`), and
the order of `deploy_order` becomes stack dependencies: every stack of a step waits for every stack
of the step before. CDK Pipelines turns those dependencies into run orders inside the stage's
CodePipeline stage: DR foundation, then primary, then DR standby, as `./scripts/run --target aws`
deploys them. The stacks name themselves (`<deployment>-<role>-<id>`), so both paths deploy the
same CloudFormation stacks.
"""

from __future__ import annotations

from itertools import pairwise

import aws_cdk as cdk
from constructs import Construct

from config import Deployment
from config.topology import DR, PRIMARY
from stacks.stages import DeployStep, DisasterRecoveryRegion, PrimaryRegion, RegionStacks, deploy_order


class DeploymentStage(cdk.Stage):
    """`<deployment>` in the pipeline: its account, both regions, stacks in `deploy_order`."""

    def __init__(self, scope: Construct, *, deployment: Deployment) -> None:
        # The account is the stage's; each stack carries its own region (stacks/base.py).
        super().__init__(scope, deployment.name, env=cdk.Environment(account=deployment.account))
        self.deployment = deployment
        self.regions: dict[str, RegionStacks] = {
            DR: DisasterRecoveryRegion(Construct(self, DR), deployment=deployment),
            PRIMARY: PrimaryRegion(Construct(self, PRIMARY), deployment=deployment),
        }
        self.steps: list[tuple[DeployStep, list[cdk.Stack]]] = [
            (step, self.regions[step.role].stacks_of(step)) for step in deploy_order(deployment)
        ]
        stepped = {id(stack) for _, stacks in self.steps for stack in stacks}
        for region in self.regions.values():
            for stack in region.stacks:
                if id(stack) not in stepped:
                    raise ValueError(f"{stack.stack_name} is in no step of stacks/stages.py deploy_order")
        for (earlier, before), (later, after) in pairwise(self.steps):
            for stack in after:
                for dependency in before:
                    stack.add_stack_dependency(dependency, f"{later.what} after {earlier.what} (stacks/stages.py)")

    @property
    def stacks(self) -> list[cdk.Stack]:
        return [stack for _, stacks in self.steps for stack in stacks]

    def stack(self, role: str, stack_id: str) -> cdk.Stack:
        found = self.regions[role].scope.node.find_child(stack_id)
        assert isinstance(found, cdk.Stack)
        return found

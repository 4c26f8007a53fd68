"""The deploy order of a deployment, taken from what its stages build (no hand-kept list of stacks).

A region builds its stacks in phases (stacks/stages.py): the DR region's foundation, the primary,
the DR standby. When a phase is done, every stack it built is marked with the phase's step as
construct metadata (`platform:deploy-step`). CDK writes a stack's metadata into the cloud
assembly's manifest, never into a template, so:

- the pipeline, built in the same process, reads the steps off the built regions
  (`stacks/pipeline_stage.py`);
- the command line reads them off the assembly it is about to deploy (`steps_in_assembly`,
  tooling/deploy.py), which is the same build.

The order of the steps is the one rule kept here (`STEP_SEQUENCE`): the primary copies backups,
audit records and objects into the DR foundation and its health check watches the DR switch, so
the foundation exists first; the standby's read replica needs the primary database, so it comes
last. A stack that no phase marked is refused by both readers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import aws_cdk as cdk

from config import Deployment
from config.names import DeploymentNames, RegionRole

DEPLOY_STEP_METADATA: Final = "platform:deploy-step"


@dataclass(frozen=True)
class StepKind:
    """One phase of a region's build and the `cdk deploy` that deploys what it built."""

    what: str
    role: RegionRole


DR_FOUNDATION: Final = StepKind("DR foundation", RegionRole.DR)
PRIMARY_REGION: Final = StepKind("primary", RegionRole.PRIMARY)
DR_STANDBY: Final = StepKind("DR standby", RegionRole.DR)
STEP_SEQUENCE: Final = (DR_FOUNDATION, PRIMARY_REGION, DR_STANDBY)


@dataclass(frozen=True)
class DeployStep:
    """One `cdk deploy` of the deploy order: a stage and the stacks (construct ids) it deploys."""

    what: str
    stage: str
    stacks: tuple[str, ...]
    role: RegionRole
    whole_stage: bool  # the step deploys every stack of its stage

    def selectors(self) -> list[str]:
        if self.whole_stage:
            return [f"{self.stage}/*"]
        return [f"{self.stage}/{stack}" for stack in self.stacks]


class UnsteppedStackError(ValueError):
    def __init__(self, stack: str) -> None:
        super().__init__(f"{stack} was built outside every deploy step of stacks/deploy_steps.py STEP_SEQUENCE")


def mark(stacks: Iterable[cdk.Stack], kind: StepKind) -> None:
    """Every stack in `stacks` deploys in the step of `kind` (metadata in the manifest only)."""
    for stack in stacks:
        stack.node.add_metadata(DEPLOY_STEP_METADATA, kind.what)


def step_of(stack: cdk.Stack) -> str | None:
    """The step a built stack is marked with, or None."""
    marks = [entry.data for entry in stack.node.metadata if entry.type == DEPLOY_STEP_METADATA]
    return str(marks[-1]) if marks else None


def _order(
    deployment: Deployment, stacks_by_step: dict[StepKind, list[str]], stage_stacks: dict[str, int]
) -> list[DeployStep]:
    """The steps in `STEP_SEQUENCE` order, skipping a step that built nothing (no standby).

    `stacks_by_step`: the construct ids each step holds, in build order; `stage_stacks`: the
    number of stacks in each stage, so a step that holds all of them deploys `<stage>/*`.
    """
    names = DeploymentNames.of(deployment)
    steps = []
    for kind in STEP_SEQUENCE:
        stacks = tuple(stacks_by_step.get(kind, ()))
        if not stacks:
            continue
        stage = names.prefix(kind.role)
        steps.append(DeployStep(kind.what, stage, stacks, kind.role, len(stacks) == stage_stacks.get(stage, 0)))
    return steps


def steps_in_assembly(assembly: Path, deployment: Deployment) -> list[DeployStep]:
    """The deploy order of `deployment` as the synthesized `assembly` (a command-line synth) built it."""
    names = DeploymentNames.of(deployment)
    by_step: dict[StepKind, list[str]] = {}
    stage_stacks: dict[str, int] = {}
    kinds = {(kind.role, kind.what): kind for kind in STEP_SEQUENCE}
    for role in (RegionRole.DR, RegionRole.PRIMARY):
        stepped = marked_stacks(_stage_assembly(assembly, names.prefix(role), deployment))
        stage = names.prefix(role)
        stage_stacks[stage] = len(stepped)
        for display_name, what in stepped.items():
            kind = kinds.get((role, what)) if what is not None else None
            if kind is None:
                raise UnsteppedStackError(display_name)
            by_step.setdefault(kind, []).append(display_name.split("/")[-1])
    return _order(deployment, by_step, stage_stacks)


def _stage_assembly(assembly: Path, stage: str, deployment: Deployment) -> Path:
    """The stage's nested assembly, if the last synth into `assembly` wrote it (its top manifest
    names it: a directory left by an earlier, larger synth does not count)."""
    top = assembly / "manifest.json"
    nested = json.loads(top.read_text()).get("artifacts", {}) if top.exists() else {}
    artifact = nested.get(f"assembly-{stage}", {})
    if artifact.get("type") != "cdk:cloud-assembly":
        raise FileNotFoundError(
            f"{assembly} holds no {stage}: synthesize {deployment.name} first (python -m tooling.deploy)"
        )
    return assembly / str(artifact["properties"]["directoryName"])


def marked_stacks(assembly: Path) -> dict[str, str | None]:
    """Display name (`au-production-dr/Keys`) -> its deploy step, for each stack of one assembly's manifest."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    return {
        artifact.get("displayName", artifact_id): _marked_step(assembly, artifact)
        for artifact_id, artifact in manifest.get("artifacts", {}).items()
        if artifact.get("type") == "aws:cloudformation:stack"
    }


def _marked_step(assembly: Path, artifact: dict[str, Any]) -> str | None:
    """The stack's mark, in the manifest or (CDK >= 2.178) the artifact's `additionalMetadataFile`."""
    metadata: dict[str, list[dict[str, Any]]] = dict(artifact.get("metadata", {}))
    if extra := artifact.get("additionalMetadataFile"):
        metadata.update(json.loads((assembly / extra).read_text()))
    for entries in metadata.values():
        for entry in entries:
            if entry.get("type") == DEPLOY_STEP_METADATA:
                return str(entry["data"])
    return None

"""Evaluate the DataSecurity rules over a synthesized cloud assembly, in Python, in one pass.

The engine reads every stack template of the assembly once (they are on disk before
policy validation runs), builds a `StackView` per stack with its deployment from
config, and runs every rule on every resource it applies to. The pack
(`policies/data_security.py`) and the auditor's report (`policies/report.py`) both use
it, so the report and the gate can never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config import PlatformConfig
from policies.rules import ALL_RULES
from policies.rules.model import Compliance, Resource, Rule, StackView


@dataclass(frozen=True)
class Evaluation:
    rule_id: str
    clause: str
    stack: str
    region: str
    path: str
    logical_id: str
    resource_type: str
    status: Compliance
    detail: str

    def to_json(self) -> dict[str, Any]:
        # What {**dataclasses.asdict(self), "status": ...} gives (same keys, same order), without
        # asdict's recursive deep copy: 14,859 evaluations for the whole app made it ~1 s per synth.
        return {
            "rule_id": self.rule_id,
            "clause": self.clause,
            "stack": self.stack,
            "region": self.region,
            "path": self.path,
            "logical_id": self.logical_id,
            "resource_type": self.resource_type,
            "status": self.status.value,
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evaluation:
        """The inverse of `to_json` (a synth worker's evaluations, stacks/parallel_synth.py)."""
        return cls(**{**data, "status": Compliance(data["status"])})


def _stack_artifacts(directory: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    manifest = json.loads((directory / "manifest.json").read_text())
    for artifact in manifest.get("artifacts", {}).values():
        kind = artifact.get("type")
        if kind == "aws:cloudformation:stack":
            yield directory, artifact
        elif kind == "cdk:cloud-assembly":
            yield from _stack_artifacts(directory / artifact["properties"]["directoryName"])


def template_files(outdir: Path) -> list[Path]:
    """Every stack template of the cloud assembly at `outdir`, read from its manifests (not a glob:
    an outdir may still hold the nested assemblies of an earlier, larger synth)."""
    return [
        directory / artifact["properties"]["templateFile"] for directory, artifact in _stack_artifacts(Path(outdir))
    ]


def _paths_by_logical_id(directory: Path, artifact: dict[str, Any]) -> dict[str, str]:
    metadata: dict[str, Any] = dict(artifact.get("metadata") or {})
    extra = artifact.get("additionalMetadataFile")
    if extra and (directory / extra).exists():
        metadata.update(json.loads((directory / extra).read_text()))
    paths: dict[str, str] = {}
    for path, entries in metadata.items():
        for entry in entries:
            if entry.get("type") == "aws:cdk:logicalId":
                paths[str(entry["data"])] = path.lstrip("/")
    return paths


def load_assembly(outdir: Path, config: PlatformConfig) -> list[StackView]:
    """Every stack of the cloud assembly at `outdir`, with its deployment and siblings."""
    production = [d for d in config.deployments if d.is_production]
    production_accounts = frozenset(d.account for d in production)
    production_names = frozenset(d.name for d in production)
    stacks: list[StackView] = []
    for directory, artifact in _stack_artifacts(Path(outdir)):
        properties = artifact.get("properties", {})
        template = json.loads((directory / properties["templateFile"]).read_text())
        paths = _paths_by_logical_id(directory, artifact)
        outputs: dict[str, Any] = template.get("Outputs") or {}
        _, _, env = str(artifact.get("environment", "aws://unknown/unknown")).partition("aws://")
        account, _, region = env.partition("/")
        name = str(properties.get("stackName") or artifact.get("displayName", ""))
        deployment = next((d for d in config.deployments if name.startswith(f"{d.name}-")), None)
        pipeline = next((p for p in config.pipelines if name == p.name or name.startswith(f"{p.name}-")), None)
        role = None
        if deployment is not None:
            role = name[len(deployment.name) + 1 :].split("-", 1)[0]
        stacks.append(
            StackView(
                name=name,
                region=region,
                account=account,
                resources={
                    logical_id: Resource.from_template(logical_id, raw, paths.get(logical_id, ""))
                    for logical_id, raw in (template.get("Resources") or {}).items()
                },
                deployment=deployment,
                role=role,
                pipeline=pipeline,
                termination_protection=bool(properties.get("terminationProtection")),
                production_accounts=production_accounts,
                production_names=production_names,
                outputs={key: output.get("Value") for key, output in outputs.items()},
                exports={
                    str(output["Export"]["Name"]): output.get("Value")
                    for output in outputs.values()
                    if isinstance((output.get("Export") or {}).get("Name"), str)
                },
            )
        )
    for stack in stacks:
        stack.assembly = stacks
        if stack.deployment is not None:
            stack.deployment_stacks = [s for s in stacks if s.deployment == stack.deployment]
    return stacks


def evaluate_resource(
    resource: Resource, stack: StackView, rules: Iterable[Rule] = ALL_RULES, *, applicable: bool = False
) -> Iterator[Evaluation]:
    """Every rule of `rules` that applies to the resource's type (`applicable`: they all do)."""
    for rule in rules:
        if not applicable and not rule.applies_to(resource.type):
            continue
        try:
            result = rule.check(resource, stack)
            status, detail = result.status, result.detail
        except Exception as error:  # a rule that cannot read a resource fails closed
            status, detail = Compliance.NON_COMPLIANT, f"rule error ({type(error).__name__}: {error})"
        yield Evaluation(
            rule_id=rule.id,
            clause=rule.clause,
            stack=stack.name,
            region=stack.region,
            path=resource.path or f"{stack.name}/{resource.logical_id}",
            logical_id=resource.logical_id,
            resource_type=resource.type,
            status=status,
            detail=detail,
        )


def evaluate(stacks: Iterable[StackView], rules: Iterable[Rule] = ALL_RULES) -> list[Evaluation]:
    chosen = tuple(rules)
    by_type: dict[str, tuple[Rule, ...]] = {}  # `applies_to` once per resource type, not per resource

    def applicable(resource_type: str) -> tuple[Rule, ...]:
        if resource_type not in by_type:
            by_type[resource_type] = tuple(rule for rule in chosen if rule.applies_to(resource_type))
        return by_type[resource_type]

    return [
        evaluation
        for stack in stacks
        for resource in stack.resources.values()
        if resource.type != "AWS::CDK::Metadata"
        for evaluation in evaluate_resource(resource, stack, applicable(resource.type), applicable=True)
    ]

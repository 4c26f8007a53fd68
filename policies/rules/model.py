"""The rule model: a resource, its stack, the deployment context, a result, and the `@rule` decorator.

Rules are pure functions `check(resource, stack) -> Result`. `resource` is one
resource of a synthesized CloudFormation template (resolved JSON, as written to the
cloud assembly); `stack` is the template it lives in, with the deployment it belongs
to and the sibling stacks of the same deployment (for cross-resource rules). No rule
touches CDK constructs or the jsii bridge, so rules are fast and testable on dicts.

`stack.resolve(value)` follows a reference to the resource it names: `Ref` / `Fn::GetAtt` in the
same template, and across stacks the outputs that CDK's cross-stack references read
(`Fn::GetStackOutput`, the weak references of cdk.json, and `Fn::ImportValue`), so a rule about a
resource's key in another stack (the Keys stack) is one rule and its test.

Rule id scheme: `DataSecurity-<CLAUSE>-<Topic>`, where CLAUSE is the POLICY.md clause
id without its dash (`BAK-2` -> `BAK2`) and Topic names what is checked
(`DataSecurity-BAK2-ComputeDaily0300`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from config import DeliveryPipeline, Deployment
from config.policy import retention_minimum
from policies.rules.cfn import ref_id, tags_of

PACK_NAME = "DataSecurity"


class Compliance(StrEnum):
    COMPLIANT = "COMPLIANT"
    NON_COMPLIANT = "NON_COMPLIANT"
    NOT_APPLICABLE = "NOT_APPLICABLE"


@dataclass(frozen=True)
class Result:
    status: Compliance
    detail: str = ""


def ok(detail: str = "") -> Result:
    return Result(Compliance.COMPLIANT, detail)


def fail(detail: str) -> Result:
    return Result(Compliance.NON_COMPLIANT, detail)


def na(detail: str = "") -> Result:
    return Result(Compliance.NOT_APPLICABLE, detail)


@dataclass(frozen=True)
class Resource:
    """One resource of a synthesized template."""

    logical_id: str
    type: str
    properties: Mapping[str, Any]
    deletion_policy: str | None = None
    update_replace_policy: str | None = None
    path: str = ""

    @classmethod
    def from_template(cls, logical_id: str, raw: Mapping[str, Any], path: str = "") -> Resource:
        return cls(
            logical_id=logical_id,
            type=str(raw.get("Type", "")),
            properties=raw.get("Properties") or {},
            deletion_policy=raw.get("DeletionPolicy"),
            update_replace_policy=raw.get("UpdateReplacePolicy"),
            path=path,
        )

    def prop(self, *keys: str | int, default: Any = None) -> Any:
        value: Any = self.properties
        for key in keys:
            if isinstance(key, int):
                if not isinstance(value, list) or key >= len(value):
                    return default
            elif not isinstance(value, Mapping) or key not in value:
                return default
            value = value[key]
        return value

    @property
    def tags(self) -> dict[str, str]:
        return tags_of(self.properties.get("Tags"))


@dataclass
class StackView:
    """One synthesized stack plus what cross-resource rules need to know about its world."""

    name: str
    region: str
    account: str
    resources: dict[str, Resource]
    deployment: Deployment | None = None
    role: str | None = None  # "primary" | "dr"
    pipeline: DeliveryPipeline | None = None  # a pipeline stack or artifact store (stacks/pipeline.py)
    termination_protection: bool = False
    production_accounts: frozenset[str] = frozenset()
    production_names: frozenset[str] = frozenset()
    # Every stack of the same deployment (all regions), this one included.
    deployment_stacks: list[StackView] = field(default_factory=list)
    outputs: Mapping[str, Any] = field(default_factory=dict)  # output name -> its Value
    exports: Mapping[str, Any] = field(default_factory=dict)  # export name -> the exporting output's Value
    # Every stack of the synth, for references across stacks (empty: the deployment's stacks).
    assembly: list[StackView] = field(default_factory=list)

    def of_type(self, *types: str) -> Iterator[Resource]:
        return (r for r in self.resources.values() if r.type in types)

    @property
    def region_stacks(self) -> list[StackView]:
        """Stacks of the same deployment in the same region (the same stage)."""
        same = [s for s in self.deployment_stacks if s.region == self.region]
        return same or [self]

    def in_region(self, *types: str) -> Iterator[tuple[StackView, Resource]]:
        for stack in self.region_stacks:
            for resource in stack.of_type(*types):
                yield stack, resource

    def get(self, value: Any) -> Resource | None:
        """The in-stack resource a `Ref` / `Fn::GetAtt` points to."""
        target = ref_id(value)
        return self.resources.get(target) if target else None

    def resolve(self, value: Any) -> Target | None:
        """The resource `value` refers to, in this stack or another of the synth (module docstring);
        None for a literal, or a reference that leads out of the synth or to no resource."""
        view, current = self, value
        for _ in range(_MAX_REFERENCE_HOPS):
            target = ref_id(current)
            if target is not None:
                resource = view.resources.get(target)
                return Target(view, resource) if resource is not None else None
            source = view._output_read_by(current)
            if source is None:
                return None
            view, current = source
        return None

    def _output_read_by(self, value: Any) -> tuple[StackView, Any] | None:
        """The stack and output value a `Fn::GetStackOutput` or `Fn::ImportValue` reads."""
        if not isinstance(value, Mapping) or len(value) != 1:
            return None
        world = self.assembly or self.deployment_stacks or [self]
        spec = value.get("Fn::GetStackOutput")
        if isinstance(spec, Mapping):
            region, name, output = spec.get("Region", self.region), spec.get("StackName"), str(spec.get("OutputName"))
            for view in world:
                if (view.name, view.region) == (name, region) and output in view.outputs:
                    return view, view.outputs[output]
        export = value.get("Fn::ImportValue")
        if isinstance(export, str):
            for view in world:
                if (view.account, view.region) == (self.account, self.region) and export in view.exports:
                    return view, view.exports[export]
        return None

    @property
    def allowed_regions(self) -> tuple[str, ...]:
        """HOST-2: the regions of the stack's jurisdiction (its deployment's or its pipeline's)."""
        if self.deployment is not None:
            return self.deployment.allowed_regions
        if self.pipeline is not None:
            return self.pipeline.allowed_regions
        return ()

    @property
    def is_production(self) -> bool:
        return self.deployment is not None and self.deployment.is_production

    def retention_days(self, field: str) -> int:
        """The retention (days) a rule demands for a `Retention` field: the deployment's configured value,
        never below the policy minimum of `config/policy.py` (which alone applies without a deployment)."""
        minimum = retention_minimum(field)
        if self.deployment is None:
            return minimum
        return max(minimum, int(getattr(self.deployment.retention, field)))


@dataclass(frozen=True)
class Target:
    """What a reference resolves to: a resource and the stack that holds it."""

    stack: StackView
    resource: Resource


_MAX_REFERENCE_HOPS = 8  # output -> output chains; a cycle cannot be synthesized, this only bounds a bad input

Check = Callable[[Resource, StackView], Result]


@dataclass(frozen=True)
class Rule:
    """A rule: id suffix, clause, the promise it checks, the types it applies to."""

    suffix: str  # "BAK2-ComputeDaily0300"
    clause: str  # "BAK-2"
    types: tuple[str, ...]  # resource types; ("*",) for every resource
    info: str  # what the clause promises (the finding's message)
    explanation: str  # why the rule exists, which seed commitment
    check: Check

    @property
    def id(self) -> str:
        return f"{PACK_NAME}-{self.suffix}"

    def applies_to(self, resource_type: str) -> bool:
        return "*" in self.types or resource_type in self.types


def rule(suffix: str, clause: str, types: tuple[str, ...], info: str, explanation: str) -> Callable[[Check], Rule]:
    """Decorator: turn a check function into a Rule (the function stays testable as `.check`)."""
    if not suffix.startswith(clause.replace("-", "")):
        raise ValueError(f"rule suffix {suffix!r} must start with its clause {clause!r} without the dash")

    def wrap(check: Check) -> Rule:
        return Rule(suffix=suffix, clause=clause, types=types, info=info, explanation=explanation, check=check)

    return wrap

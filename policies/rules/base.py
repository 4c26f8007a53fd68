"""The types every rule shares: a resource, its stack, the deployment context, a result.

Rules are pure functions `check(resource, stack) -> Result`. `resource` is one
resource of a synthesized CloudFormation template (resolved JSON, as written to the
cloud assembly); `stack` is the template it lives in, with the deployment it belongs
to and the sibling stacks of the same deployment (for cross-resource rules). No rule
touches CDK constructs or the jsii bridge, so rules are fast and testable on dicts.

Rule id scheme: `DataSecurity-<CLAUSE>-<Topic>`, where CLAUSE is the POLICY.md clause
id without its dash (`BAK-2` -> `BAK2`) and Topic names what is checked
(`DataSecurity-BAK2-ComputeDaily0300`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from config import Deployment

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
    termination_protection: bool = False
    production_accounts: frozenset[str] = frozenset()
    production_names: frozenset[str] = frozenset()
    # Every stack of the same deployment (all regions), this one included.
    deployment_stacks: list[StackView] = field(default_factory=list)

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

    @property
    def is_production(self) -> bool:
        return self.deployment is not None and self.deployment.is_production


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


# --- helpers over CloudFormation JSON ------------------------------------------------


def ref_id(value: Any) -> str | None:
    """The logical id in `{"Ref": X}` or `{"Fn::GetAtt": [X, attr]}`, else None."""
    if isinstance(value, Mapping) and len(value) == 1:
        if "Ref" in value and isinstance(value["Ref"], str):
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            if isinstance(target, list) and target:
                return str(target[0])
            if isinstance(target, str):
                return target.split(".")[0]
    return None


def refs_in(value: Any) -> set[str]:
    """Every logical id referenced anywhere inside `value`."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        target = ref_id(item)
        if target:
            found.add(target)
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def flatten(value: Any) -> str:
    """A string value with `Fn::Join` applied and other intrinsics as `{...}` placeholders."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if isinstance(value, Mapping) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return str(sep).join(flatten(p) for p in parts)
    if isinstance(value, Mapping) and "Fn::Sub" in value:
        template = value["Fn::Sub"]
        return template if isinstance(template, str) else flatten(template[0])
    if isinstance(value, Mapping) and ref_id(value):
        return "{" + str(ref_id(value)) + "}"
    return "{intrinsic}"


def strings_in(value: Any) -> Iterator[str]:
    """Every string in `value` (joins flattened), for pattern rules such as ARN regions."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        if "Fn::Join" in value or "Fn::Sub" in value:
            yield flatten(value)
            return
        for key, item in value.items():
            if key in ("Ref",):
                continue
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def tags_of(raw: Any) -> dict[str, str]:
    """CloudFormation tags in either shape: `[{"Key","Value"}]` or a `{k: v}` map."""
    if isinstance(raw, Mapping):
        if "Tags" in raw:  # ASG / some types nest
            return tags_of(raw["Tags"])
        return {str(k): flatten(v) for k, v in raw.items()}
    tags: dict[str, str] = {}
    for item in as_list(raw):
        if isinstance(item, Mapping) and "Key" in item:
            tags[str(item["Key"])] = flatten(item.get("Value", ""))
    return tags


def statements(document: Any) -> list[Mapping[str, Any]]:
    if not isinstance(document, Mapping):
        return []
    return [s for s in as_list(document.get("Statement")) if isinstance(s, Mapping)]


def actions_of(statement: Mapping[str, Any]) -> list[str]:
    return [flatten(a) for a in as_list(statement.get("Action"))]


def action_matches(pattern: str, action: str) -> bool:
    """IAM wildcard match, case-insensitive (`s3:*` matches `s3:GetObject`)."""
    regex = "^" + re.escape(pattern.lower()).replace("\\*", ".*").replace("\\?", ".") + "$"
    return re.match(regex, action.lower()) is not None


def grants(statement: Mapping[str, Any], action: str) -> bool:
    """Does an Allow statement grant `action` (its Action patterns cover it)?"""
    if statement.get("Effect") != "Allow":
        return False
    return any(action_matches(pattern, action) for pattern in actions_of(statement))


REGION_PATTERN = re.compile(
    r"\b((?:[a-z]{2})(?:-gov|-iso[a-z]?)?-(?:north|south|east|west|central|northeast|southeast|northwest|southwest)-\d)(?![0-9])"
)


def regions_in(value: Any) -> set[str]:
    """Every AWS region name (or AZ, reduced to its region) that appears in `value`."""
    found: set[str] = set()
    for text in strings_in(value):
        found.update(match.group(1) for match in REGION_PATTERN.finditer(text))
    return found


def arn_region(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 4 and parts[0] == "arn" and parts[3] else None


def announced_window(resource: Resource, stack: StackView) -> Result:
    """OPS-5: a resource's PreferredMaintenanceWindow equals the configured one (RDS and Redis share the format)."""
    if stack.deployment is None:
        return fail("no deployment, so no announced window")
    wanted = stack.deployment.maintenance.rds_window
    actual = resource.prop("PreferredMaintenanceWindow")
    return (
        ok(wanted)
        if str(actual).lower() == wanted
        else fail(f"PreferredMaintenanceWindow={actual!r}, announced {wanted}")
    )

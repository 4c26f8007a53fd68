"""A small evaluator of one IAM policy document, for the bootstrap policies' tests.

It models what those documents use, as IAM's policy evaluation logic states it
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html): an explicit
Deny wins over any Allow; Action/NotAction and Resource/NotResource with `*` and `?` wildcards (actions
case-insensitively); the condition operators StringEquals, StringNotEquals, ArnLike, ArnNotEquals, where a
negated operator matches a key the request lacks and a positive one does not
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
An operator it does not know fails the test rather than guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal

Decision = Literal["Allow", "Deny", "ImplicitDeny"]


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    if "Action" in statement:
        return any(fnmatchcase(action.lower(), p.lower()) for p in _as_list(statement["Action"]))
    return not any(fnmatchcase(action.lower(), p.lower()) for p in _as_list(statement["NotAction"]))


def _resource_matches(statement: Mapping[str, Any], resource: str) -> bool:
    if "Resource" in statement:
        return any(fnmatchcase(resource, p) for p in _as_list(statement["Resource"]))
    return not any(fnmatchcase(resource, p) for p in _as_list(statement["NotResource"]))


def _condition_matches(operator: str, key: str, values: list[str], context: Mapping[str, str]) -> bool:
    present = key in context
    value = context.get(key, "")
    if operator == "StringEquals":
        return present and value in values
    if operator == "StringNotEquals":
        return not present or value not in values
    if operator == "ArnLike":
        return present and any(fnmatchcase(value, p) for p in values)
    if operator == "ArnNotEquals":
        return not present or value not in values
    raise AssertionError(f"the evaluator does not model {operator}")


def _matches(statement: Mapping[str, Any], request: Request) -> bool:
    if not (_action_matches(statement, request.action) and _resource_matches(statement, request.resource)):
        return False
    for operator, keys in statement.get("Condition", {}).items():
        for key, values in keys.items():
            if not _condition_matches(operator, key, _as_list(values), request.context):
                return False
    return True


def evaluate(document: Mapping[str, Any], request: Request) -> Decision:
    matching = [s for s in document["Statement"] if _matches(s, request)]
    if any(s["Effect"] == "Deny" for s in matching):
        return "Deny"
    return "Allow" if any(s["Effect"] == "Allow" for s in matching) else "ImplicitDeny"


def denying_sids(document: Mapping[str, Any], request: Request) -> set[str]:
    return {s.get("Sid", "?") for s in document["Statement"] if s["Effect"] == "Deny" and _matches(s, request)}

"""IAM policy documents: their statements, their actions, and IAM's wildcard action matching."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from policies.rules.cfn import as_list, flatten


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

"""Reading resolved CloudFormation JSON: references, intrinsic functions, tags, region names in strings."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any


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


def is_customer_key(value: Any) -> bool:
    """A KMS key property that names a key, and not an AWS-managed one by its `alias/aws/...` alias."""
    return bool(value) and not (isinstance(value, str) and value.startswith("alias/aws/"))


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

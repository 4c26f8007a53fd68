"""SSM: `AWS::SSM::Parameter` whose `Tags` is the template's key-value map, or that has no `Name`."""

from __future__ import annotations

from typing import Any

from moto.ssm.models import Parameter

from tooling.emulator.patch import Patch

_create_parameter: Any = Parameter.create_from_cloudformation_json


def _tag_list(properties: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's `Tags` of a parameter is a map; moto's `put_parameter` wants Key/Value pairs."""
    tags = properties.get("Tags")
    if isinstance(tags, dict):
        return {**properties, "Tags": [{"Key": key, "Value": str(value)} for key, value in tags.items()]}
    return properties


def create_parameter_with_tag_map(
    resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
) -> Parameter:
    properties = _tag_list(cloudformation_json.get("Properties", {}))
    if not properties.get("Name"):  # AWS names it; moto passes the generated name but reads only `Name`
        properties = {**properties, "Name": resource_name}
    fixed = {**cloudformation_json, "Properties": properties}
    parameter: Parameter = _create_parameter(resource_name, fixed, account_id, region_name, **kwargs)
    return parameter


def _apply_tag_map() -> None:
    # moto's update deletes, then calls `cls.create_from_cloudformation_json`: this one.
    Parameter.create_from_cloudformation_json = staticmethod(create_parameter_with_tag_map)  # type: ignore[method-assign]


PATCHES = [
    Patch(
        "ssm",
        "cloudformation-parameter-tags",
        "a template's Tags map fails put_parameter with TypeError (moto expects Key/Value pairs); AWS takes the map",
        _apply_tag_map,
    ),
]

"""What the emulator's own CloudFormation models share: a resource named by its `Name` property with one
`Fn::GetAtt` attribute, and the registration of a new model with moto's CloudFormation.

moto finds models as the direct subclasses of `CloudFormationModel`
(`moto.cloudformation.parsing.get_model_list`), so `NamedResource` is a mixin beside it, never a base
of it: `class PipelineModel(NamedResource, CloudFormationModel)`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from moto.cloudformation import parsing


class NamedResource:
    """`Ref` is the physical id (a name, or an ARN where the type's reference says so); `ATTRIBUTE` is the
    one `Fn::GetAtt` attribute, answered by `attribute()`."""

    TYPE: ClassVar[str]
    ATTRIBUTE: ClassVar[str]

    def __init__(self, account_id: str, region: str, physical_id: str) -> None:
        self.account_id = account_id
        self.region = region
        self.physical_id = physical_id

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == cls.ATTRIBUTE

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name != self.ATTRIBUTE:
            raise KeyError(attribute_name)
        return self.attribute()

    def attribute(self) -> str:
        raise NotImplementedError


def register_models(*models: Any) -> None:
    """moto caches its model map once the first template is parsed: rebuild it so it finds `models`."""
    parsing.get_model_map.cache_clear()
    found = parsing.get_model_map()
    for model in models:
        assert found[model.cloudformation_type()] is model, model

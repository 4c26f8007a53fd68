"""`moto_server` with the few CloudFormation calls the CDK CLI needs that moto lacks.

Emulator-only: the templates are the same for AWS and for moto; this file only
teaches the emulator `UpdateTerminationProtection`, which the CDK CLI calls for
every stack with termination protection (all production stacks, BAK-8). moto
5.2.5 answers it with "not implemented", which fails the deploy. It also fixes
moto's CloudFormation handler for `AWS::KMS::Key`, which passes the template's
`Tags` (Key/Value) to a tagging service that expects TagKey/TagValue and fails
the stack with KeyError 'TagKey'.
"""

from __future__ import annotations

import sys
from typing import Any

from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult
from moto.kms.models import Key
from moto.server import main as moto_server_main


def update_termination_protection(self: CloudFormationResponse) -> ActionResult:
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    stack.enable_termination_protection = bool(self._get_bool_param("EnableTerminationProtection"))
    return ActionResult({"StackId": stack.stack_id})


_create_key_from_cloudformation = Key.create_from_cloudformation_json


def create_key_from_cloudformation(
    resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
) -> Key:
    properties = dict(cloudformation_json["Properties"])
    properties["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in properties.get("Tags", [])]
    fixed = {**cloudformation_json, "Properties": properties}
    return _create_key_from_cloudformation(resource_name, fixed, account_id, region_name, **kwargs)


def install() -> None:
    CloudFormationResponse.update_termination_protection = update_termination_protection  # type: ignore[attr-defined]
    Key.create_from_cloudformation_json = staticmethod(create_key_from_cloudformation)  # type: ignore[method-assign]


if __name__ == "__main__":
    install()
    moto_server_main(sys.argv[1:])

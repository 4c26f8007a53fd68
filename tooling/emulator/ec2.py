"""EC2: a launch template version launches instances whatever way its user data was given.

moto asserts that a version's `UserData` is its own Base64 wrapper; a version created through
`CreateLaunchTemplateVersion` (the release, OPS-7) or from a template keeps the plain Base64
string, and the next Auto Scaling launch from it fails (HTTP 500). EC2 stores the Base64 text
either way and launches from it:
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RequestLaunchTemplateData.html (UserData).
"""

from __future__ import annotations

from typing import Any

from moto.core.types import Base64EncodedString
from moto.ec2.models.launch_templates import LaunchTemplateVersion

from tooling.emulator.patch import Patch

_user_data: Any = LaunchTemplateVersion.user_data


def user_data_as_stored(self: LaunchTemplateVersion) -> Base64EncodedString | None:
    value = self.data.get("UserData")
    if isinstance(value, str):
        return Base64EncodedString(value)
    result: Base64EncodedString | None = _user_data.fget(self)
    return result


def _apply_user_data() -> None:
    LaunchTemplateVersion.user_data = property(user_data_as_stored)  # type: ignore[method-assign,assignment]


PATCHES = [
    Patch(
        "ec2",
        "launch-template-user-data",
        "a launch template version's plain Base64 UserData fails every later launch (AssertionError, HTTP 500)",
        _apply_user_data,
    ),
]

"""IAM: a role's permissions boundary must be an existing managed policy (ACC-1, issue 18 item 1).

moto 5.2.5 checks only the boundary ARN's form, so a role whose boundary policy was never created
is created anyway. AWS refuses it: CreateRole and PutRolePermissionsBoundary fail with
`NoSuchEntity` ("Scope ARN: <arn> does not exist or is not attachable") when the policy does not
exist in the account (https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePermissionsBoundary.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html). With this, a
deploy into the emulator fails, as it would on AWS, unless the bootstrap created the workload
boundary first (tooling/bootstrap_policy.py). AWS managed policies are not checked (moto loads them
only when asked to).
"""

from __future__ import annotations

from typing import Any

from moto.iam.exceptions import NotFoundException
from moto.iam.models import IAMBackend

from tooling.emulator.patch import Patch

_original_create_role = IAMBackend.create_role
_original_put_boundary = IAMBackend.put_role_permissions_boundary


def _require_boundary_policy(backend: IAMBackend, boundary: str | None) -> None:
    if not boundary or ":iam::aws:policy/" in boundary:
        return
    if boundary not in backend.managed_policies:
        raise NotFoundException(f"Scope ARN: {boundary} does not exist or is not attachable.")


def _create_role(self: IAMBackend, role_name: str, assume_role_policy_document: str, path: str,
                 permissions_boundary: str | None, *args: Any, **kwargs: Any) -> Any:  # fmt: skip
    _require_boundary_policy(self, permissions_boundary)
    return _original_create_role(self, role_name, assume_role_policy_document, path, permissions_boundary,
                                 *args, **kwargs)  # fmt: skip


def _put_role_permissions_boundary(self: IAMBackend, role_name: str, permissions_boundary: str) -> None:
    _require_boundary_policy(self, permissions_boundary)
    _original_put_boundary(self, role_name, permissions_boundary)


def _apply_boundary_must_exist() -> None:
    IAMBackend.create_role = _create_role  # type: ignore[method-assign]
    IAMBackend.put_role_permissions_boundary = _put_role_permissions_boundary  # type: ignore[method-assign]


PATCHES = [
    Patch(
        "iam",
        "boundary-must-exist",
        "a role whose permissions boundary policy does not exist is created (AWS: NoSuchEntity)",
        _apply_boundary_must_exist,
    ),
]

"""IAM rules: no wildcard admin but break-glass, a platform boundary on every role, read-only auditor,
web tier kept away from backups (ACC-1, ACC-5)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from policies.rules.cfn import as_list, flatten, ref_id
from policies.rules.iam_match import actions_of, grants, statements
from policies.rules.model import Resource, Result, StackView, fail, na, ok, rule

POLICY_TYPES = ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::User", "AWS::IAM::Group")
ADMIN_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
READ_ONLY_POLICIES = ("ReadOnlyAccess", "SecurityAudit", "ViewOnlyAccess", "AWSCloudTrail_ReadOnlyAccess")
WRITE_PREFIXES = ("Create", "Delete", "Put", "Update", "Modify", "Attach", "Detach", "Start", "Stop", "Terminate", "Run", "Set", "Tag", "Untag", "Restore", "Reboot", "Disable", "Enable", "Revoke", "Authorize", "Add", "Remove", "Replace", "Reset", "Cancel", "Encrypt", "Decrypt", "Generate", "ReEncrypt", "Sign", "Invoke", "Publish", "Send", "Copy", "Upload", "Abort", "Associate", "Disassociate", "Register", "Deregister", "Pass", "Assume", "Import", "Export", "Change", "Execute", "Apply", "Accept", "Reject", "Rotate", "Schedule", "Restart")  # noqa: E501  # fmt: skip


def _documents(resource: Resource) -> list[Any]:
    docs = [resource.prop("PolicyDocument")]
    docs += [p.get("PolicyDocument") for p in as_list(resource.prop("Policies")) if isinstance(p, Mapping)]
    return [d for d in docs if d]


def _role_name(resource: Resource) -> str:
    return flatten(resource.prop("RoleName", default=""))


def _is_break_glass(role: Resource, stack: StackView) -> bool:
    name = _role_name(role)
    return stack.deployment is not None and name == stack.deployment.break_glass_role_name


def _attached_roles(resource: Resource, stack: StackView) -> list[Resource]:
    if resource.type == "AWS::IAM::Role":
        return [resource]
    return [
        r
        for r in (stack.get(x) for x in as_list(resource.prop("Roles")))
        if r is not None and r.type == "AWS::IAM::Role"
    ]


def _role_statements(role: Resource, stack: StackView) -> Iterator[Mapping[str, Any]]:
    for doc in _documents(role):
        yield from statements(doc)
    for policy in stack.of_type("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        if any(ref_id(r) == role.logical_id for r in as_list(policy.prop("Roles"))):
            for doc in _documents(policy):
                yield from statements(doc)


def _trusts(role: Resource, fragment: str) -> bool:
    return fragment in json.dumps(role.prop("AssumeRolePolicyDocument") or {})


def _human_role(role: Resource) -> bool:
    for statement in statements(role.prop("AssumeRolePolicyDocument")):
        principal = statement.get("Principal", {})
        if isinstance(principal, Mapping) and ("AWS" in principal or "Federated" in principal):
            return True
    return False


@rule(
    "ACC1-NoWildcardAdmin",
    "ACC-1",
    POLICY_TYPES,
    "ACC-1: least privilege; no wildcard admin except the break-glass role; this policy grants Action * on "
    "Resource * (or an admin managed policy) to a principal that is not break-glass.",
    "Seeds 002/003: only named roles hold elevated rights; others don't.",
)
def no_wildcard_admin(resource: Resource, stack: StackView) -> Result:
    if resource.type == "AWS::IAM::ManagedPolicy" and not any(resource.prop(k) for k in ("Roles", "Users", "Groups")):
        return na("not attached to any principal (a permissions boundary only caps, it never grants)")
    roles = _attached_roles(resource, stack)
    if roles and all(_is_break_glass(r, stack) for r in roles):
        return na("break-glass role: wildcard admin is its purpose (ACC-1 exception)")
    for doc in _documents(resource):
        for statement in statements(doc):
            if (
                statement.get("Effect") == "Allow"
                and "*" in actions_of(statement)
                and "*" in map(flatten, as_list(statement.get("Resource")))
            ):
                return fail(f"statement {statement.get('Sid', '?')} allows * on *")
    for arn in map(flatten, as_list(resource.prop("ManagedPolicyArns"))):
        if arn.rsplit("/", 1)[-1] in ADMIN_POLICIES:
            return fail(f"attaches {arn.rsplit('/', 1)[-1]}")
    return ok("no wildcard admin")


@rule(
    "ACC1-HumanRoleBoundary",
    "ACC-1",
    ("AWS::IAM::Role",),
    "ACC-1: team roles carry a permissions boundary; this human-assumable role has none.",
    "Seeds 002/003: elevated rights are bounded even for named roles.",
)
def human_role_boundary(resource: Resource, stack: StackView) -> Result:
    if not _human_role(resource):
        return na("assumed by a service, not by people")
    if _is_break_glass(resource, stack):
        return na("break-glass role (ACC-1 exception)")
    return ok("permissions boundary set") if resource.prop("PermissionsBoundary") else fail("no PermissionsBoundary")


def _boundary_name(resource: Resource, stack: StackView) -> str:
    """The managed policy name of the role's PermissionsBoundary: a Ref to a policy of the stack, or an ARN."""
    boundary = resource.prop("PermissionsBoundary")
    policy = stack.get(boundary)
    if policy is not None:
        return flatten(policy.prop("ManagedPolicyName", default=""))
    return flatten(boundary).rsplit("/", 1)[-1]


@rule(
    "ACC1-RoleHasPermissionsBoundary",
    "ACC-1",
    ("AWS::IAM::Role",),
    "ACC-1: every role the stacks create carries the team or the workload permissions boundary, so no deploy "
    "creates a role beyond the platform's denies (the execution policy refuses any other); this role has none "
    "or another one.",
    "Issue 18 item 1: a role created by a deploy must not become an unbounded administrator.",
)
def role_has_permissions_boundary(resource: Resource, stack: StackView) -> Result:
    if not resource.prop("PermissionsBoundary"):
        return fail("no PermissionsBoundary")
    name = _boundary_name(resource, stack)
    if stack.pipeline is not None:
        allowed: tuple[str, ...] = (stack.pipeline.boundary_name,)
    elif stack.deployment is None:
        return ok(f"permissions boundary {name}")
    else:
        allowed = (f"{stack.deployment.name}-team-boundary", stack.deployment.workload_boundary_name)
    if name not in allowed:
        return fail(f"permissions boundary {name!r} is neither {' nor '.join(allowed)}")
    return ok(f"permissions boundary {name}")


@rule(
    "ACC1-AuditorReadOnly",
    "ACC-1",
    ("AWS::IAM::Role",),
    "ACC-1: the auditor role is read-only; this auditor role can write or attaches a non-read-only policy.",
    "Seeds 002/003: auditors review, they do not change.",
)
def auditor_read_only(resource: Resource, stack: StackView) -> Result:
    if "auditor" not in _role_name(resource).lower() and "auditor" not in resource.logical_id.lower():
        return na("not the auditor role")
    for arn in map(flatten, as_list(resource.prop("ManagedPolicyArns"))):
        name = arn.rsplit("/", 1)[-1]
        if name.startswith("{") or name not in READ_ONLY_POLICIES:
            return fail(f"attaches {name}, not a read-only AWS policy")
    for statement in _role_statements(resource, stack):
        if statement.get("Effect") != "Allow":
            continue
        for action in actions_of(statement):
            verb = action.split(":", 1)[-1]
            if action == "*" or verb == "*" or verb.startswith(WRITE_PREFIXES):
                return fail(f"allows {action}")
    return ok("read-only")


BACKUP_ACTIONS = (
    "backup:StartRestoreJob",
    "backup:DeleteRecoveryPoint",
    "backup:ListRecoveryPointsByBackupVault",
    "backup-storage:MountCapsule",
)
ARCHIVE_MARKERS = ("backup", "archive", "vault")


@rule(
    "ACC5-WebRoleNoBackupAccess",
    "ACC-5",
    ("AWS::IAM::Role",),
    "ACC-5: archival backups are unreachable from public-facing servers; this EC2 instance role can reach backup "
    "vaults, archive buckets or backup keys.",
    "Seed 003: archival backups not reachable from public-facing servers.",
)
def web_role_no_backup_access(resource: Resource, stack: StackView) -> Result:
    if not _trusts(resource, "ec2.amazonaws.com"):
        return na("not an EC2 instance role")
    for arn in map(flatten, as_list(resource.prop("ManagedPolicyArns"))):
        name = arn.rsplit("/", 1)[-1]
        if (
            "Backup" in name
            or name in ADMIN_POLICIES
            or name in ("AmazonS3FullAccess", "AWSKeyManagementServicePowerUser")
        ):
            return fail(f"attaches {name}")
    for statement in _role_statements(resource, stack):
        if statement.get("Effect") != "Allow":
            continue
        targets = " ".join(flatten(r) for r in as_list(statement.get("Resource"))).lower()
        if any(grants(statement, action) for action in BACKUP_ACTIONS):
            return fail(f"statement {statement.get('Sid', '?')} grants AWS Backup actions")
        sensitive = any(marker in targets for marker in ARCHIVE_MARKERS)
        if (grants(statement, "kms:Decrypt") or grants(statement, "s3:GetObject")) and (
            sensitive or targets.strip() == "*"
        ):
            return fail(f"statement {statement.get('Sid', '?')} grants decrypt/read on {targets[:100]}")
    return ok("no backup, archive or backup-key access")


RULES = [
    no_wildcard_admin,
    human_role_boundary,
    role_has_permissions_boundary,
    auditor_read_only,
    web_role_no_backup_access,
]

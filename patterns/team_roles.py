"""Named team roles with MFA, a shared permissions boundary and scoped policies (ACC-1, HOST-5).

| role                   | may                                                                 |
|------------------------|---------------------------------------------------------------------|
| technical-director     | operator read, sessions on web instances, instance refresh, deploy  |
|                        | through the CDK bootstrap roles                                     |
| application-developer  | operator read, sessions on web instances, instance refresh, read/   |
|                        | write of its own tenant's objects (ABAC on principal tag tenant-id) |
| client-representative  | operator read, read of its own tenant's objects (ABAC)              |
| auditor                | AWS `SecurityAudit` (configuration metadata, never data)            |
| break-glass            | AWS `AdministratorAccess`, the only admin, shortest-MFA-age entry   |

Every role trusts only this account's principals that signed in with MFA, and
carries the same permissions boundary. The boundary grants nothing by itself; it
caps every role: no IAM privilege escalation (no users, keys, policy versions, roles
without this boundary, or attaching an administrator-level AWS managed policy; no assuming
the one role a deploy creates without a boundary, the hosted rotation's), no KMS key
deletion or disabling, no CloudTrail stop/delete/update, no deletion of backup recovery points or vault policies
except by the break-glass role (ACC-4), and - for every role, break-glass included -
no deletion or unlocking of audit records, no change of the audit buckets' settings
and no deletion or retention change of the trail's log group (ACC-3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from patterns.iam import ManagedPolicyRole, deny
from patterns.nag_findings import IAM5, PUBLIC_PACK_PREFIXES, iam5_resource_finding
from patterns.tagging import PATCH_GROUP
from patterns.team_actions import (
    ADMINISTRATOR_ATTACH_ACTIONS,
    ADMINISTRATOR_POLICY_ARNS,
    AUDIT_BUCKET_SETTINGS_ACTIONS,
    AUDIT_LOG_PROTECTED_ACTIONS,
    AUDIT_RECORD_DELETION_ACTIONS,
    BACKUP_DESTRUCTIVE_ACTIONS,
    CLOUDTRAIL_DISABLING_ACTIONS,
    IAM_BOUNDARY_BOUND_ACTIONS,
    IAM_ESCALATION_ACTIONS,
    KMS_DESTRUCTIVE_ACTIONS,
    OPERATOR_READ_ACTIONS,
    RELEASE_ACTIONS,
    TENANT_READ_ACTIONS,
    TENANT_WRITE_ACTIONS,
)
from patterns.tenant_access import tenant_object_grant
from policies.acknowledgments import acknowledge


@dataclass(frozen=True)
class TeamRolesProps:
    name_prefix: str  # the deployment, e.g. "au-production": IAM is global
    break_glass_role_name: str
    service_tag_value: str  # resources of this platform carry service=<value>
    web_patch_group: str  # sessions are allowed only on instances of this patch group
    # Region -> the platform's Session document there (the primary's and, with a standby, the DR's):
    # the serving web tier of either region is reached through its own logged channel (ACC-2).
    session_documents: Mapping[str, str]
    session_key: kms.IKey  # the primary's `system` key; other regions' by alias (kms:ResourceAliases)
    session_key_alias: str  # e.g. "alias/au-production/system", the same name in every region
    regions: tuple[str, ...]  # the deployment's regions (CDK bootstrap roles for deploys)
    content_bucket_name: str | None = None  # literal name: readable policies, no stack dependency
    content_key: kms.IKey | None = None
    max_session_hours: int = 1
    break_glass_max_mfa_age_seconds: int = 900
    # ACC-3: the audit buckets and their objects, and the trail's log group (config/topology.py).
    audit_bucket_arns: tuple[str, ...] = ()
    audit_log_group_arn: str | None = None
    # IAM name patterns of roles a deploy may create without a boundary (config: unbounded_role_names):
    # no team role may assume them, whatever their trust policy says (ACC-1).
    unbounded_role_names: tuple[str, ...] = ()


class TeamRoles(Construct):
    """Build in order: the boundary, the shared policies, the operating roles, the tenant-data
    policies, the auditor and the break-glass role (the config validated the props)."""

    def __init__(self, scope: Construct, id: str, *, props: TeamRolesProps) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.props = props
        self.break_glass_role_arn = stack.format_arn(
            service="iam", region="", resource="role", resource_name=props.break_glass_role_name
        )
        self.boundary = self._boundary(stack)
        # Nearer than the stack's workload boundary (stacks/base.py), so it is the one the team roles keep.
        iam.PermissionsBoundary.of(self).apply(self.boundary)
        self.operator_read = self._operator_read()
        self.release_operator = self._release_operator(stack)
        self.roles: dict[str, ManagedPolicyRole] = {}
        developer, representative = self._operating_roles(stack)
        if props.content_bucket_name is not None:
            self.tenant_read_write, self.tenant_read = self._tenant_policies(stack, developer, representative)
        self._auditor()
        self.break_glass = self._break_glass()

    # --- the steps

    def _operator_read(self) -> iam.ManagedPolicy:
        policy = iam.ManagedPolicy(
            self,
            "OperatorRead",
            managed_policy_name=f"{self.props.name_prefix}-operator-read",
            description="Read the platform's health: alarms, metrics, dashboards, instances, sessions",
            statements=[iam.PolicyStatement(sid="OperatorRead", actions=list(OPERATOR_READ_ACTIONS), resources=["*"])],
        )
        acknowledge(
            policy,
            [f"{IAM5}[Resource::*]"],
            "Describe/List/GetMetricData actions have no resource-level permissions; compensating controls: "
            "read-only actions only, no data-plane reads, permissions boundary, MFA-only trust.",
        )
        return policy

    def _operating_roles(self, stack: cdk.Stack) -> tuple[ManagedPolicyRole, ManagedPolicyRole]:
        """The director (who also deploys), the developer and the client representative; returns the
        last two, which gain the tenant-data policies."""
        director = self._role("technical-director", "Technical Director: operates and releases the platform")
        director.add_managed_policy(self.operator_read)
        director.add_managed_policy(self.release_operator)
        director.add_to_principal_policy(
            iam.PolicyStatement(
                sid="DeployThroughCdkBootstrapRoles",
                actions=["sts:AssumeRole"],
                resources=[
                    stack.format_arn(
                        service="iam",
                        region="",
                        resource="role",
                        resource_name=f"cdk-hnb659fds-{kind}-role-{stack.account}-{region}",
                    )
                    for region in self.props.regions
                    for kind in ("deploy", "file-publishing", "lookup")
                ],
            )
        )
        developer = self._role("application-developer", "Application Developer: releases and own-tenant data")
        developer.add_managed_policy(self.operator_read)
        developer.add_managed_policy(self.release_operator)
        representative = self._role("client-representative", "Client Representative: own-tenant data, read only")
        representative.add_managed_policy(self.operator_read)
        return developer, representative

    def _tenant_policies(
        self, stack: cdk.Stack, developer: ManagedPolicyRole, representative: ManagedPolicyRole
    ) -> tuple[iam.ManagedPolicy, iam.ManagedPolicy]:
        """Own-tenant read/write for the developer, read for the representative (HOST-5)."""
        read_write = self._tenant_policy(stack, "TenantDataReadWrite", (*TENANT_READ_ACTIONS, *TENANT_WRITE_ACTIONS))
        read = self._tenant_policy(stack, "TenantDataRead", TENANT_READ_ACTIONS)
        developer.add_managed_policy(read_write)
        representative.add_managed_policy(read)
        return read_write, read

    def _auditor(self) -> None:
        auditor = self._role("auditor", "Auditor: read-only configuration metadata, never data")
        auditor.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name("SecurityAudit"))
        acknowledge(
            auditor,
            ["AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/SecurityAudit]"],
            "AWS keeps SecurityAudit current with every service's read-only metadata actions; compensating "
            "controls: it grants no data reads, the permissions boundary, MFA-only trust, CloudTrail.",
        )

    def _break_glass(self) -> ManagedPolicyRole:
        role = self._role(
            "break-glass",
            "Break-glass: emergency administration, alarmed and audited",
            role_name=self.props.break_glass_role_name,
            max_mfa_age_seconds=self.props.break_glass_max_mfa_age_seconds,
        )
        role.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name("AdministratorAccess"))
        acknowledge(
            role,
            ["AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AdministratorAccess]"],
            "The single break-glass role is the platform's only administrator by design (ACC-1); compensating "
            "controls: MFA issued within 15 minutes, one-hour sessions, the permissions boundary still denies "
            "IAM escalation, key deletion and CloudTrail changes, and CloudTrail records every call.",
        )
        return role

    # --- building blocks

    def _role(
        self,
        key: str,
        description: str,
        *,
        role_name: str | None = None,
        max_mfa_age_seconds: int | None = None,
    ) -> ManagedPolicyRole:
        conditions: dict[str, dict[str, object]] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
        if max_mfa_age_seconds is not None:
            conditions["NumericLessThan"] = {"aws:MultiFactorAuthAge": max_mfa_age_seconds}
        role = ManagedPolicyRole(
            self,
            "".join(part.capitalize() for part in key.split("-")),
            role_name=role_name or f"{self.props.name_prefix}-{key}",
            description=description,
            assumed_by=iam.AccountRootPrincipal().with_conditions(conditions),
            max_session_duration=cdk.Duration.hours(self.props.max_session_hours),
            permissions_boundary=self.boundary,
        )
        self.roles[key] = role
        return role

    def _boundary(self, stack: cdk.Stack) -> iam.ManagedPolicy:
        name = f"{self.props.name_prefix}-team-boundary"
        boundary_arn = stack.format_arn(service="iam", region="", resource="policy", resource_name=name)
        boundary = iam.ManagedPolicy(
            self,
            "Boundary",
            managed_policy_name=name,
            description="Permissions boundary of every team role: caps, never grants",
            statements=self._ceiling_and_denies(boundary_arn),
        )
        self._deny_audit_tampering(boundary)
        self._deny_assuming_unbounded_roles(boundary, stack)
        acknowledge(
            boundary,
            [
                f"{IAM5}[Action::*]",
                f"{IAM5}[Resource::*]",
                *(f"{pack}-IAMPolicyNoStatementsWithAdminAccess" for pack in PUBLIC_PACK_PREFIXES),
                *(f"{pack}-IAMPolicyNoStatementsWithFullAccess" for pack in PUBLIC_PACK_PREFIXES),
            ],
            "A permissions boundary caps and never grants: it is attached to no principal as a permissions "
            "policy, so its allow-all ceiling gives nobody anything; the scoped identity policies decide. "
            "Compensating controls: its explicit denies on IAM escalation, key deletion, CloudTrail changes "
            "and backup deletion apply to every team role.",
        )
        # The execution role may not delete it (tooling/bootstrap_policy.py, DenyDeletingTheTeamBoundary):
        # CloudFormation never tries, so a failed first create's rollback completes (patterns/retention.py).
        boundary.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        return boundary

    def _ceiling_and_denies(self, boundary_arn: str) -> list[iam.PolicyStatement]:
        """The boundary's statements, a declarative table: an allow-all ceiling and the denies it holds."""
        return [
            # The ceiling. A boundary grants nothing by itself: the roles' scoped identity policies
            # decide what is allowed, and the denies below hold whatever those policies say.
            iam.PolicyStatement(sid="CeilingOnly", actions=["*"], resources=["*"]),
            deny("DenyIamEscalation", IAM_ESCALATION_ACTIONS, ["*"]),
            deny(
                "DenyRolesWithoutThisBoundary",
                IAM_BOUNDARY_BOUND_ACTIONS,
                ["*"],
                conditions={"StringNotEquals": {"iam:PermissionsBoundary": boundary_arn}},
            ),
            # Not even break-glass hands an administrator policy to another principal (ACC-1).
            deny(
                "DenyAttachingAdministratorPolicies",
                ADMINISTRATOR_ATTACH_ACTIONS,
                ["*"],
                conditions={"ArnLike": {"iam:PolicyARN": list(ADMINISTRATOR_POLICY_ARNS)}},
            ),
            deny("DenyBoundaryTampering", ["iam:DeletePolicy", "iam:DeletePolicyVersion"], [boundary_arn]),
            deny("DenyKeyDeletion", KMS_DESTRUCTIVE_ACTIONS, ["*"]),
            deny("DenyAuditTrailChanges", CLOUDTRAIL_DISABLING_ACTIONS, ["*"]),
            deny(
                "DenyBackupDeletionExceptBreakGlass",
                BACKUP_DESTRUCTIVE_ACTIONS,
                ["*"],
                conditions={"ArnNotEquals": {"aws:PrincipalArn": self.break_glass_role_arn}},
            ),
        ]

    def _deny_assuming_unbounded_roles(self, boundary: iam.ManagedPolicy, stack: cdk.Stack) -> None:
        if not self.props.unbounded_role_names:
            return
        boundary.add_statements(
            # An explicit deny: a trust policy naming a team role would otherwise suffice.
            deny(
                "DenyAssumingUnboundedRoles",
                ["sts:AssumeRole"],
                [
                    stack.format_arn(service="iam", region="", resource="role", resource_name=name)
                    for name in self.props.unbounded_role_names
                ],
            )
        )

    def _deny_audit_tampering(self, boundary: iam.ManagedPolicy) -> None:
        """ACC-3, for every team role (break-glass too): what the audit buckets' own policies deny, held
        here as well (the account's root user can replace a bucket policy, never this boundary), and the
        trail's log group, which no resource policy can protect."""
        props = self.props
        if props.audit_bucket_arns:
            boundary.add_statements(
                deny(
                    "DenyAuditRecordTampering",
                    [*AUDIT_RECORD_DELETION_ACTIONS, *AUDIT_BUCKET_SETTINGS_ACTIONS],
                    props.audit_bucket_arns,
                )
            )
        if props.audit_log_group_arn is not None:
            boundary.add_statements(
                deny("DenyAuditLogGroupTampering", AUDIT_LOG_PROTECTED_ACTIONS, [props.audit_log_group_arn])
            )

    def _release_operator(self, stack: cdk.Stack) -> iam.ManagedPolicy:
        policy = iam.ManagedPolicy(
            self,
            "ReleaseOperator",
            managed_policy_name=f"{self.props.name_prefix}-release-operator",
            description="Sessions on the web instances and instance refreshes of the platform's groups",
            statements=self._release_statements(stack),
        )
        other_region_keys = self._other_region_session_keys(policy, stack)
        self._acknowledge_release_wildcards(policy, stack, other_region_keys)
        return policy

    def _release_statements(self, stack: cdk.Stack) -> list[iam.PolicyStatement]:
        """Sessions on the web instances through the logged document, and instance refreshes (a
        declarative table of statements)."""
        props = self.props
        return [
            iam.PolicyStatement(
                sid="SessionsOnWebInstancesOnly",
                actions=["ssm:StartSession"],
                resources=self._web_instance_arns(stack),
                conditions={
                    "StringEquals": {f"ssm:resourceTag/{PATCH_GROUP}": props.web_patch_group},
                    # Session Manager checks access to the session document used, so a session
                    # without --document-name (the account default SSM-SessionManagerRunShell,
                    # which this policy does not grant) is denied (ACC-2).
                    "BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"},
                },
            ),
            iam.PolicyStatement(
                sid="SessionsThroughTheLoggedDocumentOnly",
                actions=["ssm:StartSession"],
                resources=[
                    stack.format_arn(service="ssm", region=region, resource="document", resource_name=name)
                    for region, name in sorted(props.session_documents.items())
                ],
            ),
            iam.PolicyStatement(
                sid="OwnSessionsOnly",
                actions=["ssm:ResumeSession", "ssm:TerminateSession"],
                resources=self._own_session_arns(stack),
            ),
            iam.PolicyStatement(
                sid="EncryptSessions",
                actions=["kms:GenerateDataKey"],
                resources=[props.session_key.key_arn],
            ),
            iam.PolicyStatement(
                sid="InstanceRefreshOfThisPlatform",
                actions=list(RELEASE_ACTIONS),
                resources=["*"],
                conditions={"StringEquals": {"aws:ResourceTag/service": props.service_tag_value}},
            ),
        ]

    def _other_region_session_keys(self, policy: iam.ManagedPolicy, stack: cdk.Stack) -> list[str]:
        """Lets sessions be encrypted in the standby region too; returns the key ARNs it granted."""
        props = self.props
        other_region_keys = [
            stack.format_arn(service="kms", region=region, resource="key", resource_name="*")
            for region in sorted(props.session_documents)
            if region != stack.region
        ]
        if other_region_keys:
            policy.add_statements(
                iam.PolicyStatement(
                    # Another region's key cannot be referenced across stacks: it is named by its alias.
                    sid="EncryptSessionsInOtherRegions",
                    actions=["kms:GenerateDataKey"],
                    resources=other_region_keys,
                    conditions={"ForAnyValue:StringEquals": {"kms:ResourceAliases": props.session_key_alias}},
                )
            )
        return other_region_keys

    def _acknowledge_release_wildcards(
        self, policy: iam.ManagedPolicy, stack: cdk.Stack, other_region_keys: list[str]
    ) -> None:
        wildcard_arns = [*self._web_instance_arns(stack), *self._own_session_arns(stack), *other_region_keys]
        acknowledge(
            policy,
            [*(iam5_resource_finding(stack, arn) for arn in wildcard_arns), f"{IAM5}[Resource::*]"],
            "Instance ids and session ids are created at run time, and another region's key id is not known "
            "to this stack; compensating controls: sessions only on instances tagged with the web patch group "
            "and only through the encrypted, logged session document, own sessions only (aws:userid), the "
            "other region's key only through its `system` alias (kms:ResourceAliases), instance refresh only "
            "on resources tagged with this service, MFA-only trust and the permissions boundary.",
        )

    def _web_instance_arns(self, stack: cdk.Stack) -> list[str]:
        return [
            stack.format_arn(service="ec2", region=region, resource="instance", resource_name="*")
            for region in self.props.regions
        ]

    def _own_session_arns(self, stack: cdk.Stack) -> list[str]:
        return [
            stack.format_arn(service="ssm", region=region, resource="session", resource_name="${aws:userid}-*")
            for region in self.props.regions
        ]

    def _tenant_policy(self, stack: cdk.Stack, id: str, actions: tuple[str, ...]) -> iam.ManagedPolicy:
        """ABAC (HOST-5): the caller's principal tag tenant-id selects the only prefix it can reach."""
        bucket_name = self.props.content_bucket_name
        assert bucket_name is not None
        grant = tenant_object_grant(
            stack, bucket_name=bucket_name, actions=actions, own_tenant_only=True, content_key=self.props.content_key
        )
        policy = iam.ManagedPolicy(
            self,
            id,
            managed_policy_name=f"{self.props.name_prefix}-{_kebab(id)}",
            description="Objects under tenants/<principal tag tenant-id>/ of the content bucket only (ABAC)",
            statements=grant.statements,
        )
        acknowledge(
            policy,
            [iam5_resource_finding(stack, grant.objects_arn)],
            "ABAC (HOST-5): the wildcard is the object key below the caller's own tenant prefix, "
            "tenants/${aws:PrincipalTag/tenant-id}/; compensating controls: a session without the tag "
            "matches nothing (Null condition), the key is usable only through S3, MFA-only trust, boundary.",
        )
        return policy


def _kebab(name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")

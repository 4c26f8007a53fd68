"""IAM building blocks: roles whose grants land in a customer-managed policy.

CDK's grant methods put statements into an inline `DefaultPolicy`; NIST 800-53,
HIPAA and PCI forbid inline policies (IAMNoInlinePolicy). `ManagedPolicyRole`
keeps every `grant_*` call working but routes the statements into one
`AWS::IAM::ManagedPolicy` attached to the role, so least privilege is still
computed by the constructs that know what they need.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aws_cdk import aws_iam as iam
from constructs import Construct


class ManagedPolicyRole(iam.Role):
    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        self._grants_policy: iam.ManagedPolicy | None = None

    @property
    def grants_policy(self) -> iam.ManagedPolicy:
        """The role's customer-managed grants policy, created with its first statement
        (an empty managed policy fails validation)."""
        if self._grants_policy is None:
            self._grants_policy = iam.ManagedPolicy(
                self,
                "Grants",
                description=f"Grants of {self.node.path}, managed by the constructs that need them",
                roles=[self],
            )
        return self._grants_policy

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        self.grants_policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self.grants_policy)

    def add_to_policy(self, statement: iam.PolicyStatement) -> bool:
        return self.add_to_principal_policy(statement).statement_added


def deny(
    sid: str, actions: Iterable[str], resources: Iterable[str], *, conditions: Mapping[str, Any] | None = None
) -> iam.PolicyStatement:
    """An explicit Deny for an identity policy or boundary: the caller says what, on what and when."""
    return iam.PolicyStatement(
        sid=sid, effect=iam.Effect.DENY, actions=list(actions), resources=list(resources), conditions=conditions
    )


def deny_anyone(
    sid: str, actions: Iterable[str], resources: Iterable[str], *, conditions: Mapping[str, Any] | None = None
) -> iam.PolicyStatement:
    """An explicit Deny for a resource policy, to every principal (`*`) unless `conditions` exempt one."""
    return iam.PolicyStatement(
        sid=sid,
        effect=iam.Effect.DENY,
        principals=[iam.AnyPrincipal()],
        actions=list(actions),
        resources=list(resources),
        conditions=conditions,
    )

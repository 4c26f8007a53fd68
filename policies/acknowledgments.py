"""The one way this project acknowledges a policy finding: per resource, per finding.

Every acknowledgment must name the compensating control in its reason. Tests
(tests/policies) fail on an empty reason and on an acknowledgment whose rule no
longer fires on that resource.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct

MIN_REASON_LENGTH = 40


def acknowledge(construct: IConstruct, finding_ids: list[str], reason: str) -> None:
    """Acknowledge each finding id (e.g. `NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW`) on one resource."""
    if len(reason.strip()) < MIN_REASON_LENGTH or "compensat" not in reason.lower():
        raise ValueError(
            f"acknowledgment of {finding_ids} on {construct.node.path} needs a reason of at least "
            f"{MIN_REASON_LENGTH} characters naming the compensating control"
        )
    for finding_id in finding_ids:
        cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=finding_id, reason=reason))


def acknowledge_in_public_packs(construct: IConstruct, rule: str, reason: str) -> None:
    """The same rule as the NIST 800-53 r5, HIPAA Security and PCI DSS 3.2.1 packs name it."""
    acknowledge(
        construct,
        [f"{pack}-{rule}" for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")],
        reason,
    )

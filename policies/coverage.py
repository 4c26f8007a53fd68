"""What the synth-time rules of a clause do NOT check, and where that part is verified.

A clause whose control is only partly checkable in a template must never read PASS in
the compliance report: it reads PARTIAL, with this text beside it. Keep an entry until
a rule checks the missing part; delete it then (a test keeps every key a real clause).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

NOT_CHECKED_AT_SYNTH: Final[Mapping[str, str]] = MappingProxyType(
    {
        "ENC-4": "bcrypt hashing of end-user passwords happens in the application / identity provider; "
        "templates cannot show it",
        "OPS-2": "that logs are reviewed daily is a human practice (runbooks, OPS-4)",
        "OPS-5": "the 24-hour notice before a maintenance window is a human practice (runbooks)",
        "DR-1": "failover automation within 15 minutes of the decision is measured by the game day "
        "(`./scripts/gameday`, runbooks/failover.md), not by a template; the design RPO/RTO arithmetic is in "
        "runbooks/availability.md",
        "OPS-7": "that a release really rolls out (health-gated batches, capacity at the minimum, automatic "
        "rollback on the web tier's Sev1/Sev2 alarms) and that both regions run it is tested against the emulator's "
        "instance refresh (tests/runbooks/test_release.py, runbooks/release.md), not by a template",
        "BAK-9": "the quarterly recovery from scratch and the monthly drill are runbooks (runbooks/restore_drill.md)",
    }
)

# Run-time resources that no template holds, so no rule can check them, and why they stay as they
# are (issue 17 item 5). The compliance report lists them under their clause and in a section of their own.
KNOWN_EXCEPTIONS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "ENC-1": (
            "The Synthetics canaries' Lambda log groups (`/aws/lambda/cwsyn-<canary name>-<id>`) are created by "
            "CloudWatch Synthetics with the service's default encryption, not the logs key: Synthetics creates the "
            "canary's function and appends an id of its own to the name, so the group cannot be created first. "
            "They hold the canary's step log of public health-check requests (no customer data); the run artifacts "
            "go to the encrypted ALB-log bucket.",
        ),
        "BAK-7": (
            "The same canary log groups get no retention from the templates (the name is not known at synth): "
            "set it after the first deploy with `aws logs put-retention-policy --log-group-name "
            "/aws/lambda/cwsyn-<canary name>-<id> --retention-in-days <log_retention_days>` in each web region.",
        ),
    }
)

"""OPS-4: the severity matrix and the first steps per alarm (data for `runbooks.incident_response`).

The matrix repeats `patterns.alerting.RESPONSE_TIMES` (runbooks never import CDK;
`tests/runbooks/test_incident_response.py` keeps the two equal).
"""

from __future__ import annotations

from typing import Final

# severity -> (work starts within, workaround within, fix within)
SEVERITY_MATRIX: Final[dict[int, tuple[str, str, str]]] = {
    1: ("1 hour", "4 hours", "7 hours"),
    2: ("2 hours", "48 hours", "14 days"),
    3: ("72 hours", "7 days", "30 days"),
    4: ("next planned release", "next planned release", "next planned release"),
}
PAGED: Final = (1, 2)

# (keyword in the alarm's name or metric, first steps). The first match wins; order matters.
FIRST_STEPS: Final[tuple[tuple[str, str], ...]] = (
    (
        "failover-switch",
        "Traffic is on the DR region. Confirm a failover was decided (runbooks/failover.md); if not, publish 0.",
    ),
    (
        "certificate-expiry",
        "ACM could not renew this region's certificate: its DNS validation CNAME (aws acm describe-certificate, "
        "DomainValidationOptions[].ResourceRecord) must exist in the public zone; recreate it there.",
    ),
    ("replicalag", "Check the primary's write load and the DR replica's status; a failover now loses up to this lag."),
    ("freestorage", "Check storage growth; raise allocated storage or clean up; autoscaling max may be reached."),
    ("copyjob", "Open AWS Backup copy jobs in the primary region; check the DR vault and key policy; rerun the copy."),
    (
        "restorejob",
        "A monthly restore test failed: read the restore job's message; run runbooks/restore_drill.md by hand.",
    ),
    ("backupjob", "Open AWS Backup jobs; the failed resource has no fresh recovery point: start an on-demand backup."),
    ("5xx", "Check the ALB target health and the latest release; roll back a release that started the errors."),
    ("unhealthy", "Check the web instances (Session Manager) and the ASG activity; replace unhealthy instances."),
    ("healthcheck", "Check the public endpoint from outside and the Route 53 health check's failure reason."),
    ("evict", "Redis memory pressure: check key growth and TTLs; scale the node type if it persists."),
    ("connections", "Check for connection leaks (application pools); find long-running sessions in pg_stat_activity."),
    ("cpu", "Find the top queries/processes (Performance Insights, CloudWatch); scale up if load is legitimate."),
    ("launch", "Read the ASG activity history: launch template, capacity, quota or subnet errors."),
)
DEFAULT_STEPS: Final = "Read the alarm description and metric; open an incident at the alarm's severity."


def first_steps(name: str, metric: str = "") -> str:
    text = f"{name} {metric}".lower().replace("_", "")
    for keyword, steps in FIRST_STEPS:
        if keyword in text:
            return steps
    return DEFAULT_STEPS

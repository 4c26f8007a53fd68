"""Incident response (OPS-4): list a deployment's alarms with severity, paging topic, state and first steps.

Read `runbooks/incident_response.md` first. Read-only (describe_alarms only), so a
rerun changes nothing. Exit 0: every alarm names its severity and publishes to that
severity's topic; exit 1: at least one alarm does not (it is listed as a problem);
exit 2: bad arguments or a client in a region the deployment does not use.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from config.topology import DR, PRIMARY, FailoverTopology
from runbooks import ops
from runbooks.incident_steps import PAGED, SEVERITY_MATRIX, first_steps
from runbooks.toolkit import EXIT_OK, EXIT_STEP_FAILED, RefusedError, add_deployment_args

CLAUSE = "OPS-4"
STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")
ROLES = (PRIMARY, DR)
_SEVERITY = re.compile(r"^Sev([1-4]):")
_TOPIC = re.compile(r"-sev([1-4])$")


@dataclass(frozen=True)
class AlarmRow:
    region: str
    name: str
    state: str
    severity: int | None
    topic_severities: tuple[int, ...]
    paged: bool
    first_steps: str
    problem: str = ""


def alarm_row(region: str, alarm: dict[str, Any]) -> AlarmRow:
    match = _SEVERITY.match(alarm.get("AlarmDescription") or "")
    severity = int(match.group(1)) if match else None
    topics = tuple(sorted({int(m.group(1)) for a in alarm.get("AlarmActions", []) if (m := _TOPIC.search(a))}))
    problem = ""
    if severity is None:
        problem = "description does not start with SevN:"
    elif topics != (severity,):
        problem = f"publishes to severity topic(s) {list(topics)}, not sev{severity}"
    return AlarmRow(
        region=region,
        name=alarm["AlarmName"],
        state=alarm["StateValue"],
        severity=severity,
        topic_severities=topics,
        paged=severity in PAGED,
        first_steps=first_steps(alarm["AlarmName"], str(alarm.get("MetricName", ""))),
        problem=problem,
    )


def list_alarms(topology: FailoverTopology, clients: dict[str, Any], state: str | None = None) -> list[AlarmRow]:
    """`clients`: role -> CloudWatch client of that role's region. Sorted: severity, then name."""
    rows = []
    for role, cloudwatch in clients.items():
        if role not in ROLES:
            raise RefusedError(f"role {role!r} unknown; allowed: {', '.join(ROLES)}")
        ops.require_region(cloudwatch, topology.region(role), f"{role} CloudWatch")
        kwargs: dict[str, Any] = {"AlarmNamePrefix": f"{topology.deployment}-", "AlarmTypes": ["MetricAlarm"]}
        if state:
            kwargs["StateValue"] = state
        for page in cloudwatch.get_paginator("describe_alarms").paginate(**kwargs):
            alarms = [a for a in page.get("MetricAlarms", []) if state in (None, a["StateValue"])]
            rows += [alarm_row(topology.region(role), alarm) for alarm in alarms]
    return sorted(rows, key=lambda r: (r.severity or 0, r.name))


def render(rows: Sequence[AlarmRow]) -> str:
    lines = ["severity | response (start / workaround / fix) | paged", "---|---|---"]
    lines += [
        f"Sev{s} | {' / '.join(t)} | {'yes' if s in PAGED else 'daily review'}" for s, t in SEVERITY_MATRIX.items()
    ]
    lines += ["", "state | sev | region | alarm | first steps", "---|---|---|---|---"]
    for row in rows:
        sev = f"Sev{row.severity}" if row.severity else "?"
        lines.append(f"{row.state} | {sev} | {row.region} | {row.name} | {row.problem or row.first_steps}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(
        prog="python -m runbooks.incident_response",
        description=(
            "Incident response (OPS-4): the severity matrix and every alarm of a deployment with its severity, "
            "paging topic, state and first steps. Read-only. Exit 0 all routed, 1 an alarm without a correct "
            "severity route, 2 bad arguments."
        ),
    )
    add_deployment_args(parser)
    parser.add_argument("--role", choices=(*ROLES, "both"), default="both", help="which region(s) (default both)")
    parser.add_argument("--state", choices=STATES, default=None, help="only alarms in this state")
    parser.add_argument("--json", action="store_true", help="JSON lines instead of the table")
    args = parser.parse_args(argv)
    topology = FailoverTopology.of(ops.deployment_of(parser, args))
    roles = ROLES if args.role == "both" else (args.role,)
    clients = {role: boto3.client("cloudwatch", region_name=topology.region(role)) for role in roles}
    rows = list_alarms(topology, clients, args.state)
    if args.json:
        print("\n".join(json.dumps(asdict(row)) for row in rows))
    else:
        print(render(rows))
    return EXIT_STEP_FAILED if any(row.problem for row in rows) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

"""Client construction for the DR runbooks' command lines (the automation itself takes clients).

The primary-region clients get short timeouts and a single attempt: during a
failover that region is usually the one not answering, and every call to it must
fail fast instead of holding the failover for minutes of retries. botocore's
`max_attempts` counts *retries* after the first request; `total_max_attempts`
counts every attempt, the first included
(https://botocore.amazonaws.com/v1/documentation/api/latest/reference/config.html),
so one attempt is `total_max_attempts=1`. With a 3 s connect and 5 s read timeout a
region that resets or refuses costs well under a second per call and one that hangs
costs 5 s: the probe stops at its first unanswered call.
"""

from __future__ import annotations

from typing import Any

from botocore.config import Config

from config.topology import DR, PRIMARY, FailoverTopology
from runbooks.standby import DnsPublicAnswer, PublicAnswer, Route53TestAnswer

FAIL_FAST = Config(connect_timeout=3, read_timeout=5, retries={"total_max_attempts": 1, "mode": "standard"})


class Clients:
    def __init__(self, region: str, *, fail_fast: bool) -> None:
        import boto3

        self.region = region
        self.session = boto3.Session(region_name=region)
        self.config = FAIL_FAST if fail_fast else None

    def client(self, service: str) -> Any:
        return self.session.client(service, config=self.config)


def build_clients(topology: FailoverTopology) -> tuple[Clients, Clients]:
    """(DR-region clients, primary-region clients)."""
    return Clients(topology.region(DR), fail_fast=False), Clients(topology.region(PRIMARY), fail_fast=True)


def public_answer(clients: Clients, hosted_zone_id: str | None) -> PublicAnswer:
    if hosted_zone_id:
        return Route53TestAnswer(clients.client("route53"), hosted_zone_id)
    return DnsPublicAnswer()

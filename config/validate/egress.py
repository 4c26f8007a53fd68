"""The web tier's allow-listed third-party APIs (ACC-1): a small network, a TCP port and who is called."""

from __future__ import annotations

from ipaddress import IPv4Network

from config.errors import ErrorCollector
from config.policy import EGRESS_MIN_PREFIX_LENGTH, EGRESS_REASON_MIN_LENGTH


def check_egress_rule(field: str, cidr: object, port: object, reason: object, errors: ErrorCollector) -> None:
    """One `web_egress.allow` entry `{ cidr, port, reason }` at `field`."""
    network = egress_network(cidr)
    if network is None or network.prefixlen < EGRESS_MIN_PREFIX_LENGTH:
        errors.add(
            f"{field}.cidr",
            cidr,
            f"an IPv4 network address with a prefix of /{EGRESS_MIN_PREFIX_LENGTH} to /32 (e.g. '203.0.113.0/24'); "
            "never 0.0.0.0/0: AWS APIs are reached through the VPC's endpoints",
            "ACC-1",
        )
    if type(port) is not int or not 1 <= port <= 65535:
        errors.add(f"{field}.port", port, "a TCP port 1 to 65535")
    if not isinstance(reason, str) or len(reason.strip()) < EGRESS_REASON_MIN_LENGTH:
        errors.add(f"{field}.reason", reason, f"who is called and why, at least {EGRESS_REASON_MIN_LENGTH} characters")


def egress_network(value: object) -> IPv4Network | None:
    """`value` as an IPv4 network address with an explicit prefix, else None."""
    if not isinstance(value, str) or "/" not in value:
        return None
    try:
        return IPv4Network(value, strict=True)
    except ValueError:
        return None

"""The game day's clients: every call recorded; the primary region's calls fail as in an outage.

`Unreachable` stands in for a region that does not answer: every operation raises
`botocore.exceptions.EndpointConnectionError` (what boto3 raises when the regional
endpoint cannot be reached) and is recorded, so the game day can show exactly what
the failover automation tried to do in the lost region.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import EndpointConnectionError

# Route 53 calls that change the zone or its health checks; the failover must make none.
ROUTE53_CHANGES = (
    "change_resource_record_sets",
    "change_tags_for_resource",
    "create_health_check",
    "update_health_check",
    "delete_health_check",
    "create_hosted_zone",
    "delete_hosted_zone",
)


@dataclass(frozen=True)
class Call:
    region: str
    service: str
    operation: str
    outcome: str  # ok | error: <type>

    def as_json(self) -> dict[str, str]:
        return asdict(self)


class CallLog:
    def __init__(self) -> None:
        self.calls: list[Call] = []

    def record(self, call: Call) -> None:
        self.calls.append(call)

    def in_region(self, region: str) -> list[Call]:
        return [call for call in self.calls if call.region == region]

    def of_service(self, service: str) -> list[Call]:
        return [call for call in self.calls if call.service == service]


class Recorded:
    """A boto3 client whose every call is recorded (and then made)."""

    def __init__(self, client: Any, service: str, region: str, log: CallLog) -> None:
        self._client = client
        self._service = service
        self._region = region
        self._log = log

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute) or name.startswith("_"):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = attribute(*args, **kwargs)
            except Exception as error:
                self._log.record(Call(self._region, self._service, name, f"error: {type(error).__name__}"))
                raise
            self._log.record(Call(self._region, self._service, name, "ok"))
            return result

        return call


class Unreachable:
    """A client of a region that does not answer: every call is recorded and raises."""

    def __init__(self, service: str, region: str, log: CallLog) -> None:
        self._service = service
        self._region = region
        self._log = log

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self._log.record(Call(self._region, self._service, name, "error: EndpointConnectionError"))
            raise EndpointConnectionError(endpoint_url=f"https://{self._service}.{self._region}.amazonaws.com")

        return call

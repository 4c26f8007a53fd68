"""Route 53: CloudWatch-metric health checks, TestDNSAnswer and failover records from CloudFormation."""

from __future__ import annotations

import hashlib
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.route53 import urls as route53_urls
from moto.route53.exceptions import InvalidInput, NoSuchHostedZone
from moto.route53.models import FakeZone, HealthCheck, RecordSet, Route53Backend, route53_backends
from moto.route53.responses import Route53
from moto.utilities.utils import get_partition

from tooling.emulator.patch import Patch

# --- health checks -------------------------------------------------------------------

_health_check_init = HealthCheck.__init__
_health_check_config: Any = HealthCheck.health_check_config


def health_check_init(
    self: Any, health_check_id: str, caller_reference: str, health_check_args: dict[str, Any]
) -> None:
    _health_check_init(self, health_check_id, caller_reference, health_check_args)
    self.alarm_identifier = health_check_args.get("alarm_identifier")
    self.insufficient_data_health_status = health_check_args.get("insufficient_data_health_status")


def health_check_config(self: Any) -> dict[str, Any]:
    config: dict[str, Any] = _health_check_config.fget(self)
    if getattr(self, "alarm_identifier", None):
        config["AlarmIdentifier"] = self.alarm_identifier
    if getattr(self, "insufficient_data_health_status", None):
        config["InsufficientDataHealthStatus"] = self.insufficient_data_health_status
    if self.type_ in ("CLOUDWATCH_METRIC", "CALCULATED"):
        for key in ("IPAddress", "Port", "RequestInterval", "FailureThreshold", "MeasureLatency"):
            config.pop(key, None)
    return config


def _health_check_args(config: dict[str, Any]) -> dict[str, Any]:
    return {
        "ip_address": config.get("IPAddress"),
        "port": config.get("Port"),
        "type": config["Type"],
        "resource_path": config.get("ResourcePath"),
        "fqdn": config.get("FullyQualifiedDomainName"),
        "search_string": config.get("SearchString"),
        "request_interval": config.get("RequestInterval"),
        "failure_threshold": config.get("FailureThreshold"),
        "health_threshold": config.get("HealthThreshold"),
        "measure_latency": config.get("MeasureLatency"),
        "inverted": config.get("Inverted"),
        "disabled": config.get("Disabled"),
        "enable_sni": config.get("EnableSNI"),
        "children": config.get("ChildHealthChecks", []),
        "regions": config.get("Regions", []),
        "alarm_identifier": config.get("AlarmIdentifier"),
        "insufficient_data_health_status": config.get("InsufficientDataHealthStatus"),
    }


def create_health_check(self: Route53) -> ActionResult:
    config = self._get_param("HealthCheckConfig")
    health_check = self.backend.create_health_check(self._get_param("CallerReference"), _health_check_args(config))
    return ActionResult({"HealthCheck": health_check})


_update_health_check = Route53.update_health_check


def update_health_check(self: Route53) -> ActionResult:
    result = _update_health_check(self)
    health_check: Any = self.backend.get_health_check(self._get_param("HealthCheckId"))
    if self._get_param("AlarmIdentifier"):
        health_check.alarm_identifier = self._get_param("AlarmIdentifier")
    if self._get_param("InsufficientDataHealthStatus"):
        health_check.insufficient_data_health_status = self._get_param("InsufficientDataHealthStatus")
    return result


def create_health_check_from_cloudformation(
    resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
) -> HealthCheck:
    config = cloudformation_json["Properties"]["HealthCheckConfig"]
    backend = route53_backends[account_id][get_partition(region_name)]
    return backend.create_health_check(caller_reference=resource_name, health_check_args=_health_check_args(config))


def _alarm_status(health_check: Any, account_id: str) -> tuple[bool, str]:
    alarm_id = health_check.alarm_identifier
    alarms = cloudwatch_backends[account_id][alarm_id["Region"]].alarms
    alarm = alarms.get(alarm_id["Name"])
    state = alarm.state_value if alarm is not None else "INSUFFICIENT_DATA"
    if state == "ALARM":
        return False, f"Failure: CloudWatch alarm {alarm_id['Name']} is in state ALARM."
    if state == "OK":
        return True, f"Success: CloudWatch alarm {alarm_id['Name']} is in state OK."
    configured = health_check.insufficient_data_health_status or "LastKnownStatus"
    healthy = configured != "Unhealthy"  # LastKnownStatus: healthy until it was seen otherwise
    word = "Success" if healthy else "Failure"
    return healthy, f"{word}: CloudWatch alarm {alarm_id['Name']} has insufficient data ({configured})."


def health_status(backend: Route53Backend, health_check_id: str) -> tuple[bool, str]:
    """(healthy, status text) of a health check, as Route 53 would observe it now."""
    health_check: Any = backend.get_health_check(health_check_id)
    if health_check.disabled:
        return True, "Success: the health check is disabled (Route 53 considers it healthy)."
    if health_check.type_ == "CLOUDWATCH_METRIC" and getattr(health_check, "alarm_identifier", None):
        healthy, text = _alarm_status(health_check, backend.account_id)
    elif health_check.type_ == "CALCULATED":
        children = [health_status(backend, child)[0] for child in health_check.children or []]
        threshold = int(health_check.health_threshold or len(children))
        healthy = sum(children) >= threshold
        text = f"{'Success' if healthy else 'Failure'}: {sum(children)} of {len(children)} child health checks healthy."
    else:
        healthy, text = True, "Success: HTTP Status Code: 200. Resolved IP: 127.0.13.37. OK"
    if health_check.inverted:
        healthy = not healthy
        text = f"{'Success' if healthy else 'Failure'}: inverted; {text}"
    return healthy, text


def get_health_check_status(self: Route53) -> ActionResult:
    _, text = health_status(self.backend, self._get_param("HealthCheckId"))
    observation = {
        "Region": "us-east-1",
        "IPAddress": "127.0.13.37",
        "StatusReport": {"Status": text, "CheckedTime": utcnow()},
    }
    return ActionResult({"HealthCheckObservations": [observation]})


# --- TestDNSAnswer ---------------------------------------------------------------------


def _same_name(a: str, b: str) -> bool:
    return a.rstrip(".").lower() == b.rstrip(".").lower()


def alias_addresses(dns_name: str) -> list[str]:
    """The addresses the emulator gives an alias target (an ALB's DNS name): two per name, stable.

    TestDNSAnswer answers an alias record with what a resolver would get, the target's IP
    addresses, never its name (https://docs.aws.amazon.com/Route53/latest/APIReference/API_TestDNSAnswer.html:
    "RecordData: A list that contains values that Route 53 returns for this resource record
    set"). The emulator has no DNS, so a name's addresses are derived from it, in TEST-NET-2
    (198.51.100.0/24, RFC 5737); `dualstack.<name>` (CloudFormation's alias for an ALB) has the
    addresses of `<name>`. The game day resolves an ALB's name with this function.
    """
    name = dns_name.rstrip(".").lower().removeprefix("dualstack.")
    digest = hashlib.sha256(name.encode()).digest()
    return sorted({f"198.51.100.{digest[0] % 254 + 1}", f"198.51.100.{digest[1] % 254 + 1}"})


def answer(backend: Route53Backend, zone_id: str, name: str, record_type: str) -> tuple[str, list[str]]:
    """(ResponseCode, RecordData) for a query, choosing among failover records by health."""
    zone = backend.get_hosted_zone(zone_id)
    named = [r for r in zone.rrsets if _same_name(r.name, name)]
    if not named:
        return "NXDOMAIN", []
    candidates = [r for r in named if r.type == record_type]
    if any(r.failover for r in candidates):
        by_role = {str(r.failover).upper(): r for r in candidates if r.failover}
        primary, secondary = by_role.get("PRIMARY"), by_role.get("SECONDARY")
        primary_healthy = primary is not None and (
            not primary.health_check_id or health_status(backend, primary.health_check_id)[0]
        )
        chosen = primary if primary_healthy or secondary is None else secondary
        candidates = [chosen] if chosen is not None else []
    data: list[str] = []
    for record in candidates[:1] if candidates and candidates[0].set_identifier else candidates:
        if record.alias_target:
            data += alias_addresses(str(record.alias_target.get("DNSName", "")))
        else:
            data += [v["Value"] if isinstance(v, dict) else str(v) for v in record.records or []]
    return "NOERROR", data


def test_dns_answer(self: Route53) -> ActionResult:
    zone_id = self._get_param("HostedZoneId")
    name = self._get_param("RecordName")
    record_type = self._get_param("RecordType")
    if not (zone_id and name and record_type):
        raise InvalidInput("The input is not valid")
    code, data = answer(self.backend, zone_id, name, record_type)
    result = {
        "Nameserver": "ns-2048.awsdns-64.com",
        "RecordName": name,
        "RecordType": record_type,
        "RecordData": data,
        "ResponseCode": code,
        "Protocol": "UDP",
    }
    return ActionResult(result)


def _apply_test_dns_answer() -> None:
    route53_urls.url_paths[r"{0}/(?P<api_version>[\d_-]+)/testdnsanswer$"] = Route53.dispatch
    Route53.test_dns_answer = test_dns_answer  # type: ignore[attr-defined]


# --- record sets from CloudFormation ------------------------------------------------------


def _zone(account_id: str, region_name: str, properties: dict[str, Any]) -> FakeZone:
    backend = route53_backends[account_id][get_partition(region_name)]
    if zone_name := properties.get("HostedZoneName"):
        for zone in backend.zones.values():
            if _same_name(zone.name, zone_name):
                return zone
        raise NoSuchHostedZone(zone_name)
    return backend.get_hosted_zone(properties["HostedZoneId"])


def _fqdn(name: str) -> str:
    return name if name.endswith(".") else f"{name}."


def _same_record(record: RecordSet, name: str, record_type: str | None, set_identifier: str | None) -> bool:
    return (
        _same_name(record.name, name)
        and (record_type is None or record.type == record_type)
        and record.set_identifier == set_identifier
    )


def create_record_set(
    resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
) -> RecordSet:
    """Zone by id or by name (with or without the final dot); one record per name, type and SetIdentifier."""
    properties = dict(cloudformation_json["Properties"])
    zone = _zone(account_id, region_name, properties)
    properties["Name"] = _fqdn(properties.get("Name") or resource_name)
    properties["HostedZoneId"] = zone.resource_id
    if properties.get("TTL") is not None:
        properties["TTL"] = int(properties["TTL"])
    if isinstance(properties.get("AliasTarget"), dict):
        target = dict(properties["AliasTarget"])
        target["EvaluateTargetHealth"] = str(target.get("EvaluateTargetHealth", False)).lower() == "true"
        properties["AliasTarget"] = target
    return zone.upsert_rrset(properties)


def delete_record(self: RecordSet, account_id: str, region: str) -> None:
    """Delete this record only, not every record of the same name (failover pairs share one)."""
    backend = route53_backends[account_id][get_partition(region)]
    for zone in backend.zones.values():
        zone.rrsets = [r for r in zone.rrsets if r is not self]


def delete_record_from_cloudformation(
    resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
) -> None:
    properties = cloudformation_json["Properties"]
    zone = _zone(account_id, region_name, properties)
    name = properties.get("Name") or resource_name
    zone.rrsets = [
        r for r in zone.rrsets if not _same_record(r, name, properties.get("Type"), properties.get("SetIdentifier"))
    ]


def update_record_set(
    original_resource: Any, new_resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
) -> RecordSet:
    delete_record(original_resource, account_id, region_name)
    return create_record_set(new_resource_name, cloudformation_json, account_id, region_name)


def _apply_health_checks() -> None:
    HealthCheck.__init__ = health_check_init  # type: ignore[method-assign]
    HealthCheck.health_check_config = property(health_check_config)  # type: ignore[method-assign,assignment]
    HealthCheck.create_from_cloudformation_json = staticmethod(create_health_check_from_cloudformation)  # type: ignore[method-assign]
    Route53.create_health_check = create_health_check  # type: ignore[method-assign]
    Route53.update_health_check = update_health_check  # type: ignore[method-assign]


def _apply_health_status() -> None:
    Route53.get_health_check_status = get_health_check_status  # type: ignore[method-assign]


def _apply_record_sets() -> None:
    RecordSet.create_from_cloudformation_json = staticmethod(create_record_set)  # type: ignore[method-assign]
    RecordSet.update_from_cloudformation_json = staticmethod(update_record_set)  # type: ignore[method-assign]
    RecordSet.delete_from_cloudformation_json = staticmethod(delete_record_from_cloudformation)  # type: ignore[method-assign]
    RecordSet.delete = delete_record  # type: ignore[method-assign]


PATCHES = [
    Patch(
        "route53",
        "metric-health-check-settings",
        "AlarmIdentifier and InsufficientDataHealthStatus are dropped (API and CloudFormation)",
        _apply_health_checks,
    ),
    Patch(
        "route53",
        "health-check-status-from-alarm",
        "GetHealthCheckStatus always answers Success; AWS derives a metric check from its alarm's state",
        _apply_health_status,
    ),
    Patch(
        "route53",
        "test-dns-answer",
        "TestDNSAnswer is 404; answered from the zone (simple, failover by health; an alias with addresses)",
        _apply_test_dns_answer,
    ),
    Patch(
        "route53",
        "cloudformation-failover-records",
        "RecordSet by HostedZoneName needs the exact stored name; delete/update drop every record of the name",
        _apply_record_sets,
    ),
]

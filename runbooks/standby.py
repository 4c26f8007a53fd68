"""AWS reads and writes shared by the failover and failback automations (DR-2).

Kept apart from the procedures so that each procedure reads as its list of steps,
and so that both use exactly the same definition of "is a replica", "lag", "the
switch" and "the public answer".
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from botocore import exceptions as botocore_exceptions

from config.topology import SWITCH_METRIC, SWITCH_NAMESPACE, FailoverTopology


class PublicAnswer(Protocol):
    """What the internet is told for the service name; the last word of a verification."""

    def resolves_to(self, domain: str, alb_dns_name: str) -> bool: ...


class DnsPublicAnswer:
    """Real DNS: the domain resolves to (some of) the addresses of the ALB."""

    def resolves_to(self, domain: str, alb_dns_name: str) -> bool:
        try:
            domain_ips = set(socket.gethostbyname_ex(domain)[2])
            alb_ips = set(socket.gethostbyname_ex(alb_dns_name)[2])
        except OSError:
            return False
        return bool(domain_ips & alb_ips)


def resolve_addresses(name: str) -> set[str]:
    """The IPv4 addresses a resolver gives for `name` (empty when it does not resolve)."""
    try:
        return set(socket.gethostbyname_ex(name)[2])
    except OSError:
        return set()


class Route53TestAnswer:
    """Route 53's own answer (TestDNSAnswer): independent of resolver caches and TTLs.

    For an alias record TestDNSAnswer answers what a resolver would get: the alias
    target's IP addresses in `RecordData`, not its DNS name
    (https://docs.aws.amazon.com/Route53/latest/APIReference/API_TestDNSAnswer.html). So the
    answer is compared, as an address set, with the ALB's own addresses (`resolve`, real
    DNS by default: an ALB's name is public); an ALB's addresses change over time, so any
    common address counts.
    """

    def __init__(self, route53: Any, zone_id: str, resolve: Callable[[str], set[str]] = resolve_addresses) -> None:
        self.route53 = route53
        self.zone_id = zone_id
        self.resolve = resolve

    def resolves_to(self, domain: str, alb_dns_name: str) -> bool:
        answer = self.route53.test_dns_answer(HostedZoneId=self.zone_id, RecordName=domain, RecordType="A")
        answered = {str(data).rstrip(".").lower() for data in answer.get("RecordData", [])}
        return bool(answered & self.resolve(alb_dns_name.rstrip(".")))


# -- did the region answer? ----------------------------------------------------------------

# Errors that mean the endpoint did not answer: no connection, a connect or read timeout (a
# hanging region), a connection reset or closed before a response. Anything else (a
# ClientError such as ThrottlingException or AccessDenied) is an answer: the region is up.
NO_ANSWER: tuple[type[BaseException], ...] = (
    botocore_exceptions.ConnectionError,  # EndpointConnectionError, ConnectTimeoutError, proxy errors
    botocore_exceptions.ReadTimeoutError,
    botocore_exceptions.ConnectionClosedError,
    ConnectionError,  # the built-in: ConnectionResetError, ConnectionRefusedError, BrokenPipeError
    TimeoutError,
)


def did_not_answer(error: BaseException) -> bool:
    return isinstance(error, NO_ANSWER)


def describe_error(error: BaseException) -> str:
    """`AccessDenied: ...` for an AWS error answer, `<type>: ...` otherwise."""
    code = error_code(error) if isinstance(error, Exception) else ""
    return f"{code or type(error).__name__}: {error}"


def error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def describe_db(rds: Any, identifier: str) -> dict[str, Any] | None:
    try:
        instances: list[dict[str, Any]] = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
    except Exception as error:
        if error_code(error) == "DBInstanceNotFound":
            return None
        raise
    return instances[0] if instances else None


def is_replica(instance: dict[str, Any]) -> bool:
    return bool(instance.get("ReadReplicaSourceDBInstanceIdentifier"))


def replica_lag_seconds(cloudwatch: Any, db_instance_id: str, now: datetime) -> float | None:
    """Maximum ReplicaLag over the last 5 minutes; None when there is no datapoint (lag unknown).

    The window ends one period after `now` so that a datapoint stamped by a clock slightly ahead of
    ours (or falling in the current, partial minute) still counts.
    """
    response = cloudwatch.get_metric_statistics(
        Namespace="AWS/RDS",
        MetricName="ReplicaLag",
        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": db_instance_id}],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=["Maximum"],
    )
    points = [float(point["Maximum"]) for point in response.get("Datapoints", [])]
    return max(points) if points else None


LAG_PERIOD_S = 60
LAG_LOOKBACK = timedelta(hours=3)  # how far back a stalled replay is traced to its start
LAG_BEFORE_STALL = timedelta(minutes=5)  # the datapoints judged as "the lag when the source was last seen"


@dataclass(frozen=True)
class LagAtRisk:
    """What the ReplicaLag series says about the data a promotion would lose."""

    at_risk_s: float | None  # the lag when the source was last seen (None: unknown)
    now_s: float | None  # the newest datapoint
    stalled_since: datetime | None  # the first datapoint of a replay that no longer advances
    basis: str

    def as_json(self) -> dict[str, Any]:
        return {
            "at_risk_s": self.at_risk_s,
            "now_s": self.now_s,
            "stalled_since": self.stalled_since.isoformat() if self.stalled_since else None,
            "basis": self.basis,
        }


def replica_lag_series(cloudwatch: Any, db_instance_id: str, now: datetime) -> list[tuple[datetime, float]]:
    """(timestamp, Maximum ReplicaLag) per minute over `LAG_LOOKBACK`, oldest first."""
    response = cloudwatch.get_metric_statistics(
        Namespace="AWS/RDS",
        MetricName="ReplicaLag",
        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": db_instance_id}],
        StartTime=now - LAG_LOOKBACK,
        EndTime=now + timedelta(minutes=1),
        Period=LAG_PERIOD_S,
        Statistics=["Maximum"],
    )
    return sorted((point["Timestamp"], float(point["Maximum"])) for point in response.get("Datapoints", []))


def _stall_start(series: list[tuple[datetime, float]]) -> int:
    """Index of the first datapoint of the trailing run whose replay position no longer advances.

    For PostgreSQL, ReplicaLag is now() - pg_last_xact_replay_timestamp(), so a datapoint's
    timestamp minus its lag is the replay position; while nothing is replayed the position
    stays put and the lag grows one second per second. Half a period of tolerance: a
    per-minute Maximum is not sampled at the exact start of its minute.
    """
    replayed = [at - timedelta(seconds=lag) for at, lag in series]
    start = len(series) - 1
    while start > 0 and abs((replayed[start - 1] - replayed[-1]).total_seconds()) <= LAG_PERIOD_S / 2:
        start -= 1
    return start


def lag_at_risk(series: list[tuple[datetime, float]], *, source_gone: bool) -> LagAtRisk:
    """The replica lag that measures the writes a promotion would lose.

    While the source answers, that is the current lag (the maximum of the last 5 minutes).
    Once the source is gone, ReplicaLag (now() - the last replay time, for PostgreSQL:
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PostgreSQL.Replication.ReadReplicas.html,
    "Monitoring replication") grows one second per second although nothing more can be lost:
    the data at risk is the lag when the source was last seen: the largest of the first
    datapoint of the stalled run and the datapoints of the 5 minutes before it.
    """
    if not series:
        return LagAtRisk(None, None, None, "no ReplicaLag datapoint")
    newest_at, newest = series[-1]
    stall = _stall_start(series)
    if not source_gone or stall == len(series) - 1:
        recent = [lag for at, lag in series if at >= newest_at - LAG_BEFORE_STALL]
        return LagAtRisk(max(recent), newest, None, "the current lag (maximum of the last 5 minutes)")
    stalled_at, first = series[stall]
    before = [lag for at, lag in series[:stall] if at >= stalled_at - LAG_BEFORE_STALL]
    return LagAtRisk(max([first, *before]), newest, stalled_at, "the lag when the source was last seen")


def publish_switch(cloudwatch: Any, topology: FailoverTopology, value: int, at: datetime) -> dict[str, Any]:
    """1 fails traffic over to DR, 0 switches back (see config/topology.py).

    The datapoint is stamped `at`, the runner's `now()`: the real UTC time in real use (what
    CloudWatch would stamp it with anyway); a game day on a shifted clock places it in a
    later alarm period without waiting for one.
    """
    dimensions = [{"Name": name, "Value": v} for name, v in topology.switch_dimensions.items()]
    datum = {
        "MetricName": SWITCH_METRIC,
        "Dimensions": dimensions,
        "Timestamp": at,
        "Value": float(value),
        "Unit": "Count",
    }
    cloudwatch.put_metric_data(Namespace=SWITCH_NAMESPACE, MetricData=[datum])
    return {"namespace": SWITCH_NAMESPACE, "metric": SWITCH_METRIC, "value": value, "timestamp": at.isoformat()}


def switch_alarm(cloudwatch: Any, topology: FailoverTopology) -> dict[str, Any] | None:
    alarms: list[dict[str, Any]] = cloudwatch.describe_alarms(AlarmNames=[topology.switch_alarm_name])["MetricAlarms"]
    return alarms[0] if alarms else None


def describe_asg(autoscaling: Any, name: str) -> dict[str, Any] | None:
    groups: list[dict[str, Any]] = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
        "AutoScalingGroups"
    ]
    return groups[0] if groups else None


def in_service(group: dict[str, Any]) -> int:
    return sum(1 for instance in group.get("Instances", []) if instance.get("LifecycleState") == "InService")


def scale_asg(autoscaling: Any, name: str, *, min_size: int, desired: int) -> None:
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=name, MinSize=min_size, DesiredCapacity=desired)


def web_entry(autoscaling: Any, elbv2: Any, asg_name: str) -> tuple[str, str]:
    """(target group ARN, ALB DNS name) of a region's web tier, found from its ASG."""
    group = describe_asg(autoscaling, asg_name)
    if group is None or not group.get("TargetGroupARNs"):
        raise LookupError(f"auto scaling group {asg_name} not found or has no target group")
    target_group_arn = str(group["TargetGroupARNs"][0])
    target_group = elbv2.describe_target_groups(TargetGroupArns=[target_group_arn])["TargetGroups"][0]
    balancer_arns = target_group.get("LoadBalancerArns", [])
    if not balancer_arns:
        raise LookupError(f"target group {target_group_arn} is not behind a load balancer")
    balancer = elbv2.describe_load_balancers(LoadBalancerArns=balancer_arns[:1])["LoadBalancers"][0]
    return target_group_arn, str(balancer["DNSName"])


def healthy_targets(elbv2: Any, target_group_arn: str) -> int:
    descriptions = elbv2.describe_target_health(TargetGroupArn=target_group_arn)["TargetHealthDescriptions"]
    return sum(1 for d in descriptions if d.get("TargetHealth", {}).get("State") == "healthy")


def master_secret_id(topology: FailoverTopology) -> str:
    return f"{topology.db_instance_id('primary')}/master"

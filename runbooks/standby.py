"""AWS reads and writes shared by the failover and failback automations (DR-2).

Kept apart from the procedures so that each procedure reads as its list of steps,
and so that both use exactly the same definition of "is a replica", "lag", "the
switch" and "the public answer".
"""

from __future__ import annotations

import socket
from datetime import datetime, timedelta
from typing import Any, Protocol

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


class Route53TestAnswer:
    """Route 53's own answer (TestDNSAnswer): independent of resolver caches and TTLs."""

    def __init__(self, route53: Any, zone_id: str) -> None:
        self.route53 = route53
        self.zone_id = zone_id

    def resolves_to(self, domain: str, alb_dns_name: str) -> bool:
        answer = self.route53.test_dns_answer(HostedZoneId=self.zone_id, RecordName=domain, RecordType="A")
        wanted = alb_dns_name.rstrip(".").lower()
        return any(wanted in str(data).rstrip(".").lower() for data in answer.get("RecordData", []))


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

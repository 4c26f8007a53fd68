"""What the game day (and the e2e tests) read to decide that the standby is in place, or moved.

Reads only, through boto3 clients passed in; each function answers (ok, detail).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from config.topology import DR, PRIMARY, FailoverTopology
from runbooks import standby
from tooling.emulator.route53 import alias_addresses

Result = tuple[bool, str]
ClientFactory = Callable[[str, str], Any]


def hosted_zone_id(route53: Any, topology: FailoverTopology) -> str:
    zones = route53.list_hosted_zones_by_name(DNSName=topology.record_name)["HostedZones"]
    matching = [zone["Id"] for zone in zones if zone["Name"] == topology.record_name]
    if not matching:
        raise LookupError(f"no hosted zone {topology.record_name}")
    return str(matching[0]).rsplit("/", 1)[-1]


def replica_of_primary(aws: ClientFactory, topology: FailoverTopology) -> Result:
    replica = standby.describe_db(aws("rds", topology.dr_region), topology.db_instance_id(DR))
    if replica is None:
        return False, f"{topology.db_instance_id(DR)} not found in {topology.dr_region}"
    source = replica.get("ReadReplicaSourceDBInstanceIdentifier")
    return source == topology.db_instance_arn(PRIMARY), f"{replica['DBInstanceIdentifier']} source {source}"


def writer(aws: ClientFactory, topology: FailoverTopology, role: str) -> Result:
    db = standby.describe_db(aws("rds", topology.region(role)), topology.db_instance_id(role))
    if db is None:
        return False, f"{topology.db_instance_id(role)} not found in {topology.region(role)}"
    ok = db["DBInstanceStatus"] == "available" and not standby.is_replica(db)
    source = db.get("ReadReplicaSourceDBInstanceIdentifier")
    return ok, f"{db['DBInstanceIdentifier']} {db['DBInstanceStatus']}, replica source {source}"


def switch_alarm(aws: ClientFactory, topology: FailoverTopology) -> Result:
    alarm = standby.switch_alarm(aws("cloudwatch", topology.dr_region), topology)
    if alarm is None:
        return False, f"{topology.switch_alarm_name} not found in {topology.dr_region}"
    return True, f"{alarm['AlarmName']} {alarm['StateValue']}"


def failover_records(aws: ClientFactory, topology: FailoverTopology, zone_id: str) -> Result:
    route53 = aws("route53", topology.primary_region)
    records = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    kinds = sorted(r.get("Failover", "") for r in records if r["Name"] == topology.record_name and r.get("Failover"))
    return kinds == ["PRIMARY", "SECONDARY"], f"{topology.record_name} failover records {kinds}"


def web_in_service(aws: ClientFactory, topology: FailoverTopology, role: str, minimum: int) -> Result:
    group = standby.describe_asg(aws("autoscaling", topology.region(role)), topology.web_asg_name(role))
    serving = standby.in_service(group) if group else 0
    return serving >= minimum, f"{topology.web_asg_name(role)} {serving} InService (want >= {minimum})"


def alb_dns_name(aws: ClientFactory, topology: FailoverTopology, role: str) -> str:
    region = topology.region(role)
    _, dns = standby.web_entry(aws("autoscaling", region), aws("elbv2", region), topology.web_asg_name(role))
    return dns


def public_answer(aws: ClientFactory, topology: FailoverTopology, zone_id: str, role: str) -> Result:
    """Route 53's answer (TestDNSAnswer) for the public name names `role`'s ALB."""
    dns = alb_dns_name(aws, topology, role)
    route53 = aws("route53", topology.primary_region)
    answer = route53.test_dns_answer(HostedZoneId=zone_id, RecordName=topology.domain_name, RecordType="A")
    data = [str(item) for item in answer.get("RecordData", [])]
    wanted = alias_addresses(dns)  # an alias answers with addresses (API_TestDNSAnswer), the emulator's for the ALB
    ok = bool(set(data) & set(wanted))
    return ok, f"{topology.domain_name} answers {data} (want the {role} ALB {dns}: {wanted})"


def object_arrives(s3: Any, bucket: str, key: str, *, timeout_s: float = 30.0, poll_s: float = 0.5) -> Result:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            head = s3.head_object(Bucket=bucket, Key=key)
            return True, f"s3://{bucket}/{key} present (status {head.get('ReplicationStatus', 'n/a')})"
        except Exception as error:
            if time.monotonic() >= deadline:
                return False, f"s3://{bucket}/{key} absent after {timeout_s:.0f} s: {error}"
        time.sleep(poll_s)

"""The emulator in a regional outage, as AWS documents it (issue 16, items 4 and 7), through boto3.

- ReplicaLag of a PostgreSQL replica grows one second per second once its source region is
  blacked out (USER_PostgreSQL.Replication.ReadReplicas.html, "Monitoring replication"), and
  the failover's lag gate judges the lag when the source was last seen;
- TestDNSAnswer answers an alias record with addresses, not the target's name
  (API_TestDNSAnswer.html), and `Route53TestAnswer` compares address sets.
"""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from runbooks import standby
from tests.e2e.conftest import emulator_client
from tooling.emulator.cloudwatch import request_blackout
from tooling.emulator.route53 import alias_addresses
from tooling.moto_server import MotoServer

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("emulator")]

PRIMARY, DR, OTHER = "ap-southeast-2", "ap-southeast-4", "eu-central-1"
ALB_ZONE = "Z1GM3OXH4ZPM65"  # an ALB's canonical hosted zone


def client(server: MotoServer, service: str, region: str) -> Any:
    return emulator_client(server, service, region)


def replica_of(server: MotoServer, name: str, source_region: str, replica_region: str) -> str:
    source = client(server, "rds", source_region).create_db_instance(
        DBInstanceIdentifier=f"{name}-writer",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="admin_user",
        MasterUserPassword="not-a-secret-1",
        BackupRetentionPeriod=7,
    )["DBInstance"]
    client(server, "rds", replica_region).create_db_instance_read_replica(
        DBInstanceIdentifier=f"{name}-replica", SourceDBInstanceIdentifier=source["DBInstanceArn"]
    )
    return f"{name}-replica"


def publish_lag(server: MotoServer, region: str, db: str, seconds: float, at: datetime) -> None:
    client(server, "cloudwatch", region).put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": db}],
                "Value": seconds,
                "Timestamp": at,
            }
        ],
    )


def test_replica_lag_grows_one_second_per_second_once_the_source_region_is_blacked_out(server: MotoServer) -> None:
    replica = replica_of(server, "lag", PRIMARY, DR)
    untouched = replica_of(server, "calm", OTHER, DR)
    now = datetime.now(UTC).replace(microsecond=0)
    publish_lag(server, DR, replica, 2.0, now - timedelta(minutes=20))
    publish_lag(server, DR, untouched, 3.0, now - timedelta(minutes=20))
    outage = now - timedelta(minutes=10)
    request_blackout(server.endpoint_url, PRIMARY, at=outage.timestamp())
    try:
        cloudwatch = client(server, "cloudwatch", DR)
        series = standby.replica_lag_series(cloudwatch, replica, now)
        after = [(at, lag) for at, lag in series if at >= outage]
        assert len(after) >= 8
        for (before_at, before), (at, lag) in itertools.pairwise(after):
            assert lag - before == pytest.approx((at - before_at).total_seconds(), abs=1)  # one second per second
        assert series[-1][1] > 550  # now() - the last replay: about 10 minutes and 2 s
        assert all(lag == 2.0 for at, lag in series if at < outage)  # steady while the source answered
        judged = standby.lag_at_risk(series, source_gone=True)
        assert judged.at_risk_s is not None and judged.at_risk_s <= 62  # the lag when the source was last seen
        assert standby.lag_at_risk(series, source_gone=False).at_risk_s == series[-1][1]
        calm = standby.replica_lag_series(cloudwatch, untouched, now)
        assert [lag for _, lag in calm] == [3.0]  # its source region answers: nothing added
    finally:
        request_blackout(server.endpoint_url, PRIMARY, restore_region=True)


def test_no_replica_lag_grows_after_the_promotion(server: MotoServer) -> None:
    replica = replica_of(server, "promoted", PRIMARY, DR)
    now = datetime.now(UTC).replace(microsecond=0)
    publish_lag(server, DR, replica, 1.0, now - timedelta(minutes=5))
    client(server, "rds", DR).promote_read_replica(DBInstanceIdentifier=replica)
    request_blackout(server.endpoint_url, PRIMARY, at=(now - timedelta(minutes=4)).timestamp())
    try:
        series = standby.replica_lag_series(client(server, "cloudwatch", DR), replica, now)
        assert [lag for _, lag in series] == [1.0]  # a writer has no source: RDS publishes no ReplicaLag for it
    finally:
        request_blackout(server.endpoint_url, PRIMARY, restore_region=True)


def alias_zone(server: MotoServer, domain: str, alb: str) -> str:
    route53 = client(server, "route53", PRIMARY)
    zone = route53.create_hosted_zone(Name=domain, CallerReference=f"{domain}-{time.time()}")["HostedZone"]
    zone_id = str(zone["Id"])
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": f"app.{domain}",
                        "Type": "A",
                        "AliasTarget": {"HostedZoneId": ALB_ZONE, "DNSName": alb, "EvaluateTargetHealth": False},
                    },
                }
            ]
        },
    )
    return zone_id.split("/")[-1]


def test_an_alias_answers_with_addresses_and_verification_compares_address_sets(server: MotoServer) -> None:
    alb = "dr-alb-9.ap-southeast-4.elb.amazonaws.com"
    zone_id = alias_zone(server, "alias.example.com", f"dualstack.{alb}")
    route53 = client(server, "route53", PRIMARY)
    answer = route53.test_dns_answer(HostedZoneId=zone_id, RecordName="app.alias.example.com", RecordType="A")
    assert answer["ResponseCode"] == "NOERROR"
    assert answer["RecordData"] == alias_addresses(alb)
    assert not any("elb.amazonaws.com" in data for data in answer["RecordData"])  # never the name

    def resolver(name: str) -> set[str]:
        return set(alias_addresses(name))

    verify = standby.Route53TestAnswer(route53, zone_id, resolver)
    assert verify.resolves_to("app.alias.example.com", alb)
    assert not verify.resolves_to("app.alias.example.com", "primary-alb-1.ap-southeast-2.elb.amazonaws.com")

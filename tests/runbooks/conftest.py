"""Moto fixtures for the DR runbooks: the warm-standby topology of au-production in two regions.

moto 5.2.5 gaps worked around HERE ONLY (the automation is not weakened for them):

- `promote_read_replica` leaves `ReadReplicaSourceDBInstanceIdentifier` set and
  accepts a second promotion: `_promotion_clears_the_source` makes a promotion clear
  the source fields (as RDS does once the promotion finishes);
- no `ReplicaLag` metric: the fixture publishes it with `put_metric_data`;
- alarms are never evaluated and `test_dns_answer` is missing: tests use a fake
  `PublicAnswer` and read the switch metric itself;
- `stop_replication_to_replica` is missing: `SecretsWithPromotion` records the call
  and answers like AWS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from moto import mock_aws

from config import load_config
from config.topology import DR, PRIMARY, SWITCH_METRIC, SWITCH_NAMESPACE, FailoverTopology
from tests import moto_speedups

DEPLOYMENT = "au-production"
DR_MAX = 6
MINUTE, DAY = timedelta(minutes=1), timedelta(days=1)
MUTATING_PREFIXES = ("create", "delete", "modify", "update", "put", "promote", "stop", "start", "add", "remove", "set")


@dataclass
class Recorder:
    """A client proxy that records every method called on it (and may make some fail)."""

    client: Any
    region: str
    calls: list[tuple[str, str]]
    fail: dict[str, Callable[[], Exception]] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.client, name)
        if not callable(target) or name.startswith("_") or name in ("meta", "exceptions"):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((self.region, name))
            if name in self.fail:
                raise self.fail.pop(name)()
            return target(*args, **kwargs)

        return call


class Unreachable:
    """A primary-region client whose every call fails like a region that does not answer."""

    def __init__(self, region: str, calls: list[tuple[str, str]]) -> None:
        self.region = region
        self.calls = calls

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((self.region, name))
            raise EndpointConnectionError(endpoint_url=f"https://{name}.{self.region}.amazonaws.com")

        return call


class FakeAnswer:
    """PublicAnswer stand-in (moto has no TestDNSAnswer): answers `result`, remembers the questions."""

    def __init__(self, result: bool = True) -> None:
        self.result = result
        self.asked: list[tuple[str, str]] = []

    def resolves_to(self, domain: str, alb_dns_name: str) -> bool:
        self.asked.append((domain, alb_dns_name))
        return self.result


class SecretsWithPromotion:
    """moto has no stop_replication_to_replica: do what AWS does (the primary stops listing the
    region, the DR copy becomes a standalone secret of the same name) with calls moto has."""

    def __init__(self, client: Any, primary: Any | None = None) -> None:
        self.client = client
        self.primary = primary
        self.stopped: list[str] = []

    def describe_secret(self, SecretId: str) -> dict[str, Any]:  # noqa: N803 (boto3 argument name)
        secret: dict[str, Any] = self.client.describe_secret(SecretId=SecretId)
        if SecretId in self.stopped:
            secret.pop("PrimaryRegion", None)
        return secret

    def stop_replication_to_replica(self, SecretId: str) -> dict[str, Any]:  # noqa: N803
        self.stopped.append(SecretId)
        if self.primary is not None:
            value = self.client.get_secret_value(SecretId=SecretId)["SecretString"]
            region = self.client.meta.region_name
            self.primary.remove_regions_from_replication(SecretId=SecretId, RemoveReplicaRegions=[region])
            self.client.create_secret(Name=SecretId, SecretString=value)
        return {"ARN": SecretId}


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class Region:
    name: str
    rds: Any
    autoscaling: Any
    elbv2: Any
    cloudwatch: Any
    secretsmanager: Any
    ec2: Any
    s3: Any
    kms: Any


@dataclass
class Standby:
    topo: FailoverTopology
    primary: Region
    dr: Region
    secrets: SecretsWithPromotion
    clock: FakeClock

    def publish_lag(self, seconds: float) -> None:
        self.dr.cloudwatch.put_metric_data(
            Namespace="AWS/RDS",
            MetricData=[
                {
                    "MetricName": "ReplicaLag",
                    "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": self.topo.db_instance_id(DR)}],
                    "Value": seconds,
                    "Timestamp": datetime.now(UTC),
                }
            ],
        )

    def switch_values(self, stat: str = "Maximum") -> list[float]:
        """Per-minute values of the switch metric from a year before now to a year after (a failover and
        failback in one minute: ask for the Minimum), oldest first.

        moto walks every period of a query, so a year either side in minutes (a million periods) took
        ~3 s: the days that hold a datapoint are found first, then only they are asked per minute, on the
        same one-minute grid from the same start: the same values.
        """
        now = datetime.now(UTC).replace(microsecond=0)
        start, end = now.replace(year=now.year - 1), now.replace(year=now.year + 1)
        days = [t for t, _ in self._switch_metric(stat, start, end, DAY)]
        if not days:
            return []
        minutes = self._switch_metric(stat, days[0], min(days[-1] + DAY, end), MINUTE)
        return [v for _, v in minutes]

    def _switch_metric(
        self, stat: str, start: datetime, end: datetime, period: timedelta
    ) -> list[tuple[datetime, float]]:
        data = self.dr.cloudwatch.get_metric_data(
            MetricDataQueries=[
                {
                    "Id": "switch",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": SWITCH_NAMESPACE,
                            "MetricName": SWITCH_METRIC,
                            "Dimensions": [{"Name": k, "Value": v} for k, v in self.topo.switch_dimensions.items()],
                        },
                        "Period": int(period.total_seconds()),
                        "Stat": stat,
                    },
                }
            ],
            StartTime=start,
            EndTime=end,
        )
        result = data["MetricDataResults"][0]
        return sorted((t, float(v)) for t, v in zip(result["Timestamps"], result["Values"], strict=True))

    def db(self, region: Region, identifier: str) -> dict[str, Any] | None:
        found = [
            d for d in region.rds.describe_db_instances()["DBInstances"] if d["DBInstanceIdentifier"] == identifier
        ]
        return found[0] if found else None

    def asg(self, region: Region, name: str) -> dict[str, Any]:
        group: dict[str, Any] = region.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
            "AutoScalingGroups"
        ][0]
        return group


@pytest.fixture(autouse=True)
def _cheaper_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same worlds, less work no test can see: see tests/moto_speedups.py."""
    moto_speedups.apply(monkeypatch)


@pytest.fixture(autouse=True)
def _promotion_clears_the_source(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.rds.models import RDSBackend

    original = RDSBackend.promote_read_replica

    def promote(self: Any, db_kwargs: dict[str, Any]) -> Any:
        database = original(self, db_kwargs)
        database.source_db_instance_identifier = None
        return database

    monkeypatch.setattr(RDSBackend, "promote_read_replica", promote)


def _region(name: str) -> Region:
    def client(service: str) -> Any:
        return boto3.client(service, region_name=name)

    return Region(
        name,
        *(client(s) for s in ("rds", "autoscaling", "elbv2", "cloudwatch", "secretsmanager", "ec2", "s3", "kms")),
    )


def _web_tier(region: Region, asg_name: str, *, size: int, max_size: int) -> None:
    vpc = region.ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        region.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"{region.name}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    balancer = region.elbv2.create_load_balancer(Name=f"{asg_name}-alb", Subnets=subnets)["LoadBalancers"][0]
    target_group = region.elbv2.create_target_group(
        Name=f"{asg_name}-tg"[:32], Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance"
    )["TargetGroups"][0]
    region.elbv2.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group["TargetGroupArn"]}],
    )
    region.ec2.create_launch_template(
        LaunchTemplateName=f"{asg_name}-lt", LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"}
    )
    region.autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=asg_name,
        LaunchTemplate={"LaunchTemplateName": f"{asg_name}-lt", "Version": "$Latest"},
        MinSize=size,
        MaxSize=max_size,
        DesiredCapacity=size,
        VPCZoneIdentifier=",".join(subnets),
        TargetGroupARNs=[target_group["TargetGroupArn"]],
    )


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[Standby]:
    topo = FailoverTopology.of(load_config().get(DEPLOYMENT))
    monkeypatch.setenv("MOTO_ACCOUNT_ID", topo.account)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        primary, dr = _region(topo.region(PRIMARY)), _region(topo.region(DR))
        for region in (primary, dr):
            key = region.kms.create_key()["KeyMetadata"]["KeyId"]
            region.kms.create_alias(AliasName=topo.customer_key_alias(), TargetKeyId=key)
        primary.rds.create_db_instance(
            DBInstanceIdentifier=topo.db_instance_id(PRIMARY),
            DBInstanceClass="db.r7g.large",
            Engine="postgres",
            AllocatedStorage=200,
            MasterUsername="app",
            MasterUserPassword="not-a-real-secret-1A!",
            StorageEncrypted=True,
            MultiAZ=True,
            BackupRetentionPeriod=topo.db_backup_retention_days,
        )
        dr.rds.create_db_instance_read_replica(
            DBInstanceIdentifier=topo.db_instance_id(DR),
            SourceDBInstanceIdentifier=topo.db_instance_arn(PRIMARY),
            KmsKeyId=topo.customer_key_alias_arn(DR),
        )
        _web_tier(primary, topo.web_asg_name(PRIMARY), size=topo.primary_web_min_capacity, max_size=12)
        _web_tier(dr, topo.web_asg_name(DR), size=topo.standby_web_min_capacity, max_size=DR_MAX)
        dr.cloudwatch.put_metric_alarm(
            AlarmName=topo.switch_alarm_name,
            Namespace=SWITCH_NAMESPACE,
            MetricName=SWITCH_METRIC,
            Dimensions=[{"Name": k, "Value": v} for k, v in topo.switch_dimensions.items()],
            Statistic="Maximum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="ignore",
        )
        primary.secretsmanager.create_secret(
            Name=f"{topo.db_instance_id(PRIMARY)}/master",
            SecretString='{"username": "app", "password": "not-a-real-secret-1A!"}',
            AddReplicaRegions=[{"Region": dr.name}],
        )
        for role, region in ((PRIMARY, primary), (DR, dr)):
            region.s3.create_bucket(
                Bucket=topo.content_bucket(role), CreateBucketConfiguration={"LocationConstraint": region.name}
            )
            region.s3.put_bucket_versioning(
                Bucket=topo.content_bucket(role), VersioningConfiguration={"Status": "Enabled"}
            )
        world = Standby(topo, primary, dr, SecretsWithPromotion(dr.secretsmanager, primary.secretsmanager), FakeClock())
        world.publish_lag(4.0)
        yield world


def is_mutating(method: str) -> bool:
    return method.startswith(MUTATING_PREFIXES)

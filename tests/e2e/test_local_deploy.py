"""The main job against the local emulator: deploy au-production (both regions)
into a moto server on loopback, check what was built through boto3, deploy again
(an update must not fail), stop the server.

moto accepts but does not model some types (AWS Backup, ElastiCache, WAF,
CloudTrail, Cognito, ...; README "Local emulator notes"), so those are checked on the
templates by the unit tests; here we check what moto does create, including the
DR region's warm standby (replica, replicated bucket, switch alarm, failover records).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from config import Deployment
from config.topology import DR, PRIMARY, FailoverTopology
from tooling import gameday_checks as checks
from tooling.deploy import deploy
from tooling.moto_server import MotoServer, emulator_environment

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
DEPLOYMENT = "au-production"


@pytest.fixture(scope="module")
def deployed(deployment_server: MotoServer, au_production_assembly: Path, e2e_path: str) -> dict[str, str]:
    env = {**emulator_environment(deployment_server.endpoint_url, deployment_server.account), "PATH": e2e_path}
    deploy(DEPLOYMENT, env, au_production_assembly)
    env["ASSEMBLY"] = str(au_production_assembly)
    return env


def test_the_emulator_answered_every_request_of_the_deploy(
    deployed: dict[str, str], deployment_server: MotoServer
) -> None:
    """A change set that crashes inside moto still shows as deployed in the CDK CLI."""
    assert deployment_server.request_errors() == []


def client(env: dict[str, str], service: str, region: str) -> Any:
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def physical_ids(env: dict[str, str], region: str, prefix: str, resource_type: str) -> list[str]:
    cloudformation = client(env, "cloudformation", region)
    ids: list[str] = []
    for stack in cloudformation.describe_stacks()["Stacks"]:
        if not stack["StackName"].startswith(prefix):
            continue
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack["StackName"]):
            ids += [
                r["PhysicalResourceId"]
                for r in page["StackResourceSummaries"]
                if r["ResourceType"] == resource_type and r.get("PhysicalResourceId")
            ]
    return ids


def test_every_stack_of_both_regions_is_complete(deployed: dict[str, str], deployment: Deployment) -> None:
    for role, region in (("primary", deployment.primary_region), ("dr", deployment.dr_region)):
        stacks = client(deployed, "cloudformation", region).describe_stacks()["Stacks"]
        ours = [s for s in stacks if s["StackName"].startswith(f"{deployment.name}-{role}-")]
        expected = len(list(Path(deployed["ASSEMBLY"]).glob(f"assembly-{deployment.name}-{role}/*.template.json")))
        assert len(ours) == expected >= 2
        assert {s["StackStatus"] for s in ours} == {"CREATE_COMPLETE"} | (
            {"UPDATE_COMPLETE"} & {s["StackStatus"] for s in ours}
        )


def test_keys_rotate_in_both_regions(deployed: dict[str, str], deployment: Deployment) -> None:
    for role, region in (("primary", deployment.primary_region), ("dr", deployment.dr_region)):
        kms = client(deployed, "kms", region)
        key_ids = physical_ids(deployed, region, f"{deployment.name}-{role}-", "AWS::KMS::Key")
        assert len(key_ids) >= 4
        for key_id in key_ids:
            assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
        aliases = {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
        assert {f"alias/{deployment.name}/{c}" for c in ("customer", "system", "logs", "backup", "codebase")} <= aliases


def test_vpc_spans_three_azs_with_a_nat_per_az(deployed: dict[str, str], deployment: Deployment) -> None:
    region = deployment.primary_region
    ec2 = client(deployed, "ec2", region)
    (vpc_id,) = physical_ids(deployed, region, f"{deployment.name}-primary-", "AWS::EC2::VPC")
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    assert {s["AvailabilityZone"] for s in subnets} == set(deployment.availability_zones(region))
    assert not any(s["MapPublicIpOnLaunch"] for s in subnets)
    nats = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["NatGateways"]
    assert len(nats) == 3


def test_buckets_are_versioned_encrypted_and_private(deployed: dict[str, str], deployment: Deployment) -> None:
    region = deployment.primary_region
    s3 = client(deployed, "s3", region)
    buckets = physical_ids(deployed, region, f"{deployment.name}-primary-", "AWS::S3::Bucket")
    assert buckets, "the primary region has data and log buckets"
    for bucket in buckets:
        assert s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled", bucket
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("aws:kms", "AES256")
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values()), bucket


def test_database_is_multi_az_encrypted_and_protected(deployed: dict[str, str], deployment: Deployment) -> None:
    region = deployment.primary_region
    rds = client(deployed, "rds", region)
    (db_id,) = physical_ids(deployed, region, f"{deployment.name}-primary-", "AWS::RDS::DBInstance")
    (db,) = rds.describe_db_instances(DBInstanceIdentifier=db_id)["DBInstances"]
    assert db["MultiAZ"] is True
    assert db["StorageEncrypted"] is True
    assert db["DeletionProtection"] is True
    assert db["BackupRetentionPeriod"] >= 30
    assert db["Engine"] == "postgres"


def test_web_tier_requires_imdsv2_and_keeps_two_instances(deployed: dict[str, str], deployment: Deployment) -> None:
    region = deployment.primary_region
    ec2 = client(deployed, "ec2", region)
    autoscaling = client(deployed, "autoscaling", region)
    (template_id,) = physical_ids(deployed, region, f"{deployment.name}-primary-", "AWS::EC2::LaunchTemplate")
    versions = ec2.describe_launch_template_versions(LaunchTemplateId=template_id)["LaunchTemplateVersions"]
    data = versions[-1]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert "KeyName" not in data
    assert all(m["Ebs"]["Encrypted"] for m in data["BlockDeviceMappings"])
    (group_name,) = physical_ids(deployed, region, f"{deployment.name}-primary-", "AWS::AutoScaling::AutoScalingGroup")
    (group,) = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[group_name])["AutoScalingGroups"]
    assert group["MinSize"] >= 2
    assert len({i["AvailabilityZone"] for i in group["Instances"]} | set(group["AvailabilityZones"])) >= 2


# --- the warm standby (DR stage, third deploy step), through boto3 -------------------------


def standby_topology(deployment: Deployment) -> FailoverTopology:
    return FailoverTopology.of(deployment)


def aws_of(env: dict[str, str]) -> checks.ClientFactory:
    return lambda service, region: client(env, service, region)


def test_dr_replica_names_the_primary_as_its_source(deployed: dict[str, str], deployment: Deployment) -> None:
    ok, detail = checks.replica_of_primary(aws_of(deployed), standby_topology(deployment))
    assert ok, detail


def test_dr_bucket_receives_objects_put_into_the_primary_bucket(
    deployed: dict[str, str], deployment: Deployment
) -> None:
    topology = standby_topology(deployment)
    client(deployed, "s3", topology.primary_region).put_object(
        Bucket=topology.content_bucket(PRIMARY), Key="e2e/replicated.txt", Body=b"e2e"
    )
    dr_s3 = client(deployed, "s3", topology.dr_region)
    ok, detail = checks.object_arrives(dr_s3, topology.content_bucket(DR), "e2e/replicated.txt")
    assert ok, detail
    assert dr_s3.get_object(Bucket=topology.content_bucket(DR), Key="e2e/replicated.txt")["Body"].read() == b"e2e"


def test_failover_switch_alarm_exists_in_the_dr_region(deployed: dict[str, str], deployment: Deployment) -> None:
    ok, detail = checks.switch_alarm(aws_of(deployed), standby_topology(deployment))
    assert ok, detail


def test_primary_and_secondary_records_exist_in_the_zone(deployed: dict[str, str], deployment: Deployment) -> None:
    topology = standby_topology(deployment)
    zone_id = checks.hosted_zone_id(client(deployed, "route53", topology.primary_region), topology)
    ok, detail = checks.failover_records(aws_of(deployed), topology, zone_id)
    assert ok, detail
    ok, detail = checks.public_answer(aws_of(deployed), topology, zone_id, PRIMARY)
    assert ok, detail


def test_dr_web_tier_keeps_two_instances_in_service(deployed: dict[str, str], deployment: Deployment) -> None:
    ok, detail = checks.web_in_service(aws_of(deployed), standby_topology(deployment), DR, 2)
    assert ok, detail


def test_a_second_deploy_updates_without_failing(deployed: dict[str, str]) -> None:
    deploy(DEPLOYMENT, deployed, Path(deployed["ASSEMBLY"]))


def test_web_instances_reach_s3_through_the_regions_own_prefix_list_and_not_the_internet(
    deployed: dict[str, str], deployment: Deployment
) -> None:
    """ACC-1 (issue 18 item 6): the deploy wrote each region's S3 prefix list id (tooling/region_facts.py) and the
    web tier's security group allows that list, the endpoints and the data tier, never 0.0.0.0/0."""
    for role, region, stack in (
        (PRIMARY, deployment.primary_region, "web"),
        (DR, deployment.dr_region, "standbyweb"),
    ):
        ec2 = client(deployed, "ec2", region)
        (s3_list,) = [
            p["PrefixListId"]
            for p in ec2.describe_managed_prefix_lists()["PrefixLists"]
            if p["PrefixListName"] == f"com.amazonaws.{region}.s3" and p["OwnerId"] == "AWS"
        ]
        group_ids = set(physical_ids(deployed, region, f"{deployment.name}-{role}-{stack}", "AWS::EC2::SecurityGroup"))
        groups = ec2.describe_security_groups(GroupIds=sorted(group_ids))["SecurityGroups"]
        (app,) = [g for g in groups if "web instances" in g["Description"]]
        destinations = [
            *(r["CidrIp"] for p in app["IpPermissionsEgress"] for r in p.get("IpRanges", [])),
            *(r["PrefixListId"] for p in app["IpPermissionsEgress"] for r in p.get("PrefixListIds", [])),
        ]
        assert s3_list in destinations, (role, destinations)
        assert "0.0.0.0/0" not in destinations, (role, destinations)

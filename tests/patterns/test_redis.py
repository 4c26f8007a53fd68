"""patterns/redis.py on a bare stack: EncryptedRedis is encrypted at rest with the given key (ENC-1) and
in transit (ENC-3), authenticates by IAM with the `default` user off (ENC-4), sits in isolated subnets
behind a closed security group, fails over once it has a replica (HOST-4), and keeps its snapshots
(OPS-5 window, BAK-8)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from patterns.redis import (
    APP_ACCESS_STRING,
    DEFAULT_PORT,
    DISABLED_ACCESS_STRING,
    SNAPSHOT_RETENTION_MAX_DAYS,
    EncryptedRedis,
    RedisProps,
)
from tests.patterns.bare import arn_of, bare_stack, tags


def _props(stack: cdk.Stack, **changes: Any) -> RedisProps:
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC),
            ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        ],
    )
    props = RedisProps(
        vpc=vpc,
        replication_group_id="unit-redis",
        node_type="cache.t4g.small",
        replicas=1,
        storage_key=kms.Key(stack, "Customer"),
        maintenance_window="sun:02:00-sun:04:00",
        snapshot_window="22:00-23:00",
        snapshot_retention_days=7,
    )
    return replace(props, **changes)


def _redis(**changes: Any) -> tuple[cdk.Stack, EncryptedRedis, Template]:
    stack = bare_stack()
    redis = EncryptedRedis(stack, "Redis", props=_props(stack, **changes))
    return stack, redis, Template.from_stack(stack)


def _group(template: Template) -> dict[str, Any]:
    (group,) = template.find_resources("AWS::ElastiCache::ReplicationGroup").values()
    return dict(group)


def test_encrypted_at_rest_with_the_given_key_and_tls_required_in_transit() -> None:
    stack, _, template = _redis()
    props = _group(template)["Properties"]
    assert props["AtRestEncryptionEnabled"] is True
    assert props["KmsKeyId"] == arn_of(stack, stack.node.find_child("Customer"))
    assert (props["TransitEncryptionEnabled"], props["TransitEncryptionMode"]) == (True, "required")
    assert tags(_group(template))["data-classification"] == "customer"


def test_only_the_iam_user_authenticates_and_the_default_user_is_off() -> None:
    _, redis, template = _redis()
    assert _group(template)["Properties"]["UserGroupIds"] == ["unit-redis-users"]
    users = {
        u["Properties"]["UserName"]: u["Properties"] for u in template.find_resources("AWS::ElastiCache::User").values()
    }
    app = users["unit-redis-app"]
    assert (app["UserId"], app["AuthenticationMode"], app["AccessString"]) == (
        "unit-redis-app",
        {"Type": "iam"},
        APP_ACCESS_STRING,
    )
    assert "-@dangerous" in app["AccessString"]
    assert users["default"]["AccessString"] == DISABLED_ACCESS_STRING
    assert users["default"]["AccessString"].startswith("off ")
    assert sorted(users) == ["default", "unit-redis-app"]
    (user_group,) = template.find_resources("AWS::ElastiCache::UserGroup").values()
    assert user_group["Properties"]["UserGroupId"] == "unit-redis-users"
    assert sorted(user_group["Properties"]["UserIds"]) == ["unit-redis-app", "unit-redis-default"]
    assert redis.user_id == "unit-redis-app"


def test_grant_connect_names_the_replication_group_and_the_iam_user() -> None:
    stack = bare_stack()
    redis = EncryptedRedis(stack, "Redis", props=_props(stack))
    role = iam.Role(stack, "Client", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
    redis.grant_connect(role)
    (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "elasticache:Connect"
    resources = [stack.resolve(r) for r in statement["Resource"]]
    assert [r["Fn::Join"][1][-1] for r in resources] == [
        ":elasticache:eu-west-2:123456789012:replicationgroup:unit-redis",
        ":elasticache:eu-west-2:123456789012:user:unit-redis-app",
    ]


def test_in_isolated_subnets_only_behind_a_closed_security_group() -> None:
    _, redis, template = _redis()
    isolated = [
        {"Ref": logical_id}
        for logical_id, subnet in template.find_resources("AWS::EC2::Subnet").items()
        if tags(subnet)["aws-cdk:subnet-type"] == "Isolated"
    ]
    assert len(isolated) == 2
    (subnets,) = template.find_resources("AWS::ElastiCache::SubnetGroup").values()
    assert subnets["Properties"]["SubnetIds"] == isolated
    props = _group(template)["Properties"]
    assert props["CacheSubnetGroupName"] == {"Ref": template_id(template, "AWS::ElastiCache::SubnetGroup")}
    sg_id = template_id(template, "AWS::EC2::SecurityGroup")
    assert props["SecurityGroupIds"] == [{"Fn::GetAtt": [sg_id, "GroupId"]}]
    group = template.find_resources("AWS::EC2::SecurityGroup")[sg_id]["Properties"]
    assert "SecurityGroupIngress" not in group
    assert [e["CidrIp"] for e in group["SecurityGroupEgress"]] == ["255.255.255.255/32"]  # CDK's "no egress"
    assert props["Port"] == DEFAULT_PORT == redis.port


def template_id(template: Template, resource_type: str) -> str:
    (logical_id,) = template.find_resources(resource_type)
    return logical_id


def test_windows_retention_and_snapshot_on_delete_are_the_props() -> None:
    _, _, template = _redis(snapshot_retention_days=SNAPSHOT_RETENTION_MAX_DAYS, port=6400)
    group = _group(template)
    assert (group["DeletionPolicy"], group["UpdateReplacePolicy"]) == ("Snapshot", "Snapshot")
    props = group["Properties"]
    assert {
        k: props[k] for k in ("PreferredMaintenanceWindow", "SnapshotWindow", "SnapshotRetentionLimit", "Port")
    } == {
        "PreferredMaintenanceWindow": "sun:02:00-sun:04:00",
        "SnapshotWindow": "22:00-23:00",
        "SnapshotRetentionLimit": SNAPSHOT_RETENTION_MAX_DAYS,
        "Port": 6400,
    }


@pytest.mark.parametrize("days", [0, SNAPSHOT_RETENTION_MAX_DAYS + 1])
def test_snapshot_retention_outside_what_elasticache_keeps_is_refused(days: int) -> None:
    with pytest.raises(ValueError, match="snapshot retention must be 1 to 35 days"):
        _redis(snapshot_retention_days=days)


@pytest.mark.parametrize(("replicas", "multi_az"), [(0, False), (1, True), (2, True)])
def test_fails_over_automatically_once_there_is_a_replica(replicas: int, multi_az: bool) -> None:
    _, redis, template = _redis(replicas=replicas)
    props = _group(template)["Properties"]
    assert (props["NumCacheClusters"], props["AutomaticFailoverEnabled"], props["MultiAZEnabled"]) == (
        replicas + 1,
        multi_az,
        multi_az,
    )
    assert redis.member_cluster_ids == [f"unit-redis-{n:03d}" for n in range(1, replicas + 2)]

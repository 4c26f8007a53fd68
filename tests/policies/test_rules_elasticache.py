"""Tests of policies/rules/elasticache.py (Redis rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from typing import Any

import pytest

from policies.rules import elasticache
from tests.policies.rulekit import C, N, check, res, stack

WINDOW = "sun:16:00-sun:19:00"


REDIS_OK = {
    "AtRestEncryptionEnabled": True,
    "KmsKeyId": {"Ref": "Key"},
    "TransitEncryptionEnabled": True,
    "MultiAZEnabled": True,
    "AutomaticFailoverEnabled": True,
    "NumCacheClusters": 2,
    "PreferredMaintenanceWindow": WINDOW,
    "UserGroupIds": ["g"],
}


REDIS_USERS = (
    res("G", "AWS::ElastiCache::UserGroup", {"UserGroupId": "g", "UserIds": ["app", "dflt"]}),
    res("App", "AWS::ElastiCache::User", {"UserId": "app", "UserName": "app", "AuthenticationMode": {"Type": "iam"}}),
    res("Dflt", "AWS::ElastiCache::User", {"UserId": "dflt", "UserName": "default", "AccessString": "off -@all"}),
)


def test_enc1_enc3_host4_ops5_redis_rules() -> None:
    good = res("R", "AWS::ElastiCache::ReplicationGroup", REDIS_OK)
    for r in elasticache.RULES:
        assert check(r, good, stack(good, *REDIS_USERS)) is C, r.id
    assert (
        check(
            elasticache.redis_encrypted, res("R", "AWS::ElastiCache::ReplicationGroup", {**REDIS_OK, "KmsKeyId": None})
        )
        is N
    )
    assert (
        check(
            elasticache.redis_transit,
            res("R", "AWS::ElastiCache::ReplicationGroup", {**REDIS_OK, "TransitEncryptionMode": "preferred"}),
        )
        is N
    )
    assert (
        check(
            elasticache.redis_failover,
            res("R", "AWS::ElastiCache::ReplicationGroup", {**REDIS_OK, "NumCacheClusters": 1}),
        )
        is N
    )
    assert (
        check(
            elasticache.redis_window,
            res("R", "AWS::ElastiCache::ReplicationGroup", {**REDIS_OK, "PreferredMaintenanceWindow": "x"}),
        )
        is N
    )


def test_enc4_redis_without_a_static_secret() -> None:
    """ENC-4: IAM-authenticated RBAC users only; an AUTH token, no user group or a password user fails."""
    rule = elasticache.redis_no_static_secret
    good = res("R", "AWS::ElastiCache::ReplicationGroup", REDIS_OK)
    assert check(rule, good, stack(good, *REDIS_USERS)) is C
    token = res("R", "AWS::ElastiCache::ReplicationGroup", {**REDIS_OK, "AuthToken": "{{resolve:secretsmanager:x}}"})
    assert check(rule, token, stack(token, *REDIS_USERS)) is N
    no_group = res("R", "AWS::ElastiCache::ReplicationGroup", {**REDIS_OK, "UserGroupIds": []})
    assert check(rule, no_group, stack(no_group)) is N
    password_user = res(
        "App", "AWS::ElastiCache::User", {"UserId": "app", "AccessString": "on ~* +@all", "Passwords": ["x" * 16]}
    )
    assert check(rule, good, stack(good, REDIS_USERS[0], password_user, REDIS_USERS[2])) is N
    enabled_default = res("Dflt", "AWS::ElastiCache::User", {"UserId": "dflt", "AccessString": "on ~* +@all"})
    assert check(rule, good, stack(good, REDIS_USERS[0], REDIS_USERS[1], enabled_default)) is N


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({}, C, id="HOST4-RedisFailover-two-cache-clusters"),
        pytest.param({"NumCacheClusters": 1}, N, id="HOST4-RedisFailover-one-cache-cluster"),
        pytest.param({"NumCacheClusters": None, "ReplicasPerNodeGroup": 1}, C, id="HOST4-RedisFailover-one-replica"),
        pytest.param({"NumCacheClusters": None, "ReplicasPerNodeGroup": 0}, N, id="HOST4-RedisFailover-no-replica"),
        pytest.param({"NumCacheClusters": None}, N, id="HOST4-RedisFailover-replicas-unset"),
        pytest.param({"NumCacheClusters": "two"}, N, id="HOST4-RedisFailover-unreadable-count"),
        pytest.param({"MultiAZEnabled": False}, N, id="HOST4-RedisFailover-single-az"),
        pytest.param({"AutomaticFailoverEnabled": "false"}, N, id="HOST4-RedisFailover-no-automatic-failover"),
    ],
)
def test_host4_redis_failover(changes: dict[str, Any], expected: object) -> None:
    props = {k: v for k, v in {**REDIS_OK, **changes}.items() if v is not None}
    assert check(elasticache.redis_failover, res("R", "AWS::ElastiCache::ReplicationGroup", props)) is expected


@pytest.mark.parametrize(
    ("rule", "changes", "expected"),
    [
        pytest.param(elasticache.redis_encrypted, {}, C, id="ENC1-RedisEncrypted-customer-key"),
        pytest.param(
            elasticache.redis_encrypted, {"AtRestEncryptionEnabled": False}, N, id="ENC1-RedisEncrypted-unencrypted"
        ),
        pytest.param(elasticache.redis_encrypted, {"KmsKeyId": None}, N, id="ENC1-RedisEncrypted-aws-owned-key"),
        pytest.param(elasticache.redis_transit, {}, C, id="ENC3-RedisTransit-tls"),
        pytest.param(
            elasticache.redis_transit, {"TransitEncryptionMode": "required"}, C, id="ENC3-RedisTransit-tls-required"
        ),
        pytest.param(elasticache.redis_transit, {"TransitEncryptionEnabled": False}, N, id="ENC3-RedisTransit-off"),
        pytest.param(
            elasticache.redis_transit, {"TransitEncryptionMode": "preferred"}, N, id="ENC3-RedisTransit-preferred"
        ),
        pytest.param(elasticache.redis_window, {}, C, id="OPS5-RedisMaintenanceWindow-announced"),
        pytest.param(
            elasticache.redis_window,
            {"PreferredMaintenanceWindow": "mon:01:00-mon:02:00"},
            N,
            id="OPS5-RedisMaintenanceWindow-other",
        ),
    ],
)
def test_redis_rule_cases(rule: Any, changes: dict[str, Any], expected: object) -> None:
    props = {k: v for k, v in {**REDIS_OK, **changes}.items() if v is not None}
    assert check(rule, res("R", "AWS::ElastiCache::ReplicationGroup", props)) is expected


def test_enc4_redis_no_static_secret_ids() -> None:
    """ENC4-RedisNoStaticSecret: see test_enc4_redis_without_a_static_secret for each condition."""
    good = res("R", "AWS::ElastiCache::ReplicationGroup", REDIS_OK)
    assert check(elasticache.redis_no_static_secret, good, stack(good, *REDIS_USERS)) is C

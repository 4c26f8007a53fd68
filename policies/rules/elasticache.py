"""Redis rules: encryption at rest and in transit, Multi-AZ failover, maintenance window (ENC-1, ENC-3, HOST-4,
OPS-5)."""

from __future__ import annotations

from collections.abc import Mapping

from policies.rules.cfn import as_list, flatten, is_true
from policies.rules.model import Resource, Result, StackView, fail, ok, rule
from policies.rules.schedule import announced_window

REDIS = ("AWS::ElastiCache::ReplicationGroup",)


@rule(
    "ENC1-RedisEncrypted",
    "ENC-1",
    REDIS,
    "ENC-1: the cache is encrypted at rest with a customer-managed KMS key; this replication group is not.",
    "Seeds 001/004: data at rest encrypted with KMS.",
)
def redis_encrypted(resource: Resource, stack: StackView) -> Result:
    if not is_true(resource.prop("AtRestEncryptionEnabled")):
        return fail("AtRestEncryptionEnabled is not true")
    if not resource.prop("KmsKeyId"):
        return fail("no customer-managed KmsKeyId (AWS-owned key)")
    return ok("encrypted with a customer-managed key")


@rule(
    "ENC3-RedisTransit",
    "ENC-3",
    REDIS,
    "ENC-3: connections to the cache use TLS; this replication group allows plaintext.",
    "Seeds 001/004: encrypted connections.",
)
def redis_transit(resource: Resource, stack: StackView) -> Result:
    if not is_true(resource.prop("TransitEncryptionEnabled")):
        return fail("TransitEncryptionEnabled is not true")
    mode = resource.prop("TransitEncryptionMode")
    if mode == "preferred":
        return fail("TransitEncryptionMode=preferred accepts plaintext clients")
    return ok("TLS required")


@rule(
    "HOST4-RedisFailover",
    "HOST-4",
    REDIS,
    "HOST-4: the cache fails over automatically to another AZ; this replication group lacks Multi-AZ, automatic "
    "failover or a replica.",
    "Seeds 000/003: automatic shift to another data centre.",
)
def redis_failover(resource: Resource, stack: StackView) -> Result:
    missing = [p for p in ("MultiAZEnabled", "AutomaticFailoverEnabled") if not is_true(resource.prop(p))]
    nodes = resource.prop("NumCacheClusters")
    replicas = resource.prop("ReplicasPerNodeGroup")
    try:
        has_replica = (nodes is not None and int(nodes) >= 2) or (replicas is not None and int(replicas) >= 1)
    except (TypeError, ValueError):
        has_replica = False
    if not has_replica:
        missing.append("a replica node")
    return fail(f"missing {', '.join(missing)}") if missing else ok("Multi-AZ with automatic failover")


@rule(
    "OPS5-RedisMaintenanceWindow",
    "OPS-5",
    REDIS,
    "OPS-5: maintenance happens in the announced window from config; this cache's maintenance window differs.",
    "Seed 002: planned maintenance in announced windows.",
)
def redis_window(resource: Resource, stack: StackView) -> Result:
    return announced_window(resource, stack)


@rule(
    "ENC4-RedisNoStaticSecret",
    "ENC-4",
    REDIS,
    "ENC-4: no static secret protects the cache: clients authenticate through an RBAC user group whose users "
    "use IAM authentication (short-lived tokens), and its mandatory `default` user is switched off; this "
    "replication group uses an AUTH token, no user group, or a user with a password.",
    "Seeds 001/003/004: credentials are never static shared secrets that staff could read.",
)
def redis_no_static_secret(resource: Resource, stack: StackView) -> Result:
    if resource.prop("AuthToken") is not None:
        return fail("AuthToken set: a static shared secret")
    group_ids = {flatten(g) for g in as_list(resource.prop("UserGroupIds"))}
    if not group_ids:
        return fail("no UserGroupIds: anyone reaching the port is the `default` user")
    groups = [
        g for _, g in stack.in_region("AWS::ElastiCache::UserGroup") if flatten(g.prop("UserGroupId")) in group_ids
    ]
    if not groups:
        return fail(f"user group(s) {sorted(group_ids)} not in this deployment's templates: cannot check the users")
    user_ids = {flatten(u) for g in groups for u in as_list(g.prop("UserIds"))}
    users = {flatten(u.prop("UserId")): u for _, u in stack.in_region("AWS::ElastiCache::User")}
    for user_id in sorted(user_ids):
        user = users.get(user_id)
        if user is None:
            return fail(f"user {user_id} not in this deployment's templates")
        mode = user.prop("AuthenticationMode")
        iam = isinstance(mode, Mapping) and mode.get("Type") == "iam"
        disabled = flatten(user.prop("AccessString", default="")).split(" ")[0] == "off"
        if not iam and not disabled:
            return fail(f"user {user_id} authenticates with a password (or none) and is enabled")
    return ok(f"IAM-authenticated users only ({', '.join(sorted(user_ids))})")


RULES = [redis_encrypted, redis_transit, redis_failover, redis_window, redis_no_static_secret]

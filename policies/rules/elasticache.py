"""Redis rules: encryption at rest and in transit, Multi-AZ failover, maintenance window (ENC-1, ENC-3, HOST-4,
OPS-5)."""

from __future__ import annotations

from policies.rules.base import Resource, Result, StackView, announced_window, fail, is_true, ok, rule

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


RULES = [redis_encrypted, redis_transit, redis_failover, redis_window]

"""RDS rules: encryption, TLS, managed credentials, Multi-AZ, retention, protection, windows
(ENC-1, ENC-3, ENC-4, HOST-4, BAK-3, BAK-8, OPS-5, DR-1)."""

from __future__ import annotations

from config.policy import retention_minimum
from policies.rules.cfn import flatten, is_customer_key, is_true, refs_in
from policies.rules.model import Resource, Result, StackView, fail, na, ok, rule
from policies.rules.schedule import announced_window

DB = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster")


def _is_replica(resource: Resource) -> bool:
    return bool(resource.prop("SourceDBInstanceIdentifier") or resource.prop("SourceDBClusterIdentifier"))


@rule(
    "ENC1-RdsEncrypted",
    "ENC-1",
    DB,
    "ENC-1: databases are encrypted at rest with a customer-managed KMS key; this database is unencrypted or uses "
    "the AWS-managed key.",
    "Seeds 001/004: data at rest encrypted with KMS.",
)
def rds_encrypted(resource: Resource, stack: StackView) -> Result:
    if _is_replica(resource):
        # A replica inherits encryption from its source; CloudFormation rejects StorageEncrypted with
        # SourceDBInstanceIdentifier, and a cross-region replica is encrypted with the KmsKeyId given here.
        if not is_customer_key(resource.prop("KmsKeyId")):
            return fail("replica without a customer-managed KmsKeyId in its region")
        return ok("replica encrypted with a customer-managed key of its region")
    if not is_true(resource.prop("StorageEncrypted")):
        return fail("StorageEncrypted is not true")
    if not is_customer_key(resource.prop("KmsKeyId")):
        return fail("no customer-managed KmsKeyId")
    return ok("encrypted with a customer-managed key")


@rule(
    "ENC3-RdsForceSsl",
    "ENC-3",
    DB,
    "ENC-3: TLS to the database is enforced (rds.force_ssl=1); this database's parameter group does not force SSL.",
    "Seeds 001/004: encrypted connections, TLS to the database.",
)
def rds_force_ssl(resource: Resource, stack: StackView) -> Result:
    key = "DBClusterParameterGroupName" if resource.type == "AWS::RDS::DBCluster" else "DBParameterGroupName"
    group = stack.get(resource.prop(key))
    if group is None:
        return fail(f"{key} does not name a parameter group of this stack")
    value = (group.prop("Parameters") or {}).get("rds.force_ssl")
    return ok(f"{group.logical_id}: rds.force_ssl=1") if str(value) == "1" else fail(f"rds.force_ssl={value!r}")


@rule(
    "ENC4-DbCredentialsManaged",
    "ENC-4",
    DB,
    "ENC-4: database credentials live in Secrets Manager with rotation; this database has a password that is not "
    "a rotated Secrets Manager secret.",
    "Seeds 001/003/004: staff cannot see passwords.",
)
def db_credentials(resource: Resource, stack: StackView) -> Result:
    if _is_replica(resource):
        return na("read replica inherits the source's credentials")
    if is_true(resource.prop("ManageMasterUserPassword")):
        return ok("RDS-managed master secret in Secrets Manager (rotated by RDS)")
    password = resource.prop("MasterUserPassword")
    if "{{resolve:secretsmanager:" not in flatten(password if password is not None else ""):
        return fail("MasterUserPassword is not a Secrets Manager dynamic reference")
    secrets = refs_in(password)
    secrets |= {
        a.logical_id
        for _, a in stack.in_region("AWS::SecretsManager::SecretTargetAttachment")
        if refs_in(a.prop("SecretId")) & secrets
    }
    rotated = [
        r for _, r in stack.in_region("AWS::SecretsManager::RotationSchedule") if refs_in(r.prop("SecretId")) & secrets
    ]
    if not rotated:
        return fail("the master secret has no AWS::SecretsManager::RotationSchedule")
    return ok("password from a rotated Secrets Manager secret")


@rule(
    "HOST4-RdsMultiAz",
    "HOST-4",
    DB,
    "HOST-4: production databases fail over automatically (Multi-AZ); this production database is single-AZ.",
    "Seeds 000/003: resilient to component failure. (Non-production may be single-AZ by config.)",
)
def rds_multi_az(resource: Resource, stack: StackView) -> Result:
    if resource.type == "AWS::RDS::DBCluster":
        return na("Aurora clusters are Multi-AZ by storage design")
    if not stack.is_production or _is_replica(resource):
        return na("non-production or read replica")
    return ok("MultiAZ") if is_true(resource.prop("MultiAZ")) else fail("MultiAZ is not true")


@rule(
    "BAK3-RdsRetention",
    "BAK-3",
    DB,
    "BAK-3: RDS keeps daily snapshots and transaction logs for >= 30 days; this database's automated backup "
    "retention is shorter.",
    "Seeds 002/003: RDS snapshots daily kept 30 days; transaction-log backups.",
)
def rds_retention(resource: Resource, stack: StackView) -> Result:
    if _is_replica(resource):
        return na("read replica: backups are taken on the source")
    try:
        days = int(resource.prop("BackupRetentionPeriod", default=1))
    except (TypeError, ValueError):
        return fail(f"BackupRetentionPeriod={resource.prop('BackupRetentionPeriod')!r}")
    minimum = retention_minimum("rds_automated_backup_days")
    return ok(f"{days} days") if days >= minimum else fail(f"BackupRetentionPeriod={days} days")


@rule(
    "BAK8-DeletionProtection",
    "BAK-8",
    DB,
    "BAK-8: databases are never deleted by accident; this database has deletion protection off.",
    "Seed 000: data not deleted automatically.",
)
def deletion_protection(resource: Resource, stack: StackView) -> Result:
    return (
        ok("DeletionProtection")
        if is_true(resource.prop("DeletionProtection"))
        else fail("DeletionProtection is not true")
    )


@rule(
    "OPS5-RdsMaintenanceWindow",
    "OPS-5",
    DB,
    "OPS-5: maintenance happens in the announced window from config; this database's maintenance window differs.",
    "Seed 002: planned maintenance in announced windows.",
)
def rds_window(resource: Resource, stack: StackView) -> Result:
    return announced_window(resource, stack)


@rule(
    "DR1-ReplicaEncrypted",
    "DR-1",
    ("AWS::RDS::DBInstance",),
    "DR-1: the standby database is an encrypted cross-region replica; this replica is unencrypted or has no "
    "customer-managed key in its region.",
    "Seed 003: services move to a regionally distinct site; data there stays encrypted (ENC-1).",
)
def replica_encrypted(resource: Resource, stack: StackView) -> Result:
    if not _is_replica(resource):
        return na("not a replica")
    if not is_customer_key(resource.prop("KmsKeyId")):
        return fail("replica has no customer-managed KmsKeyId in its region")
    return ok("encrypted replica")


RULES = [
    rds_encrypted,
    rds_force_ssl,
    db_credentials,
    rds_multi_az,
    rds_retention,
    deletion_protection,
    rds_window,
    replica_encrypted,
]

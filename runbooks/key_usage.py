"""Key compromise and rotation (ENC-1, ENC-2): which resources use a key, and what re-encryption each needs.

Read `runbooks/key_compromise.md` first. Read-only. `--key` is a data class of the
deployment (customer, system, logs, backup: alias `alias/<deployment>/<class>`) or a
key id/ARN. The report lists every S3 bucket, RDS instance and snapshot, EBS volume
and snapshot, SNS topic, secret, log group and backup vault in the region that uses
the key, each with the re-encryption a compromise needs. Rotation alone needs no
re-encryption (KMS keeps the old key material to decrypt). Exit 0: report printed;
2: bad arguments, unknown key, or a client in the wrong region.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from config.policy import DATA_CLASSES
from config.topology import DR, PRIMARY, FailoverTopology
from runbooks import ops
from runbooks.toolkit import EXIT_OK, RefusedError, add_deployment_args

CLAUSE = "ENC-1"
SERVICES = ("s3", "rds", "ec2", "sns", "secretsmanager", "logs", "backup")

RE_ENCRYPTION = {
    "s3-bucket": "new default key; copy every object version onto itself with the new key (S3 Batch Operations)",
    "rds-instance": "snapshot, copy the snapshot with the new key, restore, switch the endpoint (downtime)",
    "rds-snapshot": "copy the snapshot with the new key, delete the old copy after checks",
    "ebs-volume": "snapshot, copy with the new key, create a volume, swap it in (instance stop)",
    "ebs-snapshot": "copy the snapshot with the new key, delete the old one",
    "sns-topic": "set KmsMasterKeyId to the new key (messages in flight are short-lived)",
    "secret": "update the secret's KmsKeyId and rotate the secret (re-encrypts the current version)",
    "log-group": "associate the new key (new events); old events stay under the old key until they expire",
    "backup-vault": "vault key is fixed: create a vault with the new key, copy recovery points, retire the old",
}


@dataclass(frozen=True)
class Usage:
    kind: str
    resource: str
    re_encryption: str


@dataclass(frozen=True)
class KeyReport:
    key_arn: str
    aliases: list[str]
    state: str
    rotation_enabled: bool
    usages: list[Usage]


class KeyUsage:
    def __init__(self, region: str, clients: dict[str, Any]) -> None:
        missing = [s for s in (*SERVICES, "kms") if s not in clients]
        if missing:
            raise RefusedError(f"clients missing: {', '.join(missing)}")
        for service, client in clients.items():
            ops.require_region(client, region, service)
        self.region = region
        self.c = clients

    def resolve(self, key: str) -> tuple[dict[str, Any], set[str]]:
        try:
            meta = self.c["kms"].describe_key(KeyId=key)["KeyMetadata"]
        except Exception as error:
            raise RefusedError(f"key {key!r} not found in {self.region}: {error}") from error
        aliases = self.c["kms"].list_aliases(KeyId=meta["KeyId"]).get("Aliases", [])
        names = {meta["KeyId"], meta["Arn"]} | {a["AliasName"] for a in aliases} | {a["AliasArn"] for a in aliases}
        return dict(meta), names

    def report(self, key: str) -> KeyReport:
        meta, names = self.resolve(key)
        rotation = self.c["kms"].get_key_rotation_status(KeyId=meta["KeyId"]).get("KeyRotationEnabled", False)
        usages = [Usage(kind, name, RE_ENCRYPTION[kind]) for kind, name, used in self._candidates() if used in names]
        aliases = sorted(n for n in names if n.startswith("alias/"))
        return KeyReport(meta["Arn"], aliases, meta["KeyState"], bool(rotation), usages)

    def _candidates(self) -> Iterator[tuple[str, str, str]]:
        for finder in self._finders():
            yield from finder()

    def _finders(self) -> list[Callable[[], Iterator[tuple[str, str, str]]]]:
        return [self._s3, self._rds, self._ec2, self._sns, self._secrets, self._logs, self._vaults]

    def _s3(self) -> Iterator[tuple[str, str, str]]:
        s3 = self.c["s3"]
        for bucket in s3.list_buckets()["Buckets"]:
            name = bucket["Name"]
            if (s3.get_bucket_location(Bucket=name).get("LocationConstraint") or "us-east-1") != self.region:
                continue
            try:
                key = ops.kms_key_of(s3, name)
            except Exception:
                continue
            yield "s3-bucket", name, key or ""

    def _rds(self) -> Iterator[tuple[str, str, str]]:
        for db in self.c["rds"].describe_db_instances()["DBInstances"]:
            yield "rds-instance", db["DBInstanceIdentifier"], db.get("KmsKeyId", "")
        for snap in self.c["rds"].describe_db_snapshots()["DBSnapshots"]:
            yield "rds-snapshot", snap["DBSnapshotIdentifier"], snap.get("KmsKeyId", "")

    def _ec2(self) -> Iterator[tuple[str, str, str]]:
        for volume in self.c["ec2"].describe_volumes()["Volumes"]:
            yield "ebs-volume", volume["VolumeId"], volume.get("KmsKeyId", "")
        for snap in self.c["ec2"].describe_snapshots(OwnerIds=["self"])["Snapshots"]:
            yield "ebs-snapshot", snap["SnapshotId"], snap.get("KmsKeyId", "")

    def _sns(self) -> Iterator[tuple[str, str, str]]:
        for topic in self.c["sns"].list_topics()["Topics"]:
            attributes = self.c["sns"].get_topic_attributes(TopicArn=topic["TopicArn"])["Attributes"]
            yield "sns-topic", topic["TopicArn"], attributes.get("KmsMasterKeyId", "")

    def _secrets(self) -> Iterator[tuple[str, str, str]]:
        for secret in self.c["secretsmanager"].list_secrets()["SecretList"]:
            yield "secret", secret["Name"], secret.get("KmsKeyId", "")

    def _logs(self) -> Iterator[tuple[str, str, str]]:
        for group in self.c["logs"].describe_log_groups()["logGroups"]:
            yield "log-group", group["logGroupName"], group.get("kmsKeyId", "")

    def _vaults(self) -> Iterator[tuple[str, str, str]]:
        for vault in self.c["backup"].list_backup_vaults()["BackupVaultList"]:
            yield "backup-vault", vault["BackupVaultName"], vault.get("EncryptionKeyArn", "")


def render(report: KeyReport) -> str:
    lines = [
        f"key {report.key_arn} ({', '.join(report.aliases) or 'no alias'}): {report.state}, "
        f"rotation {'on' if report.rotation_enabled else 'OFF'}",
        f"{len(report.usages)} resource(s) use it; after a compromise each needs:",
    ]
    lines += [f"- {u.kind} {u.resource}: {u.re_encryption}" for u in report.usages]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(
        prog="python -m runbooks.key_usage",
        description=(
            "Key compromise and rotation (ENC-1, ENC-2): the resources in one region that use a KMS key and the "
            "re-encryption each needs after a compromise. Read-only."
        ),
    )
    add_deployment_args(parser)
    parser.add_argument("--key", required=True, help=f"a data class ({', '.join(DATA_CLASSES)}) or a key id/ARN")
    parser.add_argument("--role", choices=(PRIMARY, DR), default=PRIMARY, help="which region (default primary)")
    parser.add_argument("--json", action="store_true", help="JSON instead of text")
    args = parser.parse_args(argv)
    topology = FailoverTopology.of(ops.deployment_of(parser, args))
    key = topology.key_alias(args.key) if args.key in DATA_CLASSES else args.key
    if not (key.startswith(("alias/", "arn:aws:kms:")) or len(key) == 36):
        parser.error(f"--key {args.key!r}: allowed {', '.join(DATA_CLASSES)}, a key id or a key ARN")
    region = topology.region(args.role)
    clients = {service: boto3.client(service, region_name=region) for service in (*SERVICES, "kms")}
    try:
        report = KeyUsage(region, clients).report(key)
    except RefusedError as error:
        parser.error(str(error))
    print(json.dumps(asdict(report), indent=2) if args.json else render(report))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

"""Key compromise and rotation (ENC-1, ENC-2) against moto: who uses a key, what re-encryption each needs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from config import load_config
from config.topology import PRIMARY, FailoverTopology
from runbooks import key_usage
from runbooks.key_usage import RE_ENCRYPTION, SERVICES, KeyUsage, render
from runbooks.toolkit import EXIT_OK, EXIT_REFUSED, RefusedError
from tests.runbooks.run_cli import run_runbook

TOPO = FailoverTopology.of(load_config().get("au-production"))
REGION = TOPO.primary_region
ALIAS = "alias/au-production/customer"


class Keys:
    def __init__(self) -> None:
        self.c = {s: boto3.client(s, region_name=REGION) for s in (*SERVICES, "kms")}
        kms = self.c["kms"]
        self.customer = kms.create_key(Description="customer")["KeyMetadata"]
        self.system = kms.create_key(Description="system")["KeyMetadata"]
        kms.create_alias(AliasName=ALIAS, TargetKeyId=self.customer["KeyId"])
        kms.enable_key_rotation(KeyId=self.customer["KeyId"])
        s3 = self.c["s3"]
        for bucket, key in (("content-bucket", ALIAS), ("logs-bucket", self.system["Arn"])):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
            rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}
            s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [rule]})
        self.c["rds"].create_db_instance(
            DBInstanceIdentifier="au-production-primary-postgres",
            DBInstanceClass="db.r7g.large",
            Engine="postgres",
            AllocatedStorage=20,
            MasterUsername="app",
            MasterUserPassword="not-a-real-secret-1A!",
            StorageEncrypted=True,
            KmsKeyId=self.customer["Arn"],
        )
        volume = self.c["ec2"].create_volume(
            AvailabilityZone=f"{REGION}a", Size=8, Encrypted=True, KmsKeyId=self.customer["Arn"]
        )
        self.volume = volume["VolumeId"]
        self.c["sns"].create_topic(Name="au-production-primary-sev1", Attributes={"KmsMasterKeyId": self.system["Arn"]})
        self.c["secretsmanager"].create_secret(Name="db/master", SecretString="x", KmsKeyId=self.customer["KeyId"])
        self.c["logs"].create_log_group(logGroupName="/app", kmsKeyId=self.system["Arn"])
        self.c["backup"].create_backup_vault(
            BackupVaultName="au-production-primary-vault", EncryptionKeyArn=self.customer["Arn"]
        )


@pytest.fixture
def keys() -> Iterator[Keys]:
    with mock_aws():
        yield Keys()


def test_every_resource_using_the_customer_key_is_reported_with_its_re_encryption(keys: Keys) -> None:
    report = KeyUsage(REGION, keys.c).report(ALIAS)
    found = {(u.kind, u.resource) for u in report.usages if u.kind != "rds-snapshot"}
    snapshots = [u.resource for u in report.usages if u.kind == "rds-snapshot"]  # moto's automated snapshot
    assert len(snapshots) == 1 and snapshots[0].startswith("rds:au-production-primary-postgres")
    assert found == {
        ("s3-bucket", "content-bucket"),
        ("rds-instance", "au-production-primary-postgres"),
        ("ebs-volume", keys.volume),
        ("secret", "db/master"),
        ("backup-vault", "au-production-primary-vault"),
    }
    assert report.rotation_enabled and report.state == "Enabled" and report.aliases == [ALIAS]
    assert all(u.re_encryption == RE_ENCRYPTION[u.kind] for u in report.usages)
    assert "rotation on" in render(report)


def test_the_same_key_by_id_or_arn_gives_the_same_report(keys: Keys) -> None:
    usage = KeyUsage(REGION, keys.c)
    by_alias, by_id = usage.report(ALIAS), usage.report(keys.customer["KeyId"])
    assert by_alias == by_id == usage.report(keys.customer["Arn"])  # and a rerun is identical


def test_system_key_users_and_rotation_off(keys: Keys) -> None:
    report = KeyUsage(REGION, keys.c).report(keys.system["Arn"])
    assert {u.kind for u in report.usages} == {"s3-bucket", "sns-topic", "log-group"}
    assert "rotation OFF" in render(report)


def test_unknown_key_wrong_region_and_missing_clients_are_refused(keys: Keys) -> None:
    with pytest.raises(RefusedError, match="not found in ap-southeast-2"):
        KeyUsage(REGION, keys.c).report("alias/au-production/nope")
    wrong = {**keys.c, "rds": boto3.client("rds", region_name="us-east-1")}
    with pytest.raises(RefusedError, match="rds client is in region us-east-1"):
        KeyUsage(REGION, wrong)
    with pytest.raises(RefusedError, match="clients missing: sns"):
        KeyUsage(REGION, {k: v for k, v in keys.c.items() if k != "sns"})


def test_cli_resolves_a_data_class_to_the_deployment_alias(keys: Keys, capsys: pytest.CaptureFixture[str]) -> None:
    assert key_usage.main(["--deployment", "au-production", "--key", "customer", "--json"]) == EXIT_OK
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert report["aliases"] == [ALIAS] and len(report["usages"]) == 6
    assert TOPO.customer_key_alias() == ALIAS and TOPO.region(PRIMARY) == REGION


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--deployment", "au-production"], "--key"),
        (["--deployment", "au-production", "--key", "secret-sauce"], "allowed customer, system, logs, backup"),
        (["--deployment", "au-production", "--key", "customer", "--role", "edge"], "invalid choice: 'edge'"),
        (["--deployment", "mars-production", "--key", "customer"], "allowed: au-production"),
    ],
)
def test_cli_refuses_bad_arguments(argv: list[str], message: str) -> None:
    result = run_runbook("key_usage", *argv)
    assert result.returncode == EXIT_REFUSED and message in result.stderr


def test_cli_help_names_the_clauses() -> None:
    result = run_runbook("key_usage", "--help")
    assert result.returncode == 0 and "ENC-1" in result.stdout and "ENC-2" in result.stdout

"""Anonymised dataset for non-production (DATA-3) and the no-production-path check (HOST-3), with moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from config import load_config
from config.topology import PRIMARY, FailoverTopology
from runbooks.anonymised_dataset import Load, Produce, leaks, sha256_of
from runbooks.nonprod_isolation import IsolationCheck, production_needles
from runbooks.toolkit import EXIT_OK, EXIT_REFUSED, EXIT_STEP_FAILED, AuditLog, RefusedError
from tests.runbooks import ops_world as world
from tests.runbooks.ops_world import OpsWorld, out, secure_bucket, tls_policies_allow_boto3
from tests.runbooks.run_cli import run_runbook

ops_world = world.ops_world  # the fixture

CONFIG = load_config()
STAGING = CONFIG.get("au-staging")
NEEDLES = production_needles(CONFIG)
PROD_ACCOUNT = CONFIG.get("au-production").account


class Staging:
    def __init__(self) -> None:
        self.topo = FailoverTopology.of(STAGING)
        self.s3 = boto3.client("s3", region_name=STAGING.primary_region)
        self.iam = boto3.client("iam", region_name="us-east-1")
        self.kms = {r: boto3.client("kms", region_name=r) for r in STAGING.regions}
        self.backup = {r: boto3.client("backup", region_name=r) for r in STAGING.regions}
        secure_bucket(
            self.s3, self.kms[STAGING.primary_region], self.topo.content_bucket(PRIMARY), STAGING.primary_region
        )

    def check(self) -> IsolationCheck:
        regional = {r: (self.kms[r], self.backup[r]) for r in STAGING.regions}
        return IsolationCheck(STAGING, iam=self.iam, s3=self.s3, regional=regional)


@pytest.fixture
def staging(monkeypatch: pytest.MonkeyPatch) -> Iterator[Staging]:
    tls_policies_allow_boto3(monkeypatch)
    with mock_aws():
        yield Staging()


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- the isolation check -------------------------------------------------------------------


def test_a_clean_non_production_account_has_no_findings(staging: Staging) -> None:
    staging.iam.create_role(
        RoleName="app", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    assert staging.check().findings(NEEDLES) == []


@pytest.mark.parametrize("path", ["iam-trust", "iam-inline", "replication", "bucket-policy", "kms", "backup-copy"])
def test_every_kind_of_production_path_is_found(staging: Staging, path: str) -> None:
    prod_arn = f"arn:aws:iam::{PROD_ACCOUNT}:root"
    statement = {"Effect": "Allow", "Principal": {"AWS": prod_arn}, "Action": "s3:GetObject", "Resource": "*"}
    bucket = staging.topo.content_bucket(PRIMARY)
    if path == "iam-trust":
        trust = {"Version": "2012-10-17", "Statement": [{**statement, "Action": "sts:AssumeRole"}]}
        staging.iam.create_role(RoleName="x", AssumeRolePolicyDocument=json.dumps(trust))
    elif path == "iam-inline":
        staging.iam.create_role(RoleName="x", AssumeRolePolicyDocument="{}")
        document = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::au-production-primary-content-111111111111/*",
                }
            ],
        }
        staging.iam.put_role_policy(RoleName="x", PolicyName="read-prod", PolicyDocument=json.dumps(document))
    elif path == "replication":
        staging.s3.put_bucket_replication(
            Bucket=bucket,
            ReplicationConfiguration={
                "Role": "arn:aws:iam::111111111112:role/r",
                "Rules": [
                    {
                        "Status": "Enabled",
                        "Prefix": "",
                        "Destination": {"Bucket": "arn:aws:s3:::au-production-dr-content-111111111111"},
                    }
                ],
            },
        )
    elif path == "bucket-policy":
        policy = {"Version": "2012-10-17", "Statement": [{**statement, "Resource": f"arn:aws:s3:::{bucket}/*"}]}
        staging.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    elif path == "kms":
        policy = {"Version": "2012-10-17", "Statement": [{**statement, "Action": "kms:Decrypt"}]}
        staging.kms[STAGING.dr_region].create_key(Policy=json.dumps(policy))
    else:
        vault = f"arn:aws:backup:ap-southeast-4:{PROD_ACCOUNT}:backup-vault:au-production-dr-vault"
        staging.backup[STAGING.primary_region].create_backup_plan(
            BackupPlan={
                "BackupPlanName": "copy-to-prod",
                "Rules": [
                    {
                        "RuleName": "r",
                        "TargetBackupVaultName": "v",
                        "CopyActions": [{"DestinationBackupVaultArn": vault}],
                    }
                ],
            }
        )
    findings = staging.check().findings(NEEDLES)
    assert findings and all(f.reference in (PROD_ACCOUNT, "au-production-") for f in findings), findings


def test_the_check_refuses_production_and_wrong_regions(staging: Staging) -> None:
    with pytest.raises(RefusedError, match="is production"):
        IsolationCheck(CONFIG.get("au-production"), iam=staging.iam, s3=staging.s3, regional={})
    kms, backup = staging.kms[STAGING.primary_region], staging.backup[STAGING.primary_region]
    with pytest.raises(RefusedError, match="region us-east-1 is not one of au-staging's"):
        IsolationCheck(STAGING, iam=staging.iam, s3=staging.s3, regional={"us-east-1": (kms, backup)})
    with pytest.raises(RefusedError, match="KMS client is in region ap-southeast-2, expected ap-southeast-4"):
        IsolationCheck(STAGING, iam=staging.iam, s3=staging.s3, regional={STAGING.dr_region: (kms, backup)})


# -- produce (production) --------------------------------------------------------------------


def produce(world: OpsWorld, tmp_path: Path, **overrides: Any) -> Produce:
    values: dict[str, Any] = {
        "s3": world.s3,
        "database": world.db,
        "audit_log": AuditLog(tmp_path / "produce.jsonl"),
        "output": tmp_path / "dump.jsonl",
        "out": out(),
    }
    values.update(overrides)
    return Produce(world.deployment, **values)


def test_produce_writes_a_scanned_dump_and_records_its_checksum(ops_world: OpsWorld, tmp_path: Path) -> None:
    ops_world.put("tenants/acme-real/a.pdf")
    result = produce(ops_world, tmp_path).run("anon-1", execute=True)
    assert result.exit_code == EXIT_OK, lines(tmp_path / "produce.jsonl")
    scan = next(r for r in lines(tmp_path / "produce.jsonl") if r["step"] == "scan")
    assert scan["detail"]["sha256"] == sha256_of(tmp_path / "dump.jsonl") and scan["clause"] == "DATA-3"
    before = (tmp_path / "produce.jsonl").read_text()
    assert produce(ops_world, tmp_path).run("anon-1", execute=True).outcome == "already-completed"
    assert (tmp_path / "produce.jsonl").read_text() == before and ops_world.db.calls == ["anonymised_dump"]


@pytest.mark.parametrize(
    ("dump", "message"),
    [
        ('{"email": "jane.doe@gmail.com"}\n', "e-mail address"),
        ('{"tenant": "acme-real"}\n', "production tenant id 'acme-real'"),
    ],
)
def test_produce_deletes_a_dump_with_production_data(
    ops_world: OpsWorld, tmp_path: Path, dump: str, message: str
) -> None:
    ops_world.put("tenants/acme-real/a.pdf")
    ops_world.db.dump_text = dump
    result = produce(ops_world, tmp_path).run("anon-1", execute=True)
    assert result.exit_code == EXIT_STEP_FAILED and result.failed_step == "scan"
    assert message in lines(tmp_path / "produce.jsonl")[-1]["detail"]["error"]
    assert not (tmp_path / "dump.jsonl").exists()


def test_produce_refuses_a_non_production_source_and_a_wrong_region(ops_world: OpsWorld, tmp_path: Path) -> None:
    with pytest.raises(RefusedError, match="is not production"):
        Produce(
            STAGING,
            s3=ops_world.s3,
            database=ops_world.db,
            audit_log=AuditLog(tmp_path / "p.jsonl"),
            output=tmp_path / "d",
        )
    wrong = produce(ops_world, tmp_path, s3=boto3.client("s3", region_name="us-west-2")).run("anon-1", execute=True)
    assert wrong.exit_code == EXIT_REFUSED and not (tmp_path / "dump.jsonl").exists()


def test_produce_dry_run_writes_no_dump(ops_world: OpsWorld, tmp_path: Path) -> None:
    assert produce(ops_world, tmp_path).run("anon-1").outcome == "planned"
    assert not (tmp_path / "dump.jsonl").exists() and ops_world.db.calls == []


# -- load (non-production) ---------------------------------------------------------------------


def dump_file(tmp_path: Path, text: str = '{"email": "learner-1@example.com"}\n') -> tuple[Path, str]:
    path = tmp_path / "dump.jsonl"
    path.write_text(text)
    return path, sha256_of(path)


def load(staging: Staging, tmp_path: Path) -> Load:
    return Load(
        STAGING,
        s3=staging.s3,
        isolation=staging.check(),
        needles=NEEDLES,
        audit_log=AuditLog(tmp_path / "load.jsonl"),
        out=out(),
    )


def test_load_uploads_to_the_non_production_bucket_once(staging: Staging, tmp_path: Path) -> None:
    path, digest = dump_file(tmp_path)
    assert load(staging, tmp_path).run("anon-1", path, digest, execute=True).exit_code == EXIT_OK
    head = staging.s3.head_object(Bucket=staging.topo.content_bucket(PRIMARY), Key="anonymised/anon-1/dump.jsonl")
    assert head["Metadata"]["sha256"] == digest
    before = (tmp_path / "load.jsonl").read_text()
    assert load(staging, tmp_path).run("anon-1", path, digest, execute=True).outcome == "already-completed"
    assert (tmp_path / "load.jsonl").read_text() == before


@pytest.mark.parametrize("problem", ["isolation", "checksum", "leak", "missing", "region"])
def test_load_refusals_upload_nothing(staging: Staging, tmp_path: Path, problem: str) -> None:
    path, digest = dump_file(tmp_path, '{"email": "real.person@outlook.com"}\n' if problem == "leak" else "{}\n")
    job = load(staging, tmp_path)
    if problem == "isolation":
        staging.kms[STAGING.primary_region].create_key(
            Policy=json.dumps({"Statement": [{"Principal": {"AWS": PROD_ACCOUNT}}]})
        )
    elif problem == "checksum":
        digest = "0" * 64
    elif problem == "missing":
        path = tmp_path / "nope.jsonl"
    elif problem == "region":
        job.s3 = boto3.client("s3", region_name="eu-west-2")
    result = job.run("anon-1", path, digest, execute=True)
    assert result.exit_code == EXIT_REFUSED, lines(tmp_path / "load.jsonl")
    assert staging.s3.list_objects_v2(Bucket=staging.topo.content_bucket(PRIMARY)).get("KeyCount") == 0


def test_load_refuses_a_production_target(staging: Staging) -> None:
    with pytest.raises(RefusedError, match="is production"):
        Load(
            CONFIG.get("au-production"),
            s3=staging.s3,
            isolation=staging.check(),
            needles=NEEDLES,
            audit_log=AuditLog(Path("x")),
        )


def test_the_scanner_allows_reserved_example_domains_only() -> None:
    assert leaks(b"a@example.com b@x.invalid c@example.org") == []
    assert leaks(b"real@company.com.au") == ["e-mail address at byte 0"]


@pytest.mark.parametrize(
    ("module", "argv", "message"),
    [
        ("anonymised_dataset", ["produce", "--deployment", "au-production", "--dump", "d"], "--dataset-id"),
        ("anonymised_dataset", ["unload", "--deployment", "au-production"], "invalid choice: 'unload'"),
        (
            "anonymised_dataset",
            ["load", "--deployment", "au-staging", "--dataset-id", "a", "--dump", "d"],
            "--sha256 is required",
        ),
        ("nonprod_isolation", ["--deployment", "au-production"], "au-production is production"),
        ("nonprod_isolation", ["--deployment", "mars-staging"], "allowed: au-production"),
    ],
)
def test_cli_refuses_bad_arguments(module: str, argv: list[str], message: str) -> None:
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-southeast-2",
        "PATH": "",
    }
    result = run_runbook(module, *argv, env=env)
    assert result.returncode == EXIT_REFUSED and message in result.stderr


@pytest.mark.parametrize("module", ["anonymised_dataset", "nonprod_isolation"])
def test_cli_help_names_the_clause(module: str) -> None:
    result = run_runbook(module, "--help")
    assert result.returncode == 0 and "DATA-3" in result.stdout

"""Tests of policies/rules/generic.py (rules that apply to every resource): compliant and non-compliant cases."""

from __future__ import annotations

from typing import Any

import pytest

from policies.rules import generic
from tests.policies.rulekit import NA, C, N, check, deployment, res, stack

DR_VAULT = "arn:aws:backup:ap-southeast-4:111111111111:backup-vault:au-production-dr-vault"


def test_host2_host3_enc4_bak8_host5_every_resource_rules() -> None:
    topic = res("T", "AWS::SNS::Topic", {"TopicName": "x"})
    assert check(generic.stack_region, topic) is C
    assert check(generic.stack_region, topic, stack(topic, region="us-east-1")) is N
    copy = res("P", "AWS::Backup::BackupPlan", {"Dest": "arn:aws:backup:us-east-1:111111111111:backup-vault:x"})
    assert check(generic.region_references, copy) is N
    assert check(generic.region_references, res("P", "AWS::Backup::BackupPlan", {"Dest": DR_VAULT})) is C

    grant = res(
        "K", "AWS::KMS::Key", {"KeyPolicy": {"Statement": [{"Principal": {"AWS": "arn:aws:iam::111111111111:root"}}]}}
    )
    dev = stack(grant, name="au-development")
    assert check(generic.no_production_reference, grant, dev) is N
    named = res("Q", "AWS::SNS::Topic", {"TopicName": "au-production-alerts"})
    assert check(generic.no_production_reference, named, stack(named, name="au-development")) is N
    assert check(generic.no_production_reference, topic, stack(topic, name="au-development")) is C
    assert check(generic.no_production_reference, topic) is NA

    assert (
        check(generic.no_plaintext_secrets, res("D", "AWS::RDS::DBInstance", {"MasterUserPassword": "hunter2!"})) is N
    )
    assert check(generic.no_plaintext_secrets, res("S", "AWS::SecretsManager::Secret", {"SecretString": "x"})) is N
    assert (
        check(
            generic.no_plaintext_secrets,
            res("D", "AWS::RDS::DBInstance", {"MasterUserPassword": "{{resolve:secretsmanager:s}}"}),
        )
        is C
    )

    retained = res("B", "AWS::S3::Bucket", {}, DeletionPolicy="Retain", UpdateReplacePolicy="Retain")
    assert check(generic.retain_stateful, retained) is C
    assert check(generic.retain_stateful, res("B", "AWS::S3::Bucket", {})) is N
    assert check(generic.termination_protection, retained) is C
    assert check(generic.termination_protection, retained, stack(retained, termination_protection=False)) is N
    tagged = res("B", "AWS::S3::Bucket", {"Tags": [{"Key": "data-classification", "Value": "customer"}]})
    assert check(generic.data_classification, tagged) is C
    assert check(generic.data_classification, res("B", "AWS::S3::Bucket", {})) is N


PRODUCTION_ACCOUNT = deployment("au-production").account


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        pytest.param(
            f"arn:aws:iam::{PRODUCTION_ACCOUNT}:role/" + "r" * 200,
            "refers to production account {account} in {quoted}",
            id="HOST3-NoProductionReference-account-quoted-to-120-characters",
        ),
        pytest.param(
            "au-production-alerts-" + "x" * 200,
            "refers to production deployment 'au-production' in {quoted}",
            id="HOST3-NoProductionReference-name-quoted-to-120-characters",
        ),
    ],
)
def test_host3_no_production_reference_quotes_the_reference(text: str, detail: str) -> None:
    topic = res("Q", "AWS::SNS::Topic", {"TopicName": text})
    result = generic.no_production_reference.check(topic, stack(topic, name="au-development"))
    assert result.detail == detail.format(account=PRODUCTION_ACCOUNT, quoted=repr(text[:120]))


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        pytest.param(
            res("D", "AWS::RDS::DBInstance", {"MasterUserPassword": 12345678}),
            N,
            id="ENC4-NoPlaintextSecrets-numeric-password",
        ),
        pytest.param(
            res("D", "AWS::RDS::DBInstance", {"MasterUserPassword": "{{resolve:ssm-secure:p}}"}),
            C,
            id="ENC4-NoPlaintextSecrets-ssm-secure-reference",
        ),
        pytest.param(
            res("D", "AWS::RDS::DBInstance", {"MasterUserPassword": ""}), C, id="ENC4-NoPlaintextSecrets-empty-value"
        ),
        pytest.param(
            res("S", "AWS::SecretsManager::Secret", {"GenerateSecretString": {"PasswordLength": 32}}),
            C,
            id="ENC4-NoPlaintextSecrets-generated-secret",
        ),
        pytest.param(
            res("S", "AWS::SecretsManager::Secret", {"SecretString": "{{resolve:ssm-secure:p}}"}),
            N,
            id="ENC4-NoPlaintextSecrets-secret-string-even-as-a-reference",
        ),
        pytest.param(
            res("P", "AWS::SSM::Parameter", {"Value": "{{resolve:ssm-secure:p}}", "SecretString": ""}),
            C,
            id="ENC4-NoPlaintextSecrets-empty-secret-string-outside-a-secret",
        ),
    ],
)
def test_enc4_no_plaintext_secrets(resource: Any, expected: object) -> None:
    assert check(generic.no_plaintext_secrets, resource) is expected


@pytest.mark.parametrize(
    ("type_", "policy", "expected"),
    [
        pytest.param("AWS::RDS::DBInstance", "Snapshot", C, id="BAK8-RetainStateful-database-snapshot"),
        pytest.param("AWS::S3::Bucket", "Snapshot", N, id="BAK8-RetainStateful-bucket-cannot-snapshot"),
        pytest.param("AWS::S3::Bucket", "RetainExceptOnCreate", C, id="BAK8-RetainStateful-retain-except-on-create"),
        pytest.param("AWS::S3::Bucket", "Delete", N, id="BAK8-RetainStateful-delete"),
    ],
)
def test_bak8_retain_stateful(type_: str, policy: str, expected: object) -> None:
    resource = res("R", type_, {}, DeletionPolicy=policy, UpdateReplacePolicy=policy)
    assert check(generic.retain_stateful, resource) is expected


def test_bak8_retain_stateful_names_the_default() -> None:
    bucket = res("B", "AWS::S3::Bucket", {}, DeletionPolicy="Retain")
    assert generic.retain_stateful.check(bucket, stack(bucket)).detail == "UpdateReplacePolicy=Delete (default)"


def test_bak8_termination_protection_not_applicable_outside_production() -> None:
    bucket = res("B", "AWS::S3::Bucket", {}, DeletionPolicy="Retain")
    view = stack(bucket, name="au-development", termination_protection=False)
    assert check(generic.termination_protection, bucket, view) is NA


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        pytest.param(
            res("V", "AWS::Backup::BackupVault", {"BackupVaultTags": {"data-classification": "backup"}}),
            C,
            id="HOST5-DataClassification-vault-tags",
        ),
        pytest.param(res("V", "AWS::Backup::BackupVault", {}), N, id="HOST5-DataClassification-untagged-vault"),
        pytest.param(
            res("B", "AWS::S3::Bucket", {"Tags": [{"Key": "data-classification", "Value": "secret"}]}),
            N,
            id="HOST5-DataClassification-unknown-class",
        ),
    ],
)
def test_host5_data_classification(resource: Any, expected: object) -> None:
    assert check(generic.data_classification, resource) is expected


@pytest.mark.parametrize(
    ("region", "with_deployment", "expected"),
    [
        pytest.param("ap-southeast-2", True, C, id="HOST2-StackRegion-primary-region"),
        pytest.param("ap-southeast-4", True, C, id="HOST2-StackRegion-other-jurisdiction-region"),
        pytest.param("us-east-1", True, N, id="HOST2-StackRegion-outside-the-jurisdiction"),
        pytest.param("ap-southeast-2", False, N, id="HOST2-StackRegion-no-deployment"),
    ],
)
def test_host2_stack_region(region: str, with_deployment: bool, expected: object) -> None:
    topic = res("T", "AWS::SNS::Topic", {})
    view = stack(topic, region=region) if with_deployment else stack(topic, region=region, deployment=None)
    assert check(generic.stack_region, topic, view) is expected


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param({"Dest": DR_VAULT}, C, id="HOST2-RegionReferences-inside"),
        pytest.param({"Az": "ap-southeast-2a"}, C, id="HOST2-RegionReferences-availability-zone"),
        pytest.param({"Dest": DR_VAULT.replace("ap-southeast-4", "eu-west-2")}, N, id="HOST2-RegionReferences-outside"),
        pytest.param({"Name": "x"}, NA, id="HOST2-RegionReferences-names-no-region"),
    ],
)
def test_host2_region_references(props: dict[str, Any], expected: object) -> None:
    assert check(generic.region_references, res("P", "AWS::Backup::BackupPlan", props)) is expected


@pytest.mark.parametrize(
    ("name", "protected", "expected"),
    [
        pytest.param("au-production", True, C, id="BAK8-TerminationProtection-production-protected"),
        pytest.param("au-production", False, N, id="BAK8-TerminationProtection-production-unprotected"),
        pytest.param("au-development", False, NA, id="BAK8-TerminationProtection-non-production"),
    ],
)
def test_bak8_termination_protection(name: str, protected: bool, expected: object) -> None:
    bucket = res("B", "AWS::S3::Bucket", {}, DeletionPolicy="Retain")
    view = stack(bucket, name=name, termination_protection=protected)
    assert check(generic.termination_protection, bucket, view) is expected

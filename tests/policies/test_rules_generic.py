"""Tests of policies/rules/generic.py (rules that apply to every resource): compliant and non-compliant cases."""

from __future__ import annotations

from policies.rules import generic
from tests.policies.rulekit import NA, C, N, check, res, stack

DR_VAULT = "arn:aws:backup:ap-southeast-4:111111111111:backup-vault:au-production-dr-vault"


def test_every_resource_rules() -> None:
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

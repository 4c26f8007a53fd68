"""OperationsStack (DATA-2, OPS-6): the export and evidence buckets of au-production's primary stage,
synthesized once per session with every pack (tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from config.topology import FailoverTopology
from runbooks import ops
from stacks.operations import EXPORT_DAYS
from tests.conftest import Stages


@pytest.fixture(scope="module")
def operations(au_production: Stages) -> tuple[Template, Any]:
    primary = au_production["primary"]
    stack = primary.node.find_child("Operations")
    return Template.from_stack(stack), primary  # type: ignore[arg-type]


def _bucket(template: Template, name: str) -> dict[str, Any]:
    found = template.find_resources("AWS::S3::Bucket", {"Properties": {"BucketName": name}})
    assert len(found) == 1, name
    properties: dict[str, Any] = next(iter(found.values()))["Properties"]
    return properties


def test_bucket_names_are_the_ones_the_runbooks_derive(operations: tuple[Template, Any]) -> None:
    template, primary = operations
    topo = FailoverTopology.of(primary.deployment)
    for name in (ops.export_bucket(topo), ops.evidence_bucket(topo)):
        properties = _bucket(template, name)
        assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
        rule = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        assert "KMSMasterKeyID" in rule["ServerSideEncryptionByDefault"]
        assert properties["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True


def test_both_buckets_deny_requests_without_tls(operations: tuple[Template, Any]) -> None:
    template, _ = operations
    policies = template.find_resources("AWS::S3::BucketPolicy")
    tls = [
        p
        for p in policies.values()
        if any(
            s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        )
    ]
    assert len(tls) == 3  # exports, evidence and their access-log bucket


def test_exports_expire_and_evidence_is_archived(operations: tuple[Template, Any]) -> None:
    template, primary = operations
    topo = FailoverTopology.of(primary.deployment)
    exports = _bucket(template, ops.export_bucket(topo))["LifecycleConfiguration"]["Rules"]
    assert {"Id": "ExportsExpire", "ExpirationInDays": EXPORT_DAYS, "Status": "Enabled"} in exports
    evidence = _bucket(template, ops.evidence_bucket(topo))["LifecycleConfiguration"]["Rules"]
    assert any(rule.get("Transitions") for rule in evidence)


def test_customer_key_for_exports_logs_key_for_evidence(operations: tuple[Template, Any]) -> None:
    template, primary = operations
    topo = FailoverTopology.of(primary.deployment)
    exports = _bucket(template, ops.export_bucket(topo))
    tags = {t["Key"]: t["Value"] for t in exports["Tags"]}
    assert tags["data-classification"] == "customer"
    evidence = {t["Key"]: t["Value"] for t in _bucket(template, ops.evidence_bucket(topo))["Tags"]}
    assert evidence["data-classification"] == "logs"
    retained = template.find_resources("AWS::S3::Bucket", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
    assert len(retained) == 3


def test_stack_is_named_and_protected_like_every_platform_stack(operations: tuple[Template, Any]) -> None:
    _, primary = operations
    stack = primary.node.find_child("Operations")
    assert isinstance(stack, cdk.Stack)
    assert stack.stack_name == "au-production-primary-operations" and stack.termination_protection


def test_the_trail_records_data_events_of_the_export_bucket(operations: tuple[Template, Any]) -> None:
    """ACC-3: every download of an export is in CloudTrail (the Audit stack selects the bucket by name)."""
    _, primary = operations
    trail = Template.from_stack(primary.node.find_child("Audit")).find_resources("AWS::CloudTrail::Trail")
    [properties] = [t["Properties"] for t in trail.values()]
    selectors = str(properties["AdvancedEventSelectors"])
    assert f"arn:aws:s3:::{ops.export_bucket(FailoverTopology.of(primary.deployment))}/" in selectors

"""OperationsStack (DATA-2, OPS-6): au-production synthesized with every pack, the stack added to the primary stage.

`stacks/stages.py` does not build the stack yet (it is wired in by the integrator), so
this fixture builds the app as `tests/conftest.py` does, adds the stack to the primary
stage before synthesis and fails on any finding of any pack.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from config import PlatformConfig
from config.topology import FailoverTopology
from policies.registration import FAIL_ON_FINDINGS, register_policy_packs
from runbooks import ops
from stacks.app_builder import Selection, build_app
from stacks.operations import EXPORT_DAYS, OperationsStack
from stacks.stages import PrimaryStage
from tests.conftest import CDK_JSON_CONTEXT


@pytest.fixture(scope="session")
def operations(platform_config: PlatformConfig, tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, Any]:
    app = cdk.App(
        outdir=str(tmp_path_factory.mktemp("au-production-ops")),
        context=CDK_JSON_CONTEXT,
        post_cli_context=FAIL_ON_FINDINGS,
    )
    stages = build_app(app, platform_config, Selection(deployment="au-production"))
    primary = next(stage for stage in stages if isinstance(stage, PrimaryStage))
    stack = OperationsStack(
        primary, "Operations", deployment=primary.deployment, role=primary.role, key_ring=primary.keys.key_ring
    )
    register_policy_packs(app)
    app.synth()  # raises on any unacknowledged finding of any pack
    return Template.from_stack(stack), primary


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
    retained = template.find_resources(
        "AWS::S3::Bucket", {"DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain"}
    )
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

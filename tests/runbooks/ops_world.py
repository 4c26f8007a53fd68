"""Moto world for the operational runbooks (DATA-1, DATA-2, DATA-3, OPS-6, ENC-1, BAK-9).

au-production's content buckets in both regions (versioned, SSE-KMS, TLS-only), the
export and evidence buckets, and `FakeDatabase`: the application's `TenantDatabase`
as the runbooks expect it (idempotent per request reference).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import boto3
import pytest
from moto import mock_aws

from config import load_config
from config.model import Deployment
from config.topology import DR, PRIMARY, FailoverTopology
from runbooks import ops
from runbooks.app_data import DatabaseChange, DumpInfo

DEPLOYMENT = "au-production"


def tls_only_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def locked(s3: Any, bucket: str, mode: str = "COMPLIANCE", days: int = 2555) -> None:
    """The default retention of an audit bucket created with Object Lock (patterns/audit_lock.py)."""
    s3.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": mode, "Days": days}},
        },
    )


def secure_bucket(
    s3: Any, kms: Any, bucket: str, region: str, *, key_alias: str | None = None, object_lock: bool = False
) -> str:
    s3.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}, ObjectLockEnabledForBucket=object_lock
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    key = kms.create_key(Description=bucket)["KeyMetadata"]["Arn"]
    if key_alias:
        kms.create_alias(AliasName=key_alias, TargetKeyId=key)
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]
        },
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=tls_only_policy(bucket))
    return str(key)


@dataclass
class FakeDatabase:
    """An application database: tenants -> table -> rows; persons -> their file keys."""

    tenants: dict[str, dict[str, int]] = field(default_factory=dict)
    persons: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    anonymised: set[tuple[str, str]] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)
    dump_text: str = '{"tenant": "tenant-0001", "email": "user-1@example.invalid"}\n'

    def tenant_exists(self, tenant_id: str) -> bool:
        return tenant_id in self.tenants or tenant_id in self.removed

    def person_exists(self, tenant_id: str, person_id: str) -> bool:
        return (tenant_id, person_id) in self.persons

    def person_object_keys(self, tenant_id: str, person_id: str) -> list[str]:
        return list(self.persons[(tenant_id, person_id)])

    def delete_tenant(self, tenant_id: str, request_ref: str) -> DatabaseChange:
        self.calls.append(f"delete_tenant {tenant_id} {request_ref}")
        rows = self.tenants.pop(tenant_id, {})
        self.removed.add(tenant_id)
        return DatabaseChange(rows)

    def anonymise_person(self, tenant_id: str, person_id: str, request_ref: str) -> DatabaseChange:
        self.calls.append(f"anonymise_person {tenant_id} {person_id} {request_ref}")
        first = (tenant_id, person_id) not in self.anonymised
        self.anonymised.add((tenant_id, person_id))
        return DatabaseChange({"people": 1 if first else 0})

    def export_tenant(self, tenant_id: str, out: BinaryIO) -> DumpInfo:
        self.calls.append(f"export_tenant {tenant_id}")
        rows = self.tenants[tenant_id]
        out.write(json.dumps({"tenant": tenant_id, "rows": rows}).encode() + b"\n")
        return DumpInfo("jsonl", sum(rows.values()))

    def anonymised_dump(self, out: BinaryIO) -> DumpInfo:
        self.calls.append("anonymised_dump")
        out.write(self.dump_text.encode())
        return DumpInfo("jsonl", self.dump_text.count("\n"))


@dataclass
class OpsWorld:
    deployment: Deployment
    topo: FailoverTopology
    s3: Any
    dr_s3: Any
    kms: Any
    dr_kms: Any
    db: FakeDatabase

    def put(self, key: str, body: bytes = b"data", *, role: str = PRIMARY, versions: int = 1) -> None:
        client = self.s3 if role == PRIMARY else self.dr_s3
        for n in range(versions):
            client.put_object(Bucket=self.topo.content_bucket(role), Key=key, Body=body + str(n).encode())

    def put_both(self, key: str, *, versions: int = 1) -> None:
        self.put(key, versions=versions)
        self.put(key, role=DR, versions=versions)

    def versions(self, role: str, prefix: str) -> list[dict[str, Any]]:
        client = self.s3 if role == PRIMARY else self.dr_s3
        return list(ops.iter_versions(client, self.topo.content_bucket(role), prefix))


def tls_policies_allow_boto3(monkeypatch: pytest.MonkeyPatch) -> None:
    # moto 5.2 evaluates bucket policies without their conditions, so the TLS-only deny
    # (`aws:SecureTransport` false) would deny every call; boto3 always uses TLS, so in AWS
    # that statement never applies to these calls. Neutralise moto's evaluation HERE ONLY.
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    monkeypatch.setattr(FakeBucket, "get_permission", lambda self, action, resource: PermissionResult.NEUTRAL)


@pytest.fixture
def ops_world(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpsWorld]:
    tls_policies_allow_boto3(monkeypatch)
    deployment = load_config().get(DEPLOYMENT)
    topo = FailoverTopology.of(deployment)
    with mock_aws():
        s3 = boto3.client("s3", region_name=topo.primary_region)
        dr_s3 = boto3.client("s3", region_name=topo.dr_region)
        kms = boto3.client("kms", region_name=topo.primary_region)
        dr_kms = boto3.client("kms", region_name=topo.dr_region)
        alias = topo.customer_key_alias()
        secure_bucket(s3, kms, topo.content_bucket(PRIMARY), topo.primary_region, key_alias=alias)
        secure_bucket(dr_s3, dr_kms, topo.content_bucket(DR), topo.dr_region, key_alias=alias)
        secure_bucket(s3, kms, ops.export_bucket(topo), topo.primary_region)
        secure_bucket(s3, kms, ops.evidence_bucket(topo), topo.primary_region, object_lock=True)
        locked(s3, ops.evidence_bucket(topo))
        db = FakeDatabase(
            tenants={"tenant-0001": {"learners": 3, "results": 7}, "tenant-0002": {"learners": 1}},
            persons={("tenant-0001", "person-9"): ["tenants/tenant-0001/people/person-9/photo.png"]},
        )
        yield OpsWorld(deployment, topo, s3, dr_s3, kms, dr_kms, db)


def out() -> io.StringIO:
    return io.StringIO()

"""The emulator's strict RDS and S3 behaviours (tooling/emulator), applied in-process for one test.

The launcher applies them to the moto server of the game day; here they are set with
`monkeypatch`, so a test sees what AWS would refuse or skip without a server.
"""

from __future__ import annotations

import pytest
from moto.rds.models import DBInstance, RDSBackend
from moto.s3.models import FakeKey, S3Backend
from moto.s3.responses import S3Response

from tooling.emulator import rds, s3


def apply(monkeypatch: pytest.MonkeyPatch) -> None:
    create = rds.refusing_cross_region_parameter_group(rds.create_replica_in_its_own_region)
    monkeypatch.setattr(RDSBackend, "create_db_instance_read_replica", create)
    monkeypatch.setattr(RDSBackend, "modify_db_instance", rds.modify_db_instance_keeping_links)
    monkeypatch.setattr(DBInstance, "remove_replica", rds.remove_replica)
    monkeypatch.setattr(RDSBackend, "promote_read_replica", rds.promote_read_replica)
    monkeypatch.setattr(S3Backend, "put_object", s3.put_object_and_replicate)
    monkeypatch.setattr(S3Backend, "copy_object", s3.copy_object_and_replicate)
    monkeypatch.setattr(S3Backend, "delete_object", s3.delete_object_and_replicate)
    monkeypatch.setattr(S3Response, "_key_response_put", s3.key_response_put)
    monkeypatch.setattr(S3Response, "_key_response_post", s3.key_response_post)
    monkeypatch.setattr(S3Response, "get_bucket_replication", s3.get_bucket_replication)
    monkeypatch.setattr(FakeKey, "response_dict", property(s3.response_dict_with_replication_status))
    monkeypatch.setattr(FakeKey, "etag", property(s3.opaque_etag_for_sse_kms))

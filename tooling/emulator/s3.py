"""S3: replication configuration from CloudFormation, and replication of objects.

Replication is synchronous: the PutObject, CopyObject or DeleteObject that writes the
source returns after the replica is written, so nothing is ever pending (what a test of
RTC sees as "pending = 0"; `pending_replications()` answers 0 for that reason). The source
object reads `ReplicationStatus: COMPLETED` (FAILED when the destination bucket is
missing), the replica `REPLICA`. Replicas are not replicated again. As on S3, an SSE-KMS
object is skipped (no status) by a rule without `SseKmsEncryptedObjects` and a
`ReplicaKmsKeyID`; its replica is encrypted with that key.

ETags: "objects encrypted by SSE-C or SSE-KMS have ETags that are not an MD5 digest of their
object data" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html), so a copy or a
replica of an SSE-KMS object cannot be recognised by its ETag; moto returns the MD5 for every
object. The emulator gives an SSE-KMS object an opaque ETag of its own (bucket, key, version).
"""

from __future__ import annotations

import threading
from hashlib import md5
from typing import Any

from moto.s3.models import FakeBucket, FakeDeleteMarker, FakeKey, S3Backend
from moto.s3.responses import S3Response

from tooling.emulator.patch import Patch

_state = threading.local()  # `written`: keys to replicate after this request; `replicating`: writing a replica


def pending_replications() -> int:
    """Objects waiting to be replicated: always 0, replication happens within the request."""
    return 0


def replication_from_cloudformation(configuration: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's `ReplicationConfiguration` in the shape moto stores (that of the XML API)."""
    rules = []
    for number, rule in enumerate(configuration.get("Rules", []), start=1):
        stored = {key: value for key, value in rule.items() if key != "Id"}
        stored["ID"] = rule.get("Id") or f"rule-{number}"
        stored.setdefault("Priority", number)
        rules.append(stored)
    return {"Role": configuration.get("Role"), "Rule": rules}


def _prefix(rule: dict[str, Any]) -> str:
    filter_ = rule.get("Filter") or {}
    prefix = filter_.get("Prefix", (filter_.get("And") or {}).get("Prefix", rule.get("Prefix", "")))
    return str(prefix or "")


def _enabled(setting: Any) -> bool:
    return isinstance(setting, dict) and setting.get("Status") == "Enabled"


def _matching_rules(bucket: FakeBucket, key_name: str) -> list[dict[str, Any]]:
    replication = getattr(bucket, "replication", None) or {}
    rules = replication.get("Rule") or []
    rules = [rules] if isinstance(rules, dict) else rules
    matching = [r for r in rules if r.get("Status") == "Enabled" and key_name.startswith(_prefix(r))]
    chosen: dict[str, dict[str, Any]] = {}  # the highest priority rule per destination bucket
    for rule in sorted(matching, key=lambda r: int(r.get("Priority") or 0), reverse=True):
        chosen.setdefault(_destination(rule), rule)
    return list(chosen.values())


def _destination(rule: dict[str, Any]) -> str:
    return str(rule["Destination"]["Bucket"]).split(":::")[-1]


def _replica_kms_key(rule: dict[str, Any], key: Any) -> tuple[bool, str | None]:
    """(replicated, the replica's KMS key) of one object under one rule.

    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html:
    "By default, Amazon S3 doesn't replicate objects that are stored at rest by using server-side
    encryption with AWS KMS keys"; a rule replicates them only with
    SourceSelectionCriteria.SseKmsEncryptedObjects Enabled and a Destination
    EncryptionConfiguration.ReplicaKmsKeyID, the key the replicas are encrypted with.
    """
    if not str(getattr(key, "encryption", None) or "").startswith("aws:kms"):
        return True, None
    criteria = (rule.get("SourceSelectionCriteria") or {}).get("SseKmsEncryptedObjects")
    replica_key = (rule["Destination"].get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID")
    if not _enabled(criteria) or not replica_key:
        return False, None
    return True, str(replica_key)


def replicate_key(backend: S3Backend, bucket_name: str, key: Any) -> None:
    if getattr(_state, "replicating", False):
        return
    bucket = backend.get_bucket(bucket_name)
    rules = [rule for rule in _matching_rules(bucket, key.name) if _replica_kms_key(rule, key)[0]]
    if not rules:
        return
    status = "COMPLETED"
    for rule in rules:
        destination = _destination(rule)
        if destination not in backend.buckets:
            status = "FAILED"
            continue
        _state.replicating = True
        try:
            replica: Any = _put_object(
                backend,
                destination,
                key.name,
                key.value,
                storage=rule["Destination"].get("StorageClass") or key.storage_class,
                encryption=key.encryption,
                kms_key_id=_replica_kms_key(rule, key)[1],
            )
        finally:
            _state.replicating = False
        replica.set_metadata(key.metadata)
        replica.replication_status = "REPLICA"
    key.replication_status = status


def replicate_delete_marker(backend: S3Backend, bucket_name: str, key_name: str) -> None:
    if getattr(_state, "replicating", False):
        return
    bucket = backend.get_bucket(bucket_name)
    for rule in _matching_rules(bucket, key_name):
        destination = _destination(rule)
        if _enabled(rule.get("DeleteMarkerReplication")) and destination in backend.buckets:
            _state.replicating = True
            try:
                _delete_object(backend, destination, key_name)
            finally:
                _state.replicating = False


_put_object = S3Backend.put_object
_copy_object = S3Backend.copy_object
_delete_object = S3Backend.delete_object


class _Deferred:
    """Collect the keys written inside a request; replicate them once the request has set
    their metadata, tags and content type (moto sets those after its PutObject)."""

    def __init__(self, backend: S3Backend) -> None:
        self.backend = backend

    def __enter__(self) -> _Deferred:
        self.outer = getattr(_state, "written", None)
        if self.outer is None:
            _state.written = []
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.outer is not None:
            return
        written, _state.written = _state.written, None
        for bucket_name, key_name in dict.fromkeys(written):
            bucket = self.backend.buckets.get(bucket_name)
            key = bucket.keys.get(key_name) if bucket is not None else None
            if isinstance(key, FakeKey):
                replicate_key(self.backend, bucket_name, key)


def put_object_and_replicate(self: S3Backend, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> FakeKey:
    key = _put_object(self, bucket_name, key_name, *args, **kwargs)
    written = getattr(_state, "written", None)
    if written is not None:
        written.append((bucket_name, key_name))
    else:
        replicate_key(self, bucket_name, key)
    return key


def copy_object_and_replicate(
    self: S3Backend, src_key: FakeKey, dest_bucket_name: str, dest_key_name: str, *args: Any, **kwargs: Any
) -> None:
    with _Deferred(self):
        _copy_object(self, src_key, dest_bucket_name, dest_key_name, *args, **kwargs)


_key_response_put = S3Response._key_response_put
_key_response_post = S3Response._key_response_post


def key_response_put(self: S3Response, *args: Any, **kwargs: Any) -> Any:
    with _Deferred(self.backend):
        return _key_response_put(self, *args, **kwargs)


def key_response_post(self: S3Response, *args: Any, **kwargs: Any) -> Any:
    with _Deferred(self.backend):
        return _key_response_post(self, *args, **kwargs)


def delete_object_and_replicate(
    self: S3Backend, bucket_name: str, key_name: str, version_id: str | None = None, bypass: bool = False
) -> tuple[bool, dict[str, Any]]:
    """A delete without a version id replicates its delete marker if the rule says so (AWS)."""
    deleted, meta = _delete_object(self, bucket_name, key_name, version_id=version_id, bypass=bypass)
    if version_id is None and meta.get("delete-marker") == "true":
        replicate_delete_marker(self, bucket_name, key_name)
    return deleted, meta


_response_dict: Any = FakeKey.response_dict


def response_dict_with_replication_status(self: FakeKey) -> dict[str, Any]:
    headers: dict[str, Any] = _response_dict.fget(self)
    if status := getattr(self, "replication_status", None):
        headers["x-amz-replication-status"] = status
    return headers


def get_bucket_replication(self: S3Response) -> Any:
    """moto answers every rule with DeleteMarkerReplication Disabled, an empty filter and no SourceSelectionCriteria."""
    from moto.core.responses import ActionResult
    from moto.s3.exceptions import ReplicationConfigurationNotFoundError

    self.data["Action"] = "GetBucketReplication"
    replication = self.backend.get_bucket_replication(self.bucket_name)
    if not replication:
        raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
    rules = replication["Rule"] if isinstance(replication["Rule"], list) else [replication["Rule"]]
    answered = []
    for rule in rules:
        answer = {
            "ID": rule["ID"],
            "Priority": int(rule.get("Priority") or 1),
            "Status": rule["Status"],
            "DeleteMarkerReplication": rule.get("DeleteMarkerReplication") or {"Status": "Disabled"},
            "Destination": rule["Destination"],
        }
        if rule.get("SourceSelectionCriteria"):
            answer["SourceSelectionCriteria"] = rule["SourceSelectionCriteria"]
        if "Filter" in rule or "Prefix" not in rule:
            answer["Filter"] = rule.get("Filter") or {"Prefix": ""}
        else:
            answer["Prefix"] = rule["Prefix"]
        answered.append(answer)
    return self.serialized(ActionResult({"ReplicationConfiguration": {"Role": replication["Role"], "Rules": answered}}))


_create_bucket: Any = FakeBucket.create_from_cloudformation_json


def create_bucket_with_replication(
    resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
) -> FakeBucket:
    from moto.s3.models import s3_backends

    bucket: FakeBucket = _create_bucket(resource_name, cloudformation_json, account_id, region_name, **kwargs)
    if configuration := cloudformation_json.get("Properties", {}).get("ReplicationConfiguration"):
        backend = s3_backends[account_id]["aws"]
        backend.put_bucket_replication(bucket.name, replication_from_cloudformation(configuration))
    return bucket


def _apply_cloudformation() -> None:
    global _create_bucket
    _create_bucket = FakeBucket.create_from_cloudformation_json  # keep earlier wrappers (versioning first)
    FakeBucket.create_from_cloudformation_json = staticmethod(create_bucket_with_replication)  # type: ignore[method-assign]
    S3Response.get_bucket_replication = get_bucket_replication  # type: ignore[method-assign]


_md5_etag = FakeKey.etag


def opaque_etag_for_sse_kms(self: FakeKey) -> str:
    digest = _md5_etag.fget(self)  # type: ignore[attr-defined]
    if self.encryption != "aws:kms":
        return str(digest)
    identity = f"{self.bucket_name}/{self.name}/{self._version_id}/{digest}".encode()
    return f'"{md5(identity, usedforsecurity=False).hexdigest()}"'


def _apply_etag() -> None:
    FakeKey.etag = property(opaque_etag_for_sse_kms)  # type: ignore[method-assign,assignment]


def _apply_replication() -> None:
    S3Backend.put_object = put_object_and_replicate  # type: ignore[method-assign]
    S3Backend.copy_object = copy_object_and_replicate  # type: ignore[method-assign]
    S3Response._key_response_put = key_response_put  # type: ignore[method-assign]
    S3Response._key_response_post = key_response_post  # type: ignore[method-assign]
    S3Backend.delete_object = delete_object_and_replicate  # type: ignore[method-assign]
    FakeKey.response_dict = property(response_dict_with_replication_status)  # type: ignore[method-assign,assignment]


PATCHES = [
    Patch(
        "s3",
        "cloudformation-replication-configuration",
        "ReplicationConfiguration in a template is dropped; GetBucketReplication loses DeleteMarkerReplication/Filter",
        _apply_cloudformation,
    ),
    Patch(
        "s3",
        "replicate-objects",
        "nothing replicates; AWS copies puts, copies, delete markers "
        "(SSE-KMS only if the rule selects them, ReplicaKmsKeyID)",
        _apply_replication,
    ),
    Patch(
        "s3",
        "sse-kms-etag",
        "every ETag is the MD5 of the data; on S3 an SSE-KMS object's ETag is not (API_Object)",
        _apply_etag,
    ),
]

__all__ = ["PATCHES", "FakeDeleteMarker", "pending_replications"]

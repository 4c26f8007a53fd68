"""Export of a tenant's records (DATA-2): files and a database export, one archive, an expiring link.

Read `runbooks/data_export.md` first. The archive (zip: `files/<key>` for every current
object under `tenants/<tenant>/`, `database.<format>` from the application's
`TenantDatabase.export_tenant`, `manifest.json` with a SHA-256 per entry) is written to
the export bucket `<deployment>-primary-exports-<account>` (SSE-KMS, TLS-only,
versioned, access-logged, objects expire: `stacks/operations.py`), and the download is
a pre-signed URL that expires after `--expires-hours`. The request reference is the
run id: a second run of the same request changes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from config.model import Deployment
from config.topology import PRIMARY, FailoverTopology
from runbooks import ops
from runbooks.app_data import TenantDatabase
from runbooks.toolkit import AuditLog, RefusedError, RunResult, Skip, Step

CLAUSE = "DATA-2"
PROCEDURE = "data-export"
MAX_EXPIRY_HOURS = 168  # SigV4 pre-signed URLs live at most 7 days


@dataclass(frozen=True)
class ExportRequest:
    tenant: str
    request_ref: str
    expires_hours: int = 24

    @property
    def key(self) -> str:
        return f"exports/{self.tenant}/{self.request_ref}/{self.tenant}-export.zip"


class DataExport:
    def __init__(
        self,
        deployment: Deployment,
        *,
        s3: Any,
        database: TenantDatabase,
        audit_log: AuditLog,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        out: TextIO | None = None,
    ) -> None:
        self.topo = FailoverTopology.of(deployment)
        self.s3 = s3
        self.database = database
        self.audit = audit_log
        self.now = now
        self.out = out
        self.bucket = ops.export_bucket(self.topo)

    def run(self, request: ExportRequest, *, execute: bool = False) -> RunResult:
        if not request.request_ref.strip():
            raise RefusedError("--request-ref is required: the ticket of the export request")
        if not 1 <= request.expires_hours <= MAX_EXPIRY_HOURS:
            raise RefusedError(f"--expires-hours {request.expires_hours}: allowed 1..{MAX_EXPIRY_HOURS}")
        self.request = request
        run = ops.runner(
            self.audit, run_id=request.request_ref, clause=CLAUSE, execute=execute, out=self.out, procedure=PROCEDURE
        )
        return run.run(self.steps())

    def steps(self) -> list[Step]:
        return [
            Step(
                "preconditions", "check the request and the export bucket", lambda _: self._preconditions(), check=True
            ),
            Step("archive", "write the export archive", lambda _: self._archive(), plan=self._plan),
            Step("link", "issue the expiring download link", lambda _: self._link()),
        ]

    def _keys(self) -> list[str]:
        paginator = self.s3.get_paginator("list_objects_v2")
        prefix = ops.tenant_prefix(self.request.tenant)
        content = self.topo.content_bucket(PRIMARY)
        return [
            o["Key"] for page in paginator.paginate(Bucket=content, Prefix=prefix) for o in page.get("Contents", [])
        ]

    def _preconditions(self) -> dict[str, Any]:
        ops.require_region(self.s3, self.topo.primary_region, "S3")
        problems = ops.secure_bucket_problems(self.s3, self.bucket)
        if problems:
            raise RefusedError("the export location is not an encrypted, TLS-only bucket: " + "; ".join(problems))
        if not ops.bucket_exists(self.s3, self.topo.content_bucket(PRIMARY)):
            raise RefusedError(f"content bucket {self.topo.content_bucket(PRIMARY)} not found")
        if not self.database.tenant_exists(self.request.tenant):
            raise RefusedError(f"unknown tenant {self.request.tenant!r}: the application has no records of it")
        return {"tenant": self.request.tenant, "bucket": self.bucket, "key": self.request.key}

    def _plan(self) -> dict[str, Any]:
        return {"files": len(self._keys()), "bucket": self.bucket, "key": self.request.key}

    def _existing(self) -> dict[str, Any] | None:
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=self.request.key)
        except Exception:
            return None
        return dict(head)

    def _archive(self) -> dict[str, Any] | Skip:
        if self._existing() is not None:
            return Skip("the archive of this request already exists", {"key": self.request.key})
        content = self.topo.content_bucket(PRIMARY)
        digests: dict[str, str] = {}
        with tempfile.TemporaryFile() as handle:
            with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for key in self._keys():
                    body = self.s3.get_object(Bucket=content, Key=key)["Body"].read()
                    name = "files/" + key.removeprefix(ops.tenant_prefix(self.request.tenant))
                    archive.writestr(name, body)
                    digests[name] = hashlib.sha256(body).hexdigest()
                with tempfile.TemporaryFile() as dump:
                    info = self.database.export_tenant(self.request.tenant, dump)
                    dump.seek(0)
                    data = dump.read()
                name = f"database.{info.format}"
                archive.writestr(name, data)
                digests[name] = hashlib.sha256(data).hexdigest()
                manifest = {"tenant": self.request.tenant, "request": self.request.request_ref, "sha256": digests}
                archive.writestr("manifest.json", json.dumps(manifest, indent=2, sort_keys=True))
            handle.seek(0)
            self.s3.put_object(
                Bucket=self.bucket,
                Key=self.request.key,
                Body=handle,
                ServerSideEncryption="aws:kms",
                Metadata={"request-ref": self.request.request_ref, "clause": CLAUSE},
                Tagging=f"tenant-id={self.request.tenant}",
            )
        return {"key": self.request.key, "files": len(digests) - 1, "database_rows": info.rows, "sha256": digests}

    def _link(self) -> dict[str, Any]:
        expires = self.request.expires_hours * 3600
        url = self.s3.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self.request.key}, ExpiresIn=expires
        )
        expires_at = (self.now() + timedelta(seconds=expires)).isoformat()
        if self.out is not None:
            print(f"download (expires {expires_at}): {url}", file=self.out)
        # the URL itself is a bearer credential: the audit log keeps where and until when, not the URL
        return {"bucket": self.bucket, "key": self.request.key, "expires_at": expires_at}


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    from runbooks.toolkit import add_common_args

    parser = argparse.ArgumentParser(
        prog="python -m runbooks.data_export",
        description=(
            "Export of records (DATA-2): a tenant's files and database export in one zip in the encrypted, "
            "TLS-only export bucket, with an expiring pre-signed download link. Dry run unless --execute."
        ),
    )
    add_common_args(parser, procedure=PROCEDURE)
    parser.add_argument("--tenant", required=True, type=ops.tenant_id, help="the tenant id (key prefix)")
    parser.add_argument("--request-ref", required=True, help="the request's ticket; also the run id")
    parser.add_argument(
        "--expires-hours", type=int, default=24, help=f"link lifetime, 1..{MAX_EXPIRY_HOURS} (default 24)"
    )
    parser.add_argument("--database-adapter", default=None, help="module:factory returning a TenantDatabase")
    return parser, parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    import boto3
    from botocore.config import Config

    from runbooks.app_data import load_adapter

    parser, args = parse_args(argv)
    if not 1 <= args.expires_hours <= MAX_EXPIRY_HOURS:
        parser.error(f"--expires-hours {args.expires_hours}: allowed 1..{MAX_EXPIRY_HOURS}")
    deployment = ops.deployment_of(parser, args)
    topo = FailoverTopology.of(deployment)
    export = DataExport(
        deployment,
        s3=boto3.client("s3", region_name=topo.primary_region, config=Config(signature_version="s3v4")),
        database=load_adapter(parser, args.database_adapter, deployment.name),
        audit_log=ops.audit_log(args, topo, PROCEDURE),
        out=sys.stdout,
    )
    request = ExportRequest(args.tenant, args.request_ref, args.expires_hours)
    try:
        result = export.run(request, execute=args.execute)
    except RefusedError as error:
        parser.error(str(error))
    return ops.finish(PROCEDURE, result)


if __name__ == "__main__":
    sys.exit(main())

"""Data removal on request (DATA-1): one tenant's data, or one person's records.

Read `runbooks/data_removal.md` first. Licence data (`--tenant` alone): every object
version and delete marker under `tenants/<tenant>/` in the primary content bucket and
in the replicated DR bucket (S3 replication does not replicate deletions by version
id, so both are removed explicitly), and the tenant's records through the
application's `TenantDatabase.delete_tenant`. Personal data (`--person` too): the
person's files (keys named by the application) and `anonymise_person`.

Dry run by default; the request reference is the run id, so a second run of the same
request changes nothing. The manifest (JSON) lists every version removed and the
backups that still hold the data with the date each expires.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from config.model import Deployment
from config.topology import DR, PRIMARY, FailoverTopology
from runbooks import ops
from runbooks.app_data import TenantDatabase
from runbooks.backup_holdings import holdings
from runbooks.toolkit import AuditLog, RefusedError, RunResult, Skip, Step, StepFailedError

CLAUSE = "DATA-1"
PROCEDURE = "data-removal"


@dataclass(frozen=True)
class RemovalRequest:
    tenant: str
    request_ref: str  # the ticket of the request; also the run id
    person: str | None = None

    @property
    def kind(self) -> str:
        return "personal-data" if self.person else "licence-data"


class DataRemoval:
    def __init__(
        self,
        deployment: Deployment,
        *,
        s3: Any,
        dr_s3: Any | None,
        database: TenantDatabase,
        audit_log: AuditLog,
        manifest_dir: Path,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        out: TextIO | None = None,
    ) -> None:
        self.deployment = deployment
        self.topo = FailoverTopology.of(deployment)
        self.s3 = s3
        self.dr_s3 = dr_s3
        self.database = database
        self.audit = audit_log
        self.manifest_dir = manifest_dir
        self.now = now
        self.out = out

    def run(self, request: RemovalRequest, *, execute: bool = False) -> RunResult:
        if not request.request_ref.strip():
            raise RefusedError("--request-ref is required: the ticket of the removal request")
        self.request = request
        run = ops.runner(
            self.audit, run_id=request.request_ref, clause=CLAUSE, execute=execute, out=self.out, procedure=PROCEDURE
        )
        return run.run(self.steps())

    def steps(self) -> list[Step]:
        return [
            Step("preconditions", "check the request", lambda _: self._preconditions(), check=True),
            Step("inventory", "write the manifest of what is removed", lambda _: self._inventory(), plan=self._counts),
            Step("remove-primary", "remove object versions (primary)", lambda _: self._remove(PRIMARY)),
            Step("remove-dr", "remove object versions (DR replica)", lambda _: self._remove(DR)),
            Step("database", "remove or anonymise the records", lambda _: self._database(), plan=self._plan_db),
            Step("verify", "verify nothing is left", lambda _: self._verify()),
        ]

    @property
    def manifest_path(self) -> Path:
        return self.manifest_dir / f"{self.topo.deployment}-{self.request.request_ref}-removal.json"

    def _clients(self) -> list[tuple[str, Any]]:
        found = [(PRIMARY, self.s3)]
        if self.topo.standby_enabled and self.dr_s3 is not None:
            found.append((DR, self.dr_s3))
        return found

    def _preconditions(self) -> dict[str, Any]:
        req = self.request
        ops.require_region(self.s3, self.topo.primary_region, "primary S3")
        if self.topo.standby_enabled:
            if self.dr_s3 is None:
                raise RefusedError(f"the DR content bucket {self.topo.content_bucket(DR)} needs a DR-region S3 client")
            ops.require_region(self.dr_s3, self.topo.dr_region, "DR S3")
        for role, client in self._clients():
            if not ops.bucket_exists(client, self.topo.content_bucket(role)):
                raise RefusedError(f"content bucket {self.topo.content_bucket(role)} not found")
        if not self.database.tenant_exists(req.tenant):
            raise RefusedError(f"unknown tenant {req.tenant!r}: the application has no records of it")
        if req.person and not self.database.person_exists(req.tenant, req.person):
            raise RefusedError(f"unknown person {req.person!r} in tenant {req.tenant!r}")
        return {"tenant": req.tenant, "kind": req.kind, "request_ref": req.request_ref, "person": req.person}

    def _targets(self, role: str) -> list[dict[str, Any]]:
        client = dict(self._clients())[role]
        bucket = self.topo.content_bucket(role)
        prefix = ops.tenant_prefix(self.request.tenant)
        versions = list(ops.iter_versions(client, bucket, prefix))
        if self.request.person:
            keys = {prefix + k if not k.startswith(prefix) else k for k in self._person_keys()}
            versions = [v for v in versions if v["Key"] in keys]
        return versions

    def _person_keys(self) -> list[str]:
        assert self.request.person is not None
        keys = self.database.person_object_keys(self.request.tenant, self.request.person)
        outside = [
            k for k in keys if k.startswith("tenants/") and not k.startswith(ops.tenant_prefix(self.request.tenant))
        ]
        if outside:
            raise RefusedError(f"the application named keys outside the tenant's prefix: {outside[:3]}")
        return keys

    def _counts(self) -> dict[str, Any]:
        counts = {self.topo.content_bucket(role): len(self._targets(role)) for role, _ in self._clients()}
        return {"versions": counts, "manifest": str(self.manifest_path)}

    def _inventory(self) -> dict[str, Any]:
        removed_at = self.now()
        request = {"ref": self.request.request_ref, "tenant": self.request.tenant, "kind": self.request.kind}
        if self.request.person:
            request["person"] = self.request.person
        objects = {self.topo.content_bucket(role): self._targets(role) for role, _ in self._clients()}
        backups = [h.as_json() for h in holdings(self.deployment, removed_at)]
        manifest = {
            "clause": CLAUSE,
            "deployment": self.topo.deployment,
            "request": request,
            "removed_at": removed_at.isoformat(),
            "objects": objects,
            "backups_still_holding": backups,
        }
        self.manifest_dir.mkdir(parents=True, exist_ok=True)
        self.manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        counts = {bucket: len(versions) for bucket, versions in objects.items()}
        return {"manifest": str(self.manifest_path), "versions": counts, "backups": backups}

    def _remove(self, role: str) -> dict[str, Any] | Skip:
        if role == DR and not self.topo.standby_enabled:
            return Skip("no warm standby: no DR content bucket")
        client = dict(self._clients())[role]
        bucket = self.topo.content_bucket(role)
        deleted = ops.delete_versions(client, bucket, self._targets(role))
        return {"bucket": bucket, "deleted_versions": deleted}

    def _plan_db(self) -> dict[str, Any]:
        call = "anonymise_person" if self.request.person else "delete_tenant"
        return {"call": call, "tenant": self.request.tenant, "person": self.request.person}

    def _database(self) -> dict[str, Any]:
        req = self.request
        if req.person:
            change = self.database.anonymise_person(req.tenant, req.person, req.request_ref)
        else:
            change = self.database.delete_tenant(req.tenant, req.request_ref)
        return {"rows": change.rows, "total": change.total}

    def _verify(self) -> dict[str, Any]:
        left = {self.topo.content_bucket(role): len(self._targets(role)) for role, _ in self._clients()}
        if any(left.values()):
            raise StepFailedError(f"object versions left after removal: {left}")
        return {"left": left, "manifest": str(self.manifest_path)}


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    from runbooks.toolkit import add_common_args

    parser = argparse.ArgumentParser(
        prog="python -m runbooks.data_removal",
        description=(
            "Data removal on request (DATA-1): every object version under tenants/<tenant>/ in the primary and DR "
            "content buckets and the tenant's records, or (with --person) one person's files and records "
            "anonymised. Writes a manifest and the backups that still hold the data. Dry run unless --execute."
        ),
    )
    add_common_args(parser, procedure=PROCEDURE)
    parser.add_argument("--tenant", required=True, type=ops.tenant_id, help="the tenant id (key prefix)")
    parser.add_argument("--request-ref", required=True, help="the request's ticket; also the run id")
    parser.add_argument("--person", default=None, help="personal-data request: the person's id in the application")
    parser.add_argument("--database-adapter", default=None, help="module:factory returning a TenantDatabase")
    parser.add_argument("--manifest-dir", type=Path, default=Path("removals"), help="where the manifest is written")
    return parser, parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    import boto3

    from runbooks.app_data import load_adapter

    parser, args = parse_args(argv)
    if args.run_id and args.run_id != args.request_ref:
        parser.error("--run-id must be omitted or equal --request-ref (the request is the run)")
    deployment = ops.deployment_of(parser, args)
    topo = FailoverTopology.of(deployment)
    removal = DataRemoval(
        deployment,
        s3=boto3.client("s3", region_name=topo.primary_region),
        dr_s3=boto3.client("s3", region_name=topo.dr_region),
        database=load_adapter(parser, args.database_adapter, deployment.name),
        audit_log=ops.audit_log(args, topo, PROCEDURE),
        manifest_dir=args.manifest_dir,
        out=sys.stdout,
    )
    request = RemovalRequest(tenant=args.tenant, request_ref=args.request_ref, person=args.person)
    try:
        result = removal.run(request, execute=args.execute)
    except RefusedError as error:
        parser.error(str(error))
    return ops.finish(PROCEDURE, result)


if __name__ == "__main__":
    sys.exit(main())

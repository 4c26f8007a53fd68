"""An anonymised dataset for staging and development (DATA-3), with no production data path (HOST-3).

Two phases, run by two people or jobs with two sets of credentials, so no process
and no role ever holds both production and non-production access:

- `produce` (production account): the application's `TenantDatabase.anonymised_dump`
  writes the dump to a local file; the automation scans it for real e-mail addresses
  and for production tenant ids (the `tenants/<id>/` prefixes of the production content
  bucket) and deletes the file on any hit; it records the file's SHA-256.
- `load` (non-production account): the isolation check (`runbooks/nonprod_isolation.py`)
  must be clean, the file must match the recorded SHA-256 and pass the e-mail scan
  again; then it is uploaded to the non-production content bucket under
  `anonymised/<dataset id>/`, from where the application's seed job loads it.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from config.model import Deployment
from config.topology import PRIMARY, FailoverTopology
from runbooks import ops
from runbooks.app_data import TenantDatabase
from runbooks.nonprod_isolation import IsolationCheck
from runbooks.toolkit import AuditLog, RefusedError, RunResult, Skip, Step, StepFailedError

CLAUSE = "DATA-3"
PROCEDURE = "anonymised-dataset"
PHASES = ("produce", "load")
EMAIL = re.compile(rb"[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}")
ALLOWED_EMAIL_DOMAINS = (b"example.com", b"example.org", b"example.net", b".invalid", b".test")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def leaks(data: bytes, tenant_ids: Sequence[str] = ()) -> list[str]:
    """Real-looking e-mail addresses and production tenant ids found in `data` (at most 10)."""
    found = []
    for match in EMAIL.finditer(data):
        address = match.group(0).lower()
        if not any(address.endswith(domain) for domain in ALLOWED_EMAIL_DOMAINS):
            found.append(f"e-mail address at byte {match.start()}")
    found += [
        f"production tenant id {t!r}" for t in tenant_ids if re.search(rb"\b" + re.escape(t.encode()) + rb"\b", data)
    ]
    return found[:10]


class Produce:
    """Phase 1, production credentials: dump, scan, record the checksum."""

    def __init__(
        self,
        source: Deployment,
        *,
        s3: Any,
        database: TenantDatabase,
        audit_log: AuditLog,
        output: Path,
        out: TextIO | None = None,
    ) -> None:
        if not source.is_production:
            raise RefusedError(f"--source {source.name} is not production: nothing to anonymise")
        self.topo = FailoverTopology.of(source)
        self.s3, self.database, self.audit, self.output, self.out = s3, database, audit_log, output, out

    def run(self, dataset_id: str, *, execute: bool = False) -> RunResult:
        run = ops.runner(
            self.audit,
            run_id=dataset_id,
            clause=CLAUSE,
            execute=execute,
            out=self.out,
            procedure=f"{PROCEDURE}-produce",
        )
        return run.run(
            [
                Step("preconditions", "check the source", lambda _: self._preconditions(), check=True),
                Step(
                    "dump",
                    "anonymised dump by the application",
                    lambda _: self._dump(),
                    plan=lambda: {"output": str(self.output)},
                ),
                Step("scan", "scan the dump for production data", lambda _: self._scan()),
            ]
        )

    def _tenant_ids(self) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.topo.content_bucket(PRIMARY), Prefix="tenants/", Delimiter="/"
        )
        return [p["Prefix"].split("/")[1] for page in pages for p in page.get("CommonPrefixes", [])]

    def _preconditions(self) -> dict[str, Any]:
        ops.require_region(self.s3, self.topo.primary_region, "S3")
        if not ops.bucket_exists(self.s3, self.topo.content_bucket(PRIMARY)):
            raise RefusedError(f"content bucket {self.topo.content_bucket(PRIMARY)} not found")
        return {"source": self.topo.deployment, "output": str(self.output)}

    def _dump(self) -> dict[str, Any]:
        self.output.parent.mkdir(parents=True, exist_ok=True)
        with self.output.open("wb") as handle:
            info = self.database.anonymised_dump(handle)
        return {"output": str(self.output), "format": info.format, "rows": info.rows}

    def _scan(self) -> dict[str, Any]:
        found = leaks(self.output.read_bytes(), self._tenant_ids())
        if found:
            self.output.unlink()
            raise StepFailedError(f"the dump holds production data and was deleted: {'; '.join(found)}")
        return {"sha256": sha256_of(self.output), "output": str(self.output)}


class Load:
    """Phase 2, non-production credentials: isolation check, checksum, upload."""

    def __init__(
        self,
        target: Deployment,
        *,
        s3: Any,
        isolation: IsolationCheck,
        needles: set[str],
        audit_log: AuditLog,
        out: TextIO | None = None,
    ) -> None:
        if target.is_production:
            raise RefusedError(f"--target {target.name} is production: anonymised data goes to staging or development")
        self.topo = FailoverTopology.of(target)
        self.s3, self.isolation, self.needles, self.audit, self.out = s3, isolation, needles, audit_log, out

    def run(self, dataset_id: str, dump: Path, sha256: str, *, execute: bool = False) -> RunResult:
        self.key = f"anonymised/{dataset_id}/{dump.name}"
        self.dump, self.sha256 = dump, sha256
        run = ops.runner(
            self.audit, run_id=dataset_id, clause=CLAUSE, execute=execute, out=self.out, procedure=f"{PROCEDURE}-load"
        )
        return run.run(
            [
                Step(
                    "preconditions", "isolation check, checksum and scan", lambda _: self._preconditions(), check=True
                ),
                Step(
                    "upload",
                    "upload to the non-production bucket",
                    lambda _: self._upload(),
                    plan=lambda: {"key": self.key},
                ),
            ]
        )

    def _preconditions(self) -> dict[str, Any]:
        ops.require_region(self.s3, self.topo.primary_region, "S3")
        findings = self.isolation.findings(self.needles)
        if findings:
            raise RefusedError(f"non-production has a production data path (HOST-3): {'; '.join(map(str, findings))}")
        if not self.dump.is_file():
            raise RefusedError(f"--dump {self.dump} not found")
        if sha256_of(self.dump) != self.sha256:
            raise RefusedError(f"--dump {self.dump} does not match --sha256 (the produce phase's scan record)")
        found = leaks(self.dump.read_bytes())
        if found:
            raise RefusedError(f"the dump holds production data: {'; '.join(found)}")
        return {"target": self.topo.deployment, "sha256": self.sha256, "isolation_findings": 0}

    def _upload(self) -> dict[str, Any] | Skip:
        bucket = self.topo.content_bucket(PRIMARY)
        try:
            head = self.s3.head_object(Bucket=bucket, Key=self.key)
            if head.get("Metadata", {}).get("sha256") == self.sha256:
                return Skip("already uploaded", {"bucket": bucket, "key": self.key})
        except Exception:
            pass
        with self.dump.open("rb") as handle:
            self.s3.put_object(
                Bucket=bucket,
                Key=self.key,
                Body=handle,
                ServerSideEncryption="aws:kms",
                Metadata={"sha256": self.sha256},
            )
        return {"bucket": bucket, "key": self.key}


def main(argv: Sequence[str] | None = None) -> int:
    import boto3

    from config import load_config
    from runbooks.app_data import load_adapter
    from runbooks.nonprod_isolation import production_needles
    from runbooks.toolkit import add_common_args

    parser = argparse.ArgumentParser(
        prog="python -m runbooks.anonymised_dataset",
        description=(
            "Anonymised dataset for non-production (DATA-3): phase `produce` with production credentials "
            "(--deployment = the production source), phase `load` with non-production credentials "
            "(--deployment = the staging/development target). Dry run unless --execute."
        ),
    )
    parser.add_argument("phase", choices=PHASES, help="produce (production account) or load (non-production account)")
    add_common_args(parser, procedure=PROCEDURE)
    parser.add_argument("--dataset-id", required=True, help="names the dataset and the run, e.g. 2026-12-anon")
    parser.add_argument("--dump", type=Path, required=True, help="the dump file (written by produce, read by load)")
    parser.add_argument("--sha256", default=None, help="load: the SHA-256 that produce recorded")
    parser.add_argument("--database-adapter", default=None, help="produce: module:factory returning a TenantDatabase")
    args = parser.parse_args(argv)
    deployment = ops.deployment_of(parser, args)
    topo = FailoverTopology.of(deployment)
    s3 = boto3.client("s3", region_name=topo.primary_region)
    audit = ops.audit_log(args, topo, f"{PROCEDURE}-{args.phase}")
    try:
        if args.phase == "produce":
            database = load_adapter(parser, args.database_adapter, deployment.name)
            result = Produce(
                deployment, s3=s3, database=database, audit_log=audit, output=args.dump, out=sys.stdout
            ).run(args.dataset_id, execute=args.execute)
        else:
            if not args.sha256:
                parser.error("--sha256 is required for load: the checksum the produce phase recorded")
            regional = {
                r: (boto3.client("kms", region_name=r), boto3.client("backup", region_name=r))
                for r in deployment.regions
            }
            isolation = IsolationCheck(deployment, iam=boto3.client("iam"), s3=boto3.client("s3"), regional=regional)
            load = Load(
                deployment,
                s3=s3,
                isolation=isolation,
                needles=production_needles(load_config(args.config)),
                audit_log=audit,
                out=sys.stdout,
            )
            result = load.run(args.dataset_id, args.dump, args.sha256, execute=args.execute)
    except RefusedError as error:
        parser.error(str(error))
    return ops.finish(f"{PROCEDURE}-{args.phase}", result)


if __name__ == "__main__":
    sys.exit(main())

"""Compliance evidence (OPS-6, ACC-3): one dated bundle (Markdown + JSON) in the encrypted evidence bucket.

Read `runbooks/compliance_evidence.md` first. Gathers, for the last `--days` days:
CloudTrail trail status and log-file validation, the S3 Object Lock of the trails' buckets
and of the evidence bucket (ACC-3), AWS Backup backup/copy job history,
restore-test (restore job) results, patch compliance, and the latest compliance
report; lists every control that did not hold first; and uploads
`evidence/<date>/<deployment>-evidence.{json,md}` to
`<deployment>-primary-evidence-<account>` (SSE-KMS, TLS-only, versioned:
`stacks/operations.py`). Dry run by default; the run id defaults to
`evidence-<date>`, so a second run on the same day changes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from config.model import Deployment
from config.topology import FailoverTopology
from runbooks import evidence_sources as sources
from runbooks import ops
from runbooks.evidence_sources import JobHistory
from runbooks.toolkit import AuditLog, RefusedError, RunResult, Skip, Step

CLAUSE = "OPS-6"
PROCEDURE = "compliance-evidence"


def render(bundle: dict[str, Any]) -> str:
    lines = [
        f"# Compliance evidence: {bundle['deployment']} ({bundle['date']})",
        "",
        f"Clauses OPS-6 and ACC-3. Period: {bundle['since']} to {bundle['generated_at']}.",
        "",
        "## Findings",
        "",
    ]
    lines += [f"- {f}" for f in bundle["findings"]] or ["- none: every gathered control held"]
    lines += ["", "## CloudTrail", "", "| trail | logging | validation | multi-region | KMS |", "|---|---|---|---|---|"]
    lines += [
        f"| {t['name']} | {t['logging']} | {t['log_file_validation']} | {t['multi_region']} | {bool(t['kms_key'])} |"
        for t in bundle["trails"]
    ]
    lines += ["", "## S3 Object Lock (ACC-3)", "", "| bucket | locked | mode | days |", "|---|---|---|---|"]
    lines += [
        f"| {lock['bucket']} | {lock['enabled']} | {lock['mode']} | {lock['days']} |"
        for lock in bundle.get("object_locks", [])
    ]
    lines += ["", "## AWS Backup jobs", "", "| kind | total | completed | failed |", "|---|---|---|---|"]
    for kind, jobs in bundle["jobs"].items():
        done = sum(j["state"] == "COMPLETED" for j in jobs)
        failed = sum(j["state"] in ("FAILED", "ABORTED", "EXPIRED") for j in jobs)
        lines.append(f"| {kind} | {len(jobs)} | {done} | {failed} |")
    lines += ["", "## Patch compliance", "", "| instance | missing | failed | installed |", "|---|---|---|---|"]
    lines += [f"| {p['instance']} | {p['missing']} | {p['failed']} | {p['installed']} |" for p in bundle["patches"]]
    report = bundle["compliance_report"]
    lines += ["", "## Compliance report", "", json.dumps(report["clause_statuses"]) if report else "not found"]
    return "\n".join(lines) + "\n"


class ComplianceEvidence:
    def __init__(
        self,
        deployment: Deployment,
        *,
        s3: Any,
        cloudtrail: Any,
        history: JobHistory,
        report_path: Path,
        audit_log: AuditLog,
        output_dir: Path,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        out: TextIO | None = None,
    ) -> None:
        self.topo = FailoverTopology.of(deployment)
        self.production = deployment.is_production
        self.s3, self.cloudtrail, self.history = s3, cloudtrail, history
        self.report_path, self.audit, self.output_dir, self.now, self.out = report_path, audit_log, output_dir, now, out
        self.bucket = ops.evidence_bucket(self.topo)

    def run(self, *, days: int = 365, run_id: str | None = None, execute: bool = False) -> RunResult:
        if not 1 <= days <= 3650:
            raise RefusedError(f"--days {days}: allowed 1..3650")
        self.days = days
        self.date = self.now().date().isoformat()
        self.run_id = run_id or f"evidence-{self.date}"
        runner = ops.runner(
            self.audit, run_id=self.run_id, clause=CLAUSE, execute=execute, out=self.out, procedure=PROCEDURE
        )
        return runner.run(
            [
                Step("preconditions", "check the evidence bucket", lambda _: self._preconditions(), check=True),
                Step("gather", "gather the evidence", lambda _: self._gather(), plan=self._plan),
                Step("publish", "upload the bundle", lambda _: self._publish()),
            ]
        )

    def _key(self, suffix: str) -> str:
        return f"evidence/{self.date}/{self.topo.deployment}-evidence.{suffix}"

    def _local(self, suffix: str) -> Path:
        return self.output_dir / f"{self.topo.deployment}-{self.run_id}.{suffix}"

    def _preconditions(self) -> dict[str, Any]:
        ops.require_region(self.s3, self.topo.primary_region, "S3")
        ops.require_region(self.cloudtrail, self.topo.primary_region, "CloudTrail")
        problems = ops.secure_bucket_problems(self.s3, self.bucket)
        if problems:
            raise RefusedError("the evidence bucket is not an encrypted, TLS-only bucket: " + "; ".join(problems))
        return {"bucket": self.bucket, "days": self.days}

    def _plan(self) -> dict[str, Any]:
        return {"keys": [self._key("json"), self._key("md")], "report": str(self.report_path), "days": self.days}

    def _gather(self) -> dict[str, Any]:
        generated = self.now()
        since = generated - timedelta(days=self.days)
        bundle: dict[str, Any] = {
            "clauses": ["OPS-6", "ACC-3"],
            "deployment": self.topo.deployment,
            "date": self.date,
            "since": since.isoformat(),
            "generated_at": generated.isoformat(),
            "production": self.production,
            "trails": sources.trails(self.cloudtrail),
            "jobs": {kind: self.history.jobs(kind, since) for kind in ("backup", "copy", "restore")},
            "patches": self.history.patch_states(),
            "compliance_report": sources.compliance_report(self.report_path),
        }
        audit_buckets = sorted({t["bucket"] for t in bundle["trails"] if t["bucket"]} | {self.bucket})
        bundle["object_locks"] = [sources.object_lock(self.s3, name) for name in audit_buckets]
        bundle["findings"] = sources.findings(bundle)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self._local("json").write_text(json.dumps(bundle, indent=2, sort_keys=True, default=str) + "\n")
        self._local("md").write_text(render(bundle))
        return {"files": [str(self._local("json")), str(self._local("md"))], "findings": bundle["findings"]}

    def _publish(self) -> dict[str, Any] | Skip:
        uploaded = []
        for suffix in ("json", "md"):
            try:
                head = self.s3.head_object(Bucket=self.bucket, Key=self._key(suffix))
                if head.get("Metadata", {}).get("run-id") == self.run_id:
                    continue
            except Exception:
                pass
            self.s3.put_object(
                Bucket=self.bucket,
                Key=self._key(suffix),
                Body=self._local(suffix).read_bytes(),
                ServerSideEncryption="aws:kms",
                Metadata={"run-id": self.run_id, "clause": CLAUSE},
            )
            uploaded.append(self._key(suffix))
        if not uploaded:
            return Skip("the bundle of this run is already uploaded", {"bucket": self.bucket})
        return {"bucket": self.bucket, "keys": uploaded}


def main(argv: Sequence[str] | None = None) -> int:
    import boto3

    from runbooks.toolkit import add_common_args

    parser = argparse.ArgumentParser(
        prog="python -m runbooks.compliance_evidence",
        description=(
            "Compliance evidence (OPS-6, ACC-3): CloudTrail status and log-file validation, backup/copy job history, "
            "restore-test results, patch compliance and the latest compliance report in one dated bundle "
            "(Markdown + JSON) in the encrypted evidence bucket. Dry run unless --execute."
        ),
    )
    add_common_args(parser, procedure=PROCEDURE)
    parser.add_argument("--days", type=int, default=365, help="the review period, 1..3650 days (default 365)")
    parser.add_argument(
        "--compliance-report",
        type=Path,
        default=Path("cdk.out/compliance/compliance-report.json"),
        help="the latest compliance report (policies/report.py)",
    )
    parser.add_argument("--output-dir", type=Path, default=Path("evidence"), help="local copy of the bundle")
    args = parser.parse_args(argv)
    if not 1 <= args.days <= 3650:
        parser.error(f"--days {args.days}: allowed 1..3650")
    topo = FailoverTopology.of(ops.deployment_of(parser, args))
    region = topo.primary_region
    evidence = ComplianceEvidence(
        ops.deployment_of(parser, args),
        s3=boto3.client("s3", region_name=region),
        cloudtrail=boto3.client("cloudtrail", region_name=region),
        history=sources.AwsJobHistory(
            boto3.client("backup", region_name=region), boto3.client("ssm", region_name=region)
        ),
        report_path=args.compliance_report,
        audit_log=ops.audit_log(args, topo, PROCEDURE),
        output_dir=args.output_dir,
        out=sys.stdout,
    )
    return ops.finish(PROCEDURE, evidence.run(days=args.days, run_id=args.run_id, execute=args.execute))


if __name__ == "__main__":
    sys.exit(main())

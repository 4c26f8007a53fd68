"""No production data path into non-production (DATA-3, HOST-3): a read-only check.

Scans a non-production deployment's account (IAM roles, S3 bucket policies and
replication, KMS key policies, AWS Backup copy actions, in both its regions) for any
reference to a production account id or a production deployment's resource names.
Exit 0: no path found; exit 1: findings (each names the resource and the reference);
exit 2: bad arguments (a production deployment, a client in the wrong region).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from config import PlatformConfig, load_config
from config.model import Deployment
from runbooks import ops
from runbooks.toolkit import EXIT_OK, EXIT_STEP_FAILED, RefusedError, add_deployment_args

CLAUSE = "DATA-3"


@dataclass(frozen=True)
class Finding:
    resource: str
    reference: str

    def __str__(self) -> str:
        return f"{self.resource} references {self.reference}"


def production_needles(config: PlatformConfig) -> set[str]:
    """Production account ids and production deployments' name prefixes (`au-production-`)."""
    needles = set()
    for deployment in config.deployments:
        if deployment.is_production:
            needles |= {deployment.account, f"{deployment.name}-"}
    return needles


def _refs(resource: str, document: Any, needles: Iterable[str]) -> list[Finding]:
    text = unquote(document) if isinstance(document, str) else json.dumps(document, default=str)
    return [Finding(resource, needle) for needle in sorted(needles) if needle in text]


class IsolationCheck:
    """Takes the non-production account's clients: `iam`, `s3`, and `kms`/`backup` per region."""

    def __init__(self, deployment: Deployment, *, iam: Any, s3: Any, regional: dict[str, tuple[Any, Any]]) -> None:
        if deployment.is_production:
            raise RefusedError(f"{deployment.name} is production: the check is for staging and development")
        for region, (kms, backup) in regional.items():
            if region not in deployment.regions:
                raise RefusedError(
                    f"region {region} is not one of {deployment.name}'s: {', '.join(deployment.regions)}"
                )
            ops.require_region(kms, region, "KMS")
            ops.require_region(backup, region, "Backup")
        self.deployment = deployment
        self.iam = iam
        self.s3 = s3
        self.regional = regional

    def findings(self, needles: set[str]) -> list[Finding]:
        found: list[Finding] = []
        if self.deployment.account in needles:
            found.append(Finding(f"account {self.deployment.account}", "is also a production account"))
        needles = needles - {self.deployment.account}
        found += self._iam(needles) + self._s3(needles)
        for kms, backup in self.regional.values():
            found += self._kms(kms, needles) + self._backup(backup, needles)
        return found

    def _iam(self, needles: set[str]) -> list[Finding]:
        found = []
        for page in self.iam.get_paginator("list_roles").paginate():
            for role in page["Roles"]:
                name = role["RoleName"]
                found += _refs(f"IAM role {name} (trust)", role.get("AssumeRolePolicyDocument", ""), needles)
                for policy in self.iam.list_role_policies(RoleName=name)["PolicyNames"]:
                    document = self.iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
                    found += _refs(f"IAM role {name} policy {policy}", document, needles)
                for attached in self.iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
                    if attached["PolicyArn"].startswith("arn:aws:iam::aws:"):
                        continue
                    meta = self.iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
                    version = self.iam.get_policy_version(PolicyArn=meta["Arn"], VersionId=meta["DefaultVersionId"])
                    found += _refs(
                        f"IAM role {name} policy {meta['Arn']}", version["PolicyVersion"]["Document"], needles
                    )
        return found

    def _s3(self, needles: set[str]) -> list[Finding]:
        found = []
        for bucket in self.s3.list_buckets()["Buckets"]:
            name = bucket["Name"]
            for what, call, field in (
                ("policy", self.s3.get_bucket_policy, "Policy"),
                ("replication", self.s3.get_bucket_replication, "ReplicationConfiguration"),
            ):
                try:
                    document = call(Bucket=name)[field]
                except Exception:  # no policy / no replication configuration
                    continue
                found += _refs(f"S3 bucket {name} {what}", document, needles)
        return found

    def _kms(self, kms: Any, needles: set[str]) -> list[Finding]:
        found = []
        for page in kms.get_paginator("list_keys").paginate():
            for key in page["Keys"]:
                policy = kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]
                found += _refs(f"KMS key {key['KeyArn']}", policy, needles)
        return found

    def _backup(self, backup: Any, needles: set[str]) -> list[Finding]:
        found = []
        for plan in backup.list_backup_plans()["BackupPlansList"]:
            rules = backup.get_backup_plan(BackupPlanId=plan["BackupPlanId"])["BackupPlan"]["Rules"]
            copies = [action for rule in rules for action in rule.get("CopyActions", [])]
            found += _refs(f"backup plan {plan['BackupPlanName']} copy actions", copies, needles)
        return found


def main(argv: Sequence[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(
        prog="python -m runbooks.nonprod_isolation",
        description=(
            "DATA-3 / HOST-3: check that a staging or development deployment has no IAM grant, bucket policy, "
            "replication, key grant or backup copy that reaches production. Read-only. "
            "Exit 0 clean, 1 findings, 2 bad arguments."
        ),
    )
    add_deployment_args(parser, help="a staging or development deployment, e.g. au-staging")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    deployment = ops.deployment_of(parser, args)
    regional = {
        r: (boto3.client("kms", region_name=r), boto3.client("backup", region_name=r)) for r in deployment.regions
    }
    try:
        check = IsolationCheck(deployment, iam=boto3.client("iam"), s3=boto3.client("s3"), regional=regional)
    except RefusedError as error:
        parser.error(str(error))
    findings = check.findings(production_needles(config))
    for finding in findings:
        print(f"FINDING [{CLAUSE}/HOST-3] {finding}")
    print(f"{deployment.name}: {len(findings)} production data path(s) found")
    return EXIT_STEP_FAILED if findings else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

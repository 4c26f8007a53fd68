"""The auditor's pack (issue 22): flows read from the real synthesized templates, the pages'
counts against compliance-report.json, determinism, and an injected out-of-jurisdiction flow."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_backup as backup
from aws_cdk.assertions import Capture, Match

from config import PlatformConfig
from policies.auditor import write_auditor_pack
from policies.auditor.flows import DeploymentFlows, Flow, LocalRef, arn_region, deployment_flows, resolve
from policies.engine import load_assembly
from policies.rules.model import StackView
from tests.conftest import Stages, TemplateOf

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def flows(au_production_pack: Path, platform_config: PlatformConfig) -> DeploymentFlows:
    (result,) = deployment_flows(load_assembly(au_production_pack.parent, platform_config))
    return result


def _flow(flows: DeploymentFlows, kind: str, source: str, target: str) -> Flow:
    found = [
        f
        for f in flows.flows
        if f.kind == kind and source in flows.stores[f.source].label and target in flows.stores[f.target].label
    ]
    assert len(found) >= 1, (
        f"no {kind} flow {source} -> {target}: {[(f.kind, f.source, f.target) for f in flows.flows]}"
    )
    return found[0]


def test_backup_copy_goes_to_the_dr_vault_named_by_the_plan(
    flows: DeploymentFlows, au_production: Stages, template_of: TemplateOf
) -> None:
    arn = Capture()
    template_of(au_production, "primary", "Backup").has_resource_properties(
        "AWS::Backup::BackupPlan",
        {
            "BackupPlan": {
                "BackupPlanRule": Match.array_with(
                    [
                        Match.object_like(
                            {"CopyActions": [{"DestinationBackupVaultArn": arn, "Lifecycle": Match.any_value()}]}
                        )
                    ]
                )
            }
        },
    )
    flow = _flow(flows, "backup copy", "au-production-primary-vault", "au-production-dr-vault")
    assert (flow.source_region, flow.target_region) == ("ap-southeast-2", arn_region(arn.as_string()))
    assert flow.target_region == "ap-southeast-4" and flow.within_jurisdiction


def test_replication_replica_secret_and_releases_stay_in_the_jurisdiction(flows: DeploymentFlows) -> None:
    content = _flow(flows, "S3 replication", "primary-content", "dr-content")
    assert content.target_region == "ap-southeast-4" and "alias/au-production/customer" in content.label
    _flow(flows, "S3 replication", "primary-audit", "dr-audit")
    _flow(flows, "S3 replication", "primary-evidence", "dr-audit")
    replica = _flow(flows, "read replica", "au-production-primary-postgres", "au-production-dr-postgres")
    assert (replica.source_region, replica.target_region) == ("ap-southeast-2", "ap-southeast-4")
    assert "cross-region" in replica.label
    secret = _flow(flows, "secret replica", "postgres/master", "postgres/master (replica)")
    assert secret.target_region == "ap-southeast-4"
    releases = {f.target_region for f in flows.flows if f.kind == "release artifact"}
    assert releases == {"ap-southeast-2", "ap-southeast-4"}
    assert {f.target_region for f in flows.flows if f.kind == "flow logs"} == {"ap-southeast-2", "ap-southeast-4"}
    trail = [f for f in flows.flows if f.kind == "trail logs"]
    assert {flows.stores[f.target].kind for f in trail} == {"bucket", "log group"}
    assert flows.breaches == [] and all(f.within_jurisdiction for f in flows.flows)


def test_a_deployment_without_a_standby_has_no_read_replica(
    au_development: Stages, platform_config: PlatformConfig
) -> None:
    app = au_development["primary"].node.root
    assert isinstance(app, cdk.App)
    (result,) = deployment_flows(load_assembly(Path(app.outdir), platform_config))
    assert not [f for f in result.flows if f.kind == "read replica"]
    assert [f for f in result.flows if f.kind == "backup copy" and f.target_region == "ap-southeast-4"]


def test_resolve_reads_pseudo_parameters_joins_and_local_references() -> None:
    stack = StackView(name="s", region="ap-southeast-2", account="1", resources={})
    assert resolve(
        {"Fn::Join": [":", ["arn", {"Ref": "AWS::Partition"}, "backup", {"Ref": "AWS::Region"}]]}, stack
    ) == ("arn:aws:backup:ap-southeast-2")
    assert (
        resolve({"Fn::Sub": "arn:aws:kms:${AWS::Region}:${AWS::AccountId}:k"}, stack)
        == "arn:aws:kms:ap-southeast-2:1:k"
    )
    assert resolve({"Ref": "Missing"}, stack) is None
    assert not isinstance(resolve("x", stack), LocalRef)
    assert arn_region("arn:aws:s3:::bucket") is None


def _counts(page: str) -> dict[str, int]:
    return {name: int(value) for name, value in re.findall(r'data-count="([^"]+)">(\d+)<', page)}


def test_counts_on_the_pages_equal_the_json(au_production_pack: Path, flows: DeploymentFlows) -> None:
    report = json.loads((au_production_pack / "compliance-report.json").read_text())
    summary = report["summary"]
    index = _counts((au_production_pack / "index.html").read_text())
    page = _counts((au_production_pack / "au-production.html").read_text())
    for name in ("evaluations", "pass", "fail", "acknowledged", "not_applicable"):
        assert index[name] == summary[name], name
        assert page[name] == summary[name], name  # one deployment in this assembly
    for clause in report["clauses"]:
        for result, name in (
            ("PASS", "pass"),
            ("FAIL", "fail"),
            ("ACKNOWLEDGED", "acknowledged"),
            ("N/A", "not_applicable"),
        ):
            assert page[f"{clause['id']}:{name}"] == sum(s[result] for s in clause["stacks"])
    assert page["flows"] == len(flows.flows) and page["flows_leaving_jurisdiction"] == 0
    assert index["acknowledgments"] == len(report["acknowledgments"])


def test_pages_are_self_contained_and_the_digest_holds(au_production_pack: Path) -> None:
    for name in ("index.html", "au-production.html"):
        page = (au_production_pack / name).read_text()
        assert "content=\"default-src 'none'; style-src 'unsafe-inline'\"" in page
        assert "<script" not in page and not re.search(r'(src|href)="(https?:)?//', page)
    assert "<svg" in (au_production_pack / "au-production.html").read_text()
    for line in (au_production_pack / "digest.txt").read_text().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((au_production_pack / name).read_bytes()).hexdigest() == digest


def test_a_rerun_is_byte_identical(au_production_pack: Path, platform_config: PlatformConfig) -> None:
    before = {p.name: p.read_bytes() for p in au_production_pack.iterdir()}
    assert write_auditor_pack(au_production_pack.parent, platform_config) == []
    assert {p.name: p.read_bytes() for p in au_production_pack.iterdir()} == before


def test_a_backup_copy_to_a_foreign_region_is_red_and_fails_the_generator(tmp_path: Path) -> None:
    """A test app: the primary's backup plan copies to a vault in us-east-1, outside jurisdiction au."""
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(
        app,
        "Backup",
        stack_name="au-production-primary-backup",
        env=cdk.Environment(account="111111111111", region="ap-southeast-2"),
    )
    vault = backup.CfnBackupVault(stack, "Vault", backup_vault_name="au-production-primary-vault")
    foreign = "arn:aws:backup:us-east-1:111111111111:backup-vault:foreign-vault"
    backup.CfnBackupPlan(
        stack,
        "Plan",
        backup_plan=backup.CfnBackupPlan.BackupPlanResourceTypeProperty(
            backup_plan_name="injected",
            backup_plan_rule=[
                backup.CfnBackupPlan.BackupRuleResourceTypeProperty(
                    rule_name="Daily",
                    target_backup_vault=vault.backup_vault_name or "",
                    copy_actions=[
                        backup.CfnBackupPlan.CopyActionResourceTypeProperty(destination_backup_vault_arn=foreign)
                    ],
                )
            ],
        ),
    )
    app.synth()
    done = subprocess.run(
        [sys.executable, "-m", "policies.auditor", "--outdir", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "backup copy" in done.stderr and "us-east-1" in done.stderr and "foreign-vault" in done.stderr
    dot = (tmp_path / "compliance" / "au-production.dot").read_text()
    (edge,) = [line for line in dot.splitlines() if "->" in line and "foreign-vault" in line]
    assert 'color="#c62828"' in edge and "OUTSIDE us-east-1" in edge
    page = (tmp_path / "compliance" / "au-production.html").read_text()
    assert 'stroke="#c62828"' in page and "Flow leaving the jurisdiction" in page

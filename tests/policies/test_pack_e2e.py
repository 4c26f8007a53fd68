"""The pack end to end: a fixture app that breaks promises fails synth with the clause ids; config errors
name their clause before synth; an acknowledgment (with a compensating control) is honoured and reported."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_backup as backup
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3

from config import ConfigError, parse_config
from config.load import DEFAULT_CONFIG_PATH
from policies.acknowledgments import acknowledge
from policies.data_security import DataSecurityChecks
from policies.registration import FAIL_ON_FINDINGS
from policies.report import write_report
from stacks.base import PlatformStack
from tests.policies.rulekit import deployment, platform


def _fixture_app(outdir: Path, *, acknowledged: bool) -> tuple[cdk.App, PlatformStack]:
    app = cdk.App(outdir=str(outdir), post_cli_context=FAIL_ON_FINDINGS)
    stack = PlatformStack(app, "Fixture", deployment=deployment(), role="primary", summary="policy fixture")
    vpc = ec2.CfnVPC(stack, "Vpc", cidr_block="10.0.0.0/16")
    group = ec2.CfnSecurityGroup(
        stack,
        "Ssh",
        group_description="opens ssh",
        vpc_id=vpc.ref,
        security_group_ingress=[
            ec2.CfnSecurityGroup.IngressProperty(ip_protocol="tcp", from_port=22, to_port=22, cidr_ip="10.0.0.0/8")
        ],
    )
    bucket = s3.CfnBucket(stack, "Unversioned")
    backup.CfnBackupPlan(
        stack,
        "Plan",
        backup_plan=backup.CfnBackupPlan.BackupPlanResourceTypeProperty(
            backup_plan_name="p",
            backup_plan_rule=[
                backup.CfnBackupPlan.BackupRuleResourceTypeProperty(
                    rule_name="daily",
                    target_backup_vault="v",
                    schedule_expression="cron(0 3 * * ? *)",
                    copy_actions=[
                        backup.CfnBackupPlan.CopyActionResourceTypeProperty(
                            destination_backup_vault_arn="arn:aws:backup:us-east-1:111111111111:backup-vault:v"
                        )
                    ],
                )
            ],
        ),
    )
    if acknowledged:
        acknowledge(
            group,
            ["DataSecurity-ACC2-NoSshIngress"],
            "Fixture only: compensating control is the test itself, never deployed.",
        )
    cdk.Validations.of(app).add_plugins(DataSecurityChecks(app, config=platform()))
    _ = bucket
    return app, stack


@pytest.fixture(scope="module")
def failed_synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    outdir = tmp_path_factory.mktemp("broken")
    app, _ = _fixture_app(outdir, acknowledged=False)
    with pytest.raises(RuntimeError) as error:
        app.synth()
    write_report(outdir, platform())
    return outdir, str(error.value)


@pytest.mark.parametrize(
    ("rule_id", "clause"),
    [
        ("DataSecurity-ACC2-NoSshIngress", "[ACC-2]"),
        ("DataSecurity-BAK6-Versioning", "[BAK-6]"),
        ("DataSecurity-HOST2-RegionReferences", "[HOST-2]"),
        ("DataSecurity-BAK5-CopyToDrRegion", "[BAK-5]"),
        ("DataSecurity-ACC3-VpcFlowLogs", "[ACC-3]"),
    ],
)
def test_broken_promise_fails_synth_with_clause_id(failed_synth: tuple[Path, str], rule_id: str, clause: str) -> None:
    _, message = failed_synth
    assert "ValidationFailed" in message
    assert rule_id in message
    assert clause in message


def test_failing_fixture_shows_fail_in_the_report(failed_synth: tuple[Path, str]) -> None:
    outdir, _ = failed_synth
    report = json.loads((outdir / "compliance" / "compliance-report.json").read_text())
    acc2 = next(c for c in report["clauses"] if c["id"] == "ACC-2")
    assert acc2["status"] == "FAIL"
    assert any(f["rule_id"] == "DataSecurity-ACC2-NoSshIngress" and f["result"] == "FAIL" for f in acc2["findings"])
    assert report["summary"]["counts_match_validation_report"] is True
    assert "**FAIL** `DataSecurity-BAK6-Versioning`" in (outdir / "compliance" / "compliance-report.md").read_text()


def test_acknowledged_finding_is_honoured_and_reported(tmp_path: Path) -> None:
    app, _ = _fixture_app(tmp_path, acknowledged=True)
    with pytest.raises(RuntimeError) as error:
        app.synth()  # the other findings still fail
    assert "DataSecurity-ACC2-NoSshIngress" not in str(error.value)
    report = json.loads(write_report(tmp_path, platform()).with_suffix(".json").read_text())
    acc2 = next(c for c in report["clauses"] if c["id"] == "ACC-2")
    assert [f["result"] for f in acc2["findings"]] == ["ACKNOWLEDGED"]
    assert report["summary"]["counts_match_validation_report"] is True
    assert any("compensating control" in a["reason"] for a in report["acknowledgments"])


def _raw() -> dict[str, Any]:
    return tomllib.loads(DEFAULT_CONFIG_PATH.read_text())


def test_ebs_retention_89_days_is_a_config_error_naming_bak2() -> None:
    raw = _raw()
    raw["environments"]["production"]["retention"]["ebs_snapshot_days"] = 89
    with pytest.raises(ConfigError, match=r"\[BAK-2\]"):
        parse_config(raw)


def test_dr_region_outside_jurisdiction_is_a_config_error_naming_host2() -> None:
    raw = _raw()
    raw["jurisdictions"]["au"]["dr_region"] = "us-east-1"
    with pytest.raises(ConfigError, match=r"\[HOST-2\]"):
        parse_config(raw)

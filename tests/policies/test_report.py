"""The auditor's report: clause parsing, JSON fields, runbook links (counts are checked in test_pack_e2e)."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns

from policies.data_security import DataSecurityChecks
from policies.registration import FAIL_ON_FINDINGS
from policies.report import parse_clauses, write_report
from stacks.base import PlatformStack
from tests.policies.rulekit import deployment, platform


def test_parse_clauses_reads_the_table_rows() -> None:
    text = (
        "| id | a | b | kind |\n|---|---|---|---|\n"
        "| BAK-9 | restore (001) | plan | both |\n| OPS-3 | x | y | runbook |\n"
    )
    clauses = parse_clauses(text)
    assert [(c.id, c.kind, c.commitment) for c in clauses] == [
        ("BAK-9", "both", "restore (001)"),
        ("OPS-3", "runbook", "x"),
    ]


@pytest.fixture(scope="module")
def passing_report(tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    outdir = tmp_path_factory.mktemp("passing")
    app = cdk.App(outdir=str(outdir), post_cli_context=FAIL_ON_FINDINGS)
    stack = PlatformStack(app, "Quiet", deployment=deployment(), role="primary", summary="report fixture")
    sns.CfnTopic(stack, "Topic", kms_master_key_id="arn:aws:kms:ap-southeast-2:111111111111:key/k")
    cdk.Validations.of(app).add_plugins(DataSecurityChecks(app, config=platform()))
    app.synth()  # passes: an encrypted topic breaks no rule
    report: dict = json.loads(write_report(Path(outdir), platform()).with_suffix(".json").read_text())  # type: ignore[type-arg]
    return report


def test_report_json_fields(passing_report: dict) -> None:  # type: ignore[type-arg]
    assert passing_report["schema_version"] == 1
    assert set(passing_report["summary"]) >= {
        "clauses",
        "rules",
        "evaluations",
        "pass",
        "fail",
        "acknowledged",
        "not_applicable",
        "validation_report_findings",
        "counts_match_validation_report",
    }
    assert passing_report["summary"]["fail"] == 0
    assert passing_report["summary"]["counts_match_validation_report"] is True
    clause = next(c for c in passing_report["clauses"] if c["id"] == "ENC-1")
    assert set(clause) >= {"id", "kind", "promise", "control", "rules", "stacks", "findings", "status"}
    assert clause["status"] == "PASS"
    assert {
        "stack": "au-production-primary-quiet",
        "region": "ap-southeast-2",
        "PASS": 1,
        "FAIL": 0,
        "ACKNOWLEDGED": 0,
        "N/A": 0,
    } in clause["stacks"]


def test_runbook_clauses_link_runbooks_or_say_none(passing_report: dict) -> None:  # type: ignore[type-arg]
    by_id = {c["id"]: c for c in passing_report["clauses"]}
    for clause in by_id.values():
        if clause["kind"] == "synth":
            assert "runbooks" not in clause
        else:
            runbooks = clause["runbooks"]
            assert runbooks == "no runbook yet" or all((Path(__file__).parents[2] / p).exists() for p in runbooks)

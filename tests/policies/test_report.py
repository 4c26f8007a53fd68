"""The auditor's report: clause parsing, JSON fields, runbook links (counts are checked in test_pack_e2e)."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns

from policies.coverage import NOT_CHECKED_AT_SYNTH
from policies.data_security import DataSecurityChecks
from policies.registration import FAIL_ON_FINDINGS
from policies.report import _status, parse_clauses, write_report
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
    root = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    key = kms.CfnKey(
        stack,
        "SystemKey",
        enable_key_rotation=True,
        key_policy={"Version": "2012-10-17", "Statement": [root]},
        tags=[cdk.CfnTag(key="data-classification", value="system")],
    )
    key.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    sns.CfnTopic(stack, "Topic", kms_master_key_id=key.attr_arn)
    cdk.Validations.of(app).add_plugins(DataSecurityChecks(app, config=platform()))
    app.synth()  # passes: a topic encrypted with the system key breaks no rule
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
        "PASS": 2,  # the topic's key (ENC1-SnsKms) and the key's rotation (ENC1-KeyRotation)
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


def test_partly_checked_clauses_are_partial_never_pass(passing_report: dict) -> None:  # type: ignore[type-arg]
    by_id = {c["id"]: c for c in passing_report["clauses"]}
    for clause_id, why in NOT_CHECKED_AT_SYNTH.items():
        clause = by_id[clause_id]  # every entry names a real clause of docs/POLICY.md
        assert clause["status"] in ("PARTIAL", "FAIL"), clause_id
        assert clause["not_checked_at_synth"] == why
    assert by_id["ENC-1"]["status"] == "PASS" and "not_checked_at_synth" not in by_id["ENC-1"]


@pytest.mark.parametrize(
    "results,has_rules,clause,expected",
    [
        pytest.param(["PASS"], True, "ENC-1", "PASS", id="fully-checked"),
        pytest.param(["PASS"], True, "DR-1", "PARTIAL", id="partly-checked"),
        pytest.param(["PASS", "FAIL"], True, "DR-1", "FAIL", id="fail-beats-partial"),
        pytest.param([], False, "OPS-3", "RUNBOOK", id="no-rules"),
    ],
)
def test_clause_status(results: list[str], has_rules: bool, clause: str, expected: str) -> None:
    assert _status(clause, [{"result": r} for r in results], has_rules) == expected


def test_ops7_lists_its_runbook_automation_and_tests() -> None:
    from policies.report import _runbook_links, load_clauses

    ops7 = next(c for c in load_clauses() if c.id == "OPS-7")
    assert ops7.kind == "both"
    links = _runbook_links(ops7)
    assert {"runbooks/release.md", "runbooks/release.py"} <= set(links["runbooks"])
    assert "tests/runbooks/test_release.py" in links["tests"]
    assert "OPS-7" in NOT_CHECKED_AT_SYNTH


def test_known_exceptions_are_listed_under_their_clause_and_in_their_own_section(
    passing_report: dict,  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    """Issue 17 item 5: run-time log groups whose name synth cannot know (the canaries' cwsyn-*)."""
    from policies.coverage import KNOWN_EXCEPTIONS
    from policies.report import render_markdown

    by_id = {c["id"]: c for c in passing_report["clauses"]}
    assert set(KNOWN_EXCEPTIONS) <= set(by_id)  # every entry names a real clause
    for clause_id in ("ENC-1", "BAK-7"):
        assert any("cwsyn-" in text for text in by_id[clause_id]["known_exceptions"]), clause_id
    listed = {(e["clause"], e["exception"]) for e in passing_report["known_exceptions"]}
    assert listed == {(c, t) for c, texts in KNOWN_EXCEPTIONS.items() for t in texts}
    markdown = render_markdown(passing_report)
    assert "## Known exceptions (run-time resources no template holds)" in markdown
    assert "**Known exception (not in any template):**" in markdown

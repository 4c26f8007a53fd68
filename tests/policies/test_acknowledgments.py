"""Acknowledgment hygiene over the real app (au-production, every pack).

The app is synthesized once with `policies.acknowledgments` recording instead of
acknowledging. Every recorded acknowledgment must have a reason naming the
compensating control, and its finding must appear in the validation report: an
acknowledgment whose rule no longer fires on that resource is stale and fails here.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aws_cdk as cdk
import pytest

import policies.acknowledgments as acknowledgments
from policies.registration import register_policy_packs
from stacks.app_builder import Selection, build_app
from tests.conftest import CDK_JSON_CONTEXT
from tests.policies.rulekit import platform

Recorded = list[tuple[str, str, str]]


class _Recorder:
    def __init__(self, construct: Any, sink: Recorded) -> None:
        self.path = construct.node.path
        self.sink = sink

    def acknowledge(self, ack: cdk.Acknowledgment) -> None:
        self.sink.append((self.path, ack.id, ack.reason or ""))


@pytest.fixture(scope="module")
def unacknowledged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Recorded, set[tuple[str, str]]]:
    recorded: Recorded = []
    shim = SimpleNamespace(
        Validations=SimpleNamespace(of=lambda construct: _Recorder(construct, recorded)),
        Acknowledgment=cdk.Acknowledgment,
    )
    patch = pytest.MonkeyPatch()
    patch.setattr(acknowledgments, "cdk", shim)
    try:
        outdir = tmp_path_factory.mktemp("unacknowledged")
        app = cdk.App(
            outdir=str(outdir),
            context=CDK_JSON_CONTEXT,  # the feature flags `cdk synth` uses: same finding ids
            post_cli_context={"@aws-cdk/core:failSynthOnValidationErrors": False},
        )
        build_app(app, platform(), Selection(deployment="au-production"))
        register_policy_packs(app, platform())
        app.synth()
    finally:
        patch.undo()
    report = json.loads((Path(outdir) / "validation-report.json").read_text())
    fired = {
        (violation["ruleName"], construct.get("constructPath", ""))
        for plugin in report["pluginReports"]
        for violation in plugin.get("violations", [])
        for construct in violation.get("violatingConstructs", [])
    }
    return recorded, fired


def _bare(rule_id: str) -> str:
    """`AwsSolutions::AwsSolutions-IAM5[Resource::*]` -> `AwsSolutions-IAM5[Resource::*]`."""
    head = rule_id.split("[", 1)[0]
    return rule_id.split("::", 1)[1] if "::" in head else rule_id


def test_the_app_has_acknowledgments_to_check(unacknowledged: tuple[Recorded, set[tuple[str, str]]]) -> None:
    recorded, _ = unacknowledged
    assert recorded, "no acknowledgment was recorded: the hygiene check would be vacuous"


def test_every_acknowledgment_names_its_compensating_control(
    unacknowledged: tuple[Recorded, set[tuple[str, str]]],
) -> None:
    recorded, _ = unacknowledged
    for path, rule_id, reason in recorded:
        assert len(reason) >= acknowledgments.MIN_REASON_LENGTH and "compensat" in reason.lower(), (path, rule_id)


def test_every_acknowledged_finding_still_fires_without_it(
    unacknowledged: tuple[Recorded, set[tuple[str, str]]],
) -> None:
    recorded, fired = unacknowledged
    stale = [
        (path, rule_id)
        for path, rule_id, _ in recorded
        if not any(_bare(rule_id) == name and (where == path or where.startswith(path + "/")) for name, where in fired)
    ]
    assert stale == [], f"acknowledgments whose finding no longer fires (remove them): {stale}"

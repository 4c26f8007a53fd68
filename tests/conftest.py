"""Shared fixtures: each deployment is synthesized once per session, with every pack.

A stage fixture returns `{"primary": PrimaryStage, "dr": DisasterRecoveryStage}`;
synthesis runs the policy packs, so a finding fails the fixture (and every test
that uses it) with the report in the error.

Under pytest-xdist a session is one worker: every test that uses a stage fixture is
put in one xdist group ("in-process-synth", `pytest -n 2 --dist loadgroup`), so each
deployment is synthesized once per run instead of once per worker.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from config import PlatformConfig, load_config
from policies.registration import FAIL_ON_FINDINGS, register_policy_packs
from stacks.app_builder import Selection, build_app
from stacks.stages import RegionalStage

Stages = dict[str, RegionalStage]
STAGE_FIXTURES = ("au_production", "au_development")
IN_PROCESS_SYNTH_GROUP = "in-process-synth"
TemplateOf = Callable[[Stages, str, str], Template]


@pytest.hookimpl(tryfirst=True)  # before xdist turns the marker into the group suffix of the node id
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that share a synthesized deployment run on one worker (unless already grouped)."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if any(name in fixtures for name in STAGE_FIXTURES) and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(IN_PROCESS_SYNTH_GROUP))


@pytest.fixture(scope="session")
def platform_config() -> PlatformConfig:
    return load_config()


REPO = Path(__file__).resolve().parent.parent
# The feature flags of cdk.json, so tested templates are the ones `cdk synth` writes.
CDK_JSON_CONTEXT = json.loads((REPO / "cdk.json").read_text())["context"]


def synthesize(config: PlatformConfig, deployment: str, outdir: Path) -> Stages:
    app = cdk.App(outdir=str(outdir), context=CDK_JSON_CONTEXT, post_cli_context=FAIL_ON_FINDINGS)
    stages = build_app(app, config, Selection(deployment=deployment))
    register_policy_packs(app)
    app.synth()
    return {stage.role: stage for stage in stages}


@pytest.fixture(scope="session")
def au_production(platform_config: PlatformConfig, tmp_path_factory: pytest.TempPathFactory) -> Stages:
    return synthesize(platform_config, "au-production", tmp_path_factory.mktemp("au-production"))


@pytest.fixture(scope="session")
def au_development(platform_config: PlatformConfig, tmp_path_factory: pytest.TempPathFactory) -> Stages:
    return synthesize(platform_config, "au-development", tmp_path_factory.mktemp("au-development"))


@pytest.fixture(scope="session")
def template_of() -> TemplateOf:
    """`template_of(stages, "primary", "Network")`: the stack's template, cached."""
    cache: dict[tuple[int, str, str], Template] = {}

    def get(stages: Stages, role: str, stack_id: str) -> Template:
        key = (id(stages), role, stack_id)
        if key not in cache:
            stack = stages[role].node.find_child(stack_id)
            assert isinstance(stack, cdk.Stack)
            cache[key] = Template.from_stack(stack)
        return cache[key]

    return get


def au_production_stack(role: str, stack_id: str) -> Callable[[Stages, TemplateOf], Template]:
    """A module fixture for a test module: `standby_web = au_production_stack("dr", "StandbyWeb")`
    is the template of that au-production stack, by the fixture's name."""

    def template(au_production: Stages, template_of: TemplateOf) -> Template:
        return template_of(au_production, role, stack_id)

    return pytest.fixture(scope="module")(template)


@pytest.fixture(scope="session")
def au_production_pack(au_production: Stages, platform_config: PlatformConfig) -> Path:
    """The auditor's pack of au-production, as app.py writes it after a synth: the compliance
    report, then the pages (`policies/auditor/`), in the fixture's cloud assembly. Returns
    `<outdir>/compliance`."""
    from policies.auditor import write_auditor_pack
    from policies.report import REPORT_DIR, write_report

    app = au_production["primary"].node.root
    assert isinstance(app, cdk.App)
    outdir = Path(app.outdir)
    write_report(outdir, platform_config)
    assert write_auditor_pack(outdir, platform_config) == []
    return outdir / REPORT_DIR

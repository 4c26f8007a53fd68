"""The outside-in canary (OPS-2) as AWS will create it: a current runtime, and requests the web ACL lets through.

Issue 17 items 1 and 10."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from patterns.outside_probe import RUNTIME
from tests.conftest import Stages, TemplateOf

# Synthetics runtimes this project may create canaries on, with their Lambda Node.js major version
# (AWS's runtime pages). A CDK bump that changes patterns/outside_probe.py:RUNTIME changes this on
# purpose, after reading the runtime's page: its script API and its deprecation date.
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Library_nodejs_puppeteer.html
ALLOWED_RUNTIMES: dict[str, int] = {"syn-nodejs-puppeteer-13.0": 22}
MIN_NODE_MAJOR = 22  # Lambda blocks creating Node.js 20 functions from 31 August 2026
STACKS = [("primary", "Web"), ("dr", "StandbyWeb")]


def _canaries(au_production: Stages, template_of: TemplateOf, role: str, stack_id: str) -> list[Mapping[str, Any]]:
    found = template_of(au_production, role, stack_id).find_resources("AWS::Synthetics::Canary")
    assert found, f"no canary in {role}/{stack_id}"
    return [resource["Properties"] for resource in found.values()]


def test_the_runtime_is_on_the_allow_list_and_runs_node_22_or_newer() -> None:
    assert RUNTIME.name in ALLOWED_RUNTIMES, f"{RUNTIME.name}: not on the allow-list; read its runtime page first"
    assert ALLOWED_RUNTIMES[RUNTIME.name] >= MIN_NODE_MAJOR


@pytest.mark.parametrize("role,stack_id", STACKS)
def test_every_canary_uses_an_allowed_runtime(
    au_production: Stages, template_of: TemplateOf, role: str, stack_id: str
) -> None:
    for canary in _canaries(au_production, template_of, role, stack_id):
        assert canary["RuntimeVersion"] in ALLOWED_RUNTIMES, canary["RuntimeVersion"]


@pytest.mark.parametrize("role,stack_id", STACKS)
def test_canary_requests_carry_a_user_agent(
    au_production: Stages, template_of: TemplateOf, role: str, stack_id: str
) -> None:
    """AWSManagedRulesCommonRuleSet's NoUserAgent_HEADER blocks a request without a User-Agent header."""
    web = template_of(au_production, role, stack_id)
    acl = json.dumps(web.find_resources("AWS::WAFv2::WebACL"))
    assert "AWSManagedRulesCommonRuleSet" in acl
    for canary in _canaries(au_production, template_of, role, stack_id):
        script = canary["Code"]["Script"]
        assert isinstance(script, str)
        assert "executeHttpStep" in script
        headers = script[script.index("headers:") :].split("}", 1)[0]
        assert "'User-Agent': USER_AGENT" in headers, headers
        assert "const USER_AGENT = [synthetics.getCanaryUserAgentString(), 'outside-probe']" in script

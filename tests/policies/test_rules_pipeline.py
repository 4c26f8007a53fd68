"""Tests of policies/rules/pipeline.py (HOST-2): HOST2-PipelineResidency, compliant and non-compliant pipelines."""

from __future__ import annotations

from typing import Any

import pytest

from policies.rules import pipeline as rules
from policies.rules.model import StackView
from tests.policies.rulekit import C, N, platform, res

AU = platform().pipeline("au")
SYDNEY, MELBOURNE = "ap-southeast-2", "ap-southeast-4"


def _deploy(stack_name: str, region: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {
        "Name": f"{stack_name}.Deploy",
        "ActionTypeId": {"Category": "Deploy", "Provider": "CloudFormation"},
        "Configuration": {"StackName": stack_name},
    }
    if region:
        action["Region"] = region
    return action


def _pipeline(*actions: dict[str, Any], stores: list[tuple[str, object]] | None = None) -> dict[str, Any]:
    chosen = stores if stores is not None else [(SYDNEY, {"Ref": "Store"}), (MELBOURNE, AU.artifact_bucket(MELBOURNE))]
    return {
        "ArtifactStores": [{"Region": r, "ArtifactStore": {"Type": "S3", "Location": loc}} for r, loc in chosen],
        "Stages": [{"Name": "au-production", "Actions": list(actions)}],
    }


def _view(props: dict[str, Any], *, pipeline: bool = True) -> StackView:
    store = res("Store", "AWS::S3::Bucket", {"BucketName": AU.artifact_bucket(SYDNEY)})
    resource = res("Pipeline", "AWS::CodePipeline::Pipeline", props)
    return StackView(
        name="au-pipeline",
        region=SYDNEY,
        account=AU.account,
        resources={"Store": store, "Pipeline": resource},
        pipeline=AU if pipeline else None,
    )


def _status(props: dict[str, Any], **kw: Any) -> object:
    view = _view(props, **kw)
    return rules.pipeline_residency.check(view.resources["Pipeline"], view).status


GOOD = (_deploy("au-production-dr-keys", MELBOURNE), _deploy("au-production-primary-keys"))


def test_the_jurisdictions_own_stores_and_stacks_comply() -> None:
    assert _status(_pipeline(*GOOD)) == C


@pytest.mark.parametrize(
    "props",
    [
        _pipeline(*GOOD, _deploy("uk-production-primary-keys", "eu-west-2")),  # a UK deployment in the AU pipeline
        _pipeline(_deploy("uk-production-primary-keys")),  # a UK stack, even deployed in Sydney
        _pipeline(
            *GOOD, stores=[(SYDNEY, {"Ref": "Store"}), (MELBOURNE, AU.artifact_bucket(MELBOURNE)), ("eu-west-2", "x")]
        ),
        _pipeline(*GOOD, stores=[(SYDNEY, {"Ref": "Store"}), (MELBOURNE, "cdk-default-support-bucket")]),
        _pipeline(*GOOD, stores=[(SYDNEY, {"Ref": "Store"})]),  # Melbourne acted in without a store
    ],
    ids=["foreign-region-action", "foreign-stack", "store-outside", "default-support-bucket", "missing-store"],
)
def test_anything_outside_the_jurisdiction_or_not_ours_fails(props: dict[str, Any]) -> None:
    assert _status(props) == N


def test_a_pipeline_of_no_configured_jurisdiction_fails() -> None:
    assert _status(_pipeline(*GOOD), pipeline=False) == N


def test_other_resources_are_not_pipelines() -> None:
    assert not rules.pipeline_residency.applies_to("AWS::S3::Bucket")

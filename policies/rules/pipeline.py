"""Rules for a jurisdiction's delivery pipeline (stacks/pipeline.py, issue 21): residency of what it stores
and of where it deploys (HOST-2)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policies.rules.cfn import flatten
from policies.rules.model import Resource, Result, StackView, fail, ok, rule

_CLOUDFORMATION = "CloudFormation"


def _bucket_name(location: object, stack: StackView) -> str:
    """A store's bucket: a literal name, or a Ref to a bucket of the stack (its BucketName)."""
    bucket = stack.get(location)
    return flatten(bucket.prop("BucketName", default="")) if bucket is not None else flatten(location)


def _stores(resource: Resource, stack: StackView) -> Iterator[tuple[str, str]]:
    """(region, bucket) of every artifact store: `ArtifactStores`, or the one `ArtifactStore` in the stack's region."""
    for store in resource.prop("ArtifactStores", default=[]) or []:
        yield str(store.get("Region", "")), _bucket_name(store.get("ArtifactStore", {}).get("Location", ""), stack)
    single = resource.prop("ArtifactStore")
    if single:
        yield stack.region, _bucket_name(single.get("Location", ""), stack)


def _actions(resource: Resource) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for stage in resource.prop("Stages", default=[]) or []:
        for action in stage.get("Actions", []) or []:
            yield str(stage.get("Name", "")), action


@rule(
    "HOST2-PipelineResidency",
    "HOST-2",
    ("AWS::CodePipeline::Pipeline",),
    "HOST-2: a jurisdiction's pipeline stores its artifacts, and deploys, only inside the jurisdiction, and "
    "deploys only that jurisdiction's stacks; this pipeline has an artifact store, an action or a target "
    "stack outside it (or belongs to no configured pipeline).",
    "Seeds 000/001/002: customer data, and the code and templates that handle it, stay in the jurisdiction.",
)
def pipeline_residency(resource: Resource, stack: StackView) -> Result:
    pipeline = stack.pipeline
    if pipeline is None:
        return fail(f"stack {stack.name} is no configured pipeline's ([jurisdictions.<j>.pipeline])")
    allowed = pipeline.allowed_regions
    problems: list[str] = []
    stores = list(_stores(resource, stack))
    for region, bucket in stores:
        if region not in allowed:
            problems.append(f"artifact store in {region}")
        elif bucket != pipeline.artifact_bucket(region):
            problems.append(
                f"artifact store {bucket!r} in {region} is not the project's {pipeline.artifact_bucket(region)!r}"
            )
    store_regions = {region for region, _ in stores}
    prefix = f"{pipeline.jurisdiction}-"
    for stage, action in _actions(resource):
        region = str(action.get("Region") or stack.region)
        name = f"{stage}/{action.get('Name', '')}"
        if region not in allowed:
            problems.append(f"action {name} runs in {region}")
        elif region not in store_regions:
            problems.append(f"action {name} runs in {region}, which has no artifact store of the project")
        if action.get("ActionTypeId", {}).get("Provider") == _CLOUDFORMATION:
            target = flatten(action.get("Configuration", {}).get("StackName", ""))
            if not target.startswith(prefix):
                problems.append(
                    f"action {name} deploys {target!r}, not a stack of jurisdiction {pipeline.jurisdiction}"
                )
    if problems:
        return fail("; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""))
    return ok(f"{len(stores)} artifact store(s) and every action in {', '.join(sorted(store_regions))}")


RULES = [pipeline_residency]

"""CodePipeline: `AWS::CodePipeline::Pipeline` in CloudFormation, with the structure checks AWS makes.

moto 5.2.5 has a CodePipeline API (CreatePipeline, GetPipeline, ...) but no CloudFormation model for
the pipeline, so a template's pipeline is skipped and GetPipeline finds nothing (issue 21: the e2e
test deploys `<j>-pipeline` and reads its stages). The model below turns the resource's properties
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-codepipeline-pipeline.html)
into the API's `PipelineDeclaration` and creates it with moto's own CreatePipeline (which already
refuses a role CodePipeline cannot assume and fewer than two stages). CreatePipeline and
UpdatePipeline, through the API or a template, also refuse what CodePipeline refuses as a structure
that is not valid (`InvalidStructureException`):

* `ArtifactStore` and `ArtifactStores` together or neither; with `ArtifactStores`, no store for the
  pipeline's region or for the region of a cross-region action
  (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_PipelineDeclaration.html,
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-codepipeline-pipeline-artifactstoremap.html);
* two stages of one name, a first stage with an action that is not a source action, a source action
  in a later stage (https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-requirements.html);
  a stage name outside `[A-Za-z0-9.@\\-_]{1,100}`
  (https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_StageDeclaration.html);
* two actions of one name in a stage, a run order outside 1..999
  (https://docs.aws.amazon.com/codepipeline/latest/userguide/action-requirements.html);
* an input artifact that no preceding action (an earlier stage, or a lower run order in the same
  stage) declares as its output, and an output artifact name declared twice
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-codepipeline-pipeline-inputartifact.html);
* more than 50 actions in a stage (the fixed quota: https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html).

An update is UpdatePipeline (the version goes up by one), a deletion DeletePipeline. Nothing runs:
AWS starts a pipeline when it is created; moto has no action runtime, so no execution is recorded
(the e2e test checks the declaration, never a run).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from moto.codepipeline.exceptions import InvalidStructureException
from moto.codepipeline.models import CodePipelineBackend, codepipeline_backends
from moto.core.common_models import CloudFormationModel

from tooling.emulator.cfn_models import NamedResource, register_models
from tooling.emulator.patch import Patch
from tooling.emulator.stack_errors import as_stack_error

MAX_ACTIONS_PER_STAGE: Final = 50
_NAME = re.compile(r"[A-Za-z0-9.@\-_]{1,100}")
_ACTION_FIELDS: Final = (
    ("RoleArn", "roleArn"),
    ("Region", "region"),
    ("Namespace", "namespace"),
    ("TimeoutInMinutes", "timeoutInMinutes"),
)


def _camel(key: str) -> str:
    return key[:1].lower() + key[1:]


def _configuration_value(value: Any) -> str:
    """The API's action configuration is a map of strings; CloudFormation writes booleans as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _action(raw: Mapping[str, Any]) -> dict[str, Any]:
    action: dict[str, Any] = {
        "name": raw["Name"],
        "actionTypeId": {_camel(k): v for k, v in raw["ActionTypeId"].items()},
        "runOrder": int(raw.get("RunOrder", 1)),
        "configuration": {k: _configuration_value(v) for k, v in (raw.get("Configuration") or {}).items()},
        "outputArtifacts": [{"name": a["Name"]} for a in raw.get("OutputArtifacts", [])],
        "inputArtifacts": [{"name": a["Name"]} for a in raw.get("InputArtifacts", [])],
    }
    action.update({api: raw[cfn] for cfn, api in _ACTION_FIELDS if cfn in raw})
    return action


def _store(raw: Mapping[str, Any]) -> dict[str, Any]:
    store: dict[str, Any] = {"type": raw["Type"], "location": raw["Location"]}
    if key := raw.get("EncryptionKey"):
        store["encryptionKey"] = {"id": key["Id"], "type": key["Type"]}
    return store


def pipeline_declaration(properties: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The CloudFormation properties as CreatePipeline's `pipeline` (camelCase, stores by region)."""
    declaration: dict[str, Any] = {
        "name": name,
        "roleArn": properties["RoleArn"],
        "stages": [
            {"name": stage["Name"], "actions": [_action(a) for a in stage["Actions"]]} for stage in properties["Stages"]
        ],
    }
    if "ArtifactStore" in properties:
        declaration["artifactStore"] = _store(properties["ArtifactStore"])
    if "ArtifactStores" in properties:
        declaration["artifactStores"] = {s["Region"]: _store(s["ArtifactStore"]) for s in properties["ArtifactStores"]}
    if "PipelineType" in properties:
        declaration["pipelineType"] = properties["PipelineType"]
    return declaration


def _check_artifact_stores(declaration: Mapping[str, Any], region: str) -> None:
    single, stores = declaration.get("artifactStore"), declaration.get("artifactStores")
    if (single is None) == (stores is None):
        raise InvalidStructureException("Pipeline must declare either artifactStore or artifactStores, not both")
    regions = {a["region"] for s in declaration["stages"] for a in s["actions"] if a.get("region", region) != region}
    if single is not None:
        if regions:
            raise InvalidStructureException(f"Cross-region actions ({', '.join(sorted(regions))}) need artifactStores")
        return
    missing = sorted(({region} | regions) - set(stores or {}))
    if missing:
        raise InvalidStructureException(f"artifactStores has no artifact store for region(s) {', '.join(missing)}")


def _run_order(action: Mapping[str, Any]) -> int:
    return int(action.get("runOrder", 1))  # the API's default, as in the action declaration


def _check_stage(stage: Mapping[str, Any], first: bool) -> None:
    name = stage["name"]
    if not _NAME.fullmatch(name):
        raise InvalidStructureException(f"Stage name {name!r} must match [A-Za-z0-9.@\\-_]{{1,100}}")
    actions: Sequence[Mapping[str, Any]] = stage["actions"]
    if len(actions) > MAX_ACTIONS_PER_STAGE:
        raise InvalidStructureException(
            f"Stage {name} has {len(actions)} actions; the maximum per stage is {MAX_ACTIONS_PER_STAGE}"
        )
    names = [a["name"] for a in actions]
    if len(set(names)) != len(names):
        raise InvalidStructureException(f"Action names in stage {name} must be unique")
    for action in actions:
        if not 1 <= _run_order(action) <= 999:
            raise InvalidStructureException(f"Action {name}/{action['name']}: runOrder must be 1..999")
        is_source = action["actionTypeId"]["category"] == "Source"
        if is_source != first:
            where = (
                "The first stage may contain only source actions"
                if first
                else "Only the first stage may contain source actions"
            )
            raise InvalidStructureException(f"{where}: {name}/{action['name']}")


def _check_artifacts(stages: Sequence[Mapping[str, Any]]) -> None:
    produced: set[str] = set()
    for stage in stages:
        for order in sorted({_run_order(a) for a in stage["actions"]}):
            wave = [a for a in stage["actions"] if _run_order(a) == order]
            for action in wave:
                for artifact in action.get("inputArtifacts", []):
                    if artifact["name"] not in produced:
                        raise InvalidStructureException(
                            f"Input artifact {artifact['name']} of {stage['name']}/{action['name']} "
                            "is not the output of a preceding action"
                        )
            for action in wave:
                for artifact in action.get("outputArtifacts", []):
                    if artifact["name"] in produced:
                        raise InvalidStructureException(f"Output artifact {artifact['name']} is declared twice")
                    produced.add(artifact["name"])


def check_structure(declaration: Mapping[str, Any], region: str) -> None:
    """CodePipeline's structure checks (module docstring); raises InvalidStructureException."""
    _check_artifact_stores(declaration, region)
    stages = declaration["stages"]
    names = [s["name"] for s in stages]
    if len(set(names)) != len(names):
        raise InvalidStructureException("Stage names in a pipeline must be unique")
    for index, stage in enumerate(stages):
        _check_stage(stage, first=index == 0)
    _check_artifacts(stages)


def _tags(properties: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"key": t["Key"], "value": t["Value"]} for t in properties.get("Tags", [])]


class PipelineModel(NamedResource, CloudFormationModel):
    TYPE = "AWS::CodePipeline::Pipeline"
    ATTRIBUTE = "Version"

    def attribute(self) -> str:
        declaration, _ = codepipeline_backends[self.account_id][self.region].get_pipeline(self.physical_id)
        return str(declaration["version"])

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> PipelineModel:
        properties = cloudformation_json["Properties"]
        declaration = pipeline_declaration(properties, resource_name)
        with as_stack_error():
            codepipeline_backends[account_id][region_name].create_pipeline(declaration, _tags(properties))
        return cls(account_id, region_name, resource_name)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: PipelineModel,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> PipelineModel:
        if new_resource_name != original_resource.physical_id:  # Name: "Update requires: Replacement"
            created = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            codepipeline_backends[account_id][region_name].delete_pipeline(original_resource.physical_id)
            return created
        declaration = pipeline_declaration(cloudformation_json["Properties"], new_resource_name)
        with as_stack_error():
            codepipeline_backends[account_id][region_name].update_pipeline(declaration)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        codepipeline_backends[account_id][region_name].delete_pipeline(resource_name)


_create_pipeline = CodePipelineBackend.create_pipeline
_update_pipeline = CodePipelineBackend.update_pipeline


def create_pipeline_checked(
    self: CodePipelineBackend, pipeline: dict[str, Any], tags: list[dict[str, str]]
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    check_structure(pipeline, self.region_name)
    return _create_pipeline(self, pipeline, tags)


def update_pipeline_checked(self: CodePipelineBackend, pipeline: dict[str, Any]) -> dict[str, Any]:
    check_structure(pipeline, self.region_name)
    return _update_pipeline(self, pipeline)


def _apply_structure_checks() -> None:
    CodePipelineBackend.create_pipeline = create_pipeline_checked  # type: ignore[method-assign]
    CodePipelineBackend.update_pipeline = update_pipeline_checked  # type: ignore[method-assign]


def _apply_pipeline_model() -> None:
    register_models(PipelineModel)


PATCHES = [
    Patch(
        "codepipeline",
        "pipeline-structure",
        "CreatePipeline/UpdatePipeline accept structures CodePipeline refuses (stores, stages, artifacts, quota)",
        _apply_structure_checks,
    ),
    Patch(
        "codepipeline",
        "cloudformation-pipeline",
        "AWS::CodePipeline::Pipeline is skipped by moto's CloudFormation (and so never structure-checked)",
        _apply_pipeline_model,
    ),
]

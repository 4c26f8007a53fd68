"""CodeBuild: `AWS::CodeBuild::Project` in CloudFormation.

moto 5.2.5 has CodeBuild's CreateProject and BatchGetProjects but no CloudFormation model for a
project: a template's projects are skipped, and the pipeline's actions name projects that do not
exist. The model below creates the project in moto's CodeBuild backend, answers `Ref` (the name)
and `Fn::GetAtt Arn` as the resource reference documents
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-codebuild-project.html),
and refuses what CreateProject refuses
(https://docs.aws.amazon.com/codebuild/latest/APIReference/API_CreateProject.html): a missing
`Source`, `Artifacts`, `Environment` or `ServiceRole` (required), a name outside
`[A-Za-z0-9][A-Za-z0-9\\-_]{1,254}`, a name already taken in the account and region
(`ResourceAlreadyExistsException`). moto's own request validators are not reused: they require a
source location for a CODEPIPELINE source, which CodeBuild ignores
(https://docs.aws.amazon.com/codebuild/latest/APIReference/API_ProjectSource.html), so they would
refuse every project a CDK pipeline declares. A CloudFormation-generated name is the stack name,
the logical id and a suffix, cut to 255 characters.

moto has no report groups at all (the pipeline's test results go to one, issue 21). The model of
`AWS::CodeBuild::ReportGroup`
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-codebuild-reportgroup.html)
keeps them in the CodeBuild backend; `Ref` and `Fn::GetAtt Arn` are the ARN
(`arn:aws:codebuild:<region>:<account>:report-group/<name>`), and CreateReportGroup's checks apply
(https://docs.aws.amazon.com/codebuild/latest/APIReference/API_CreateReportGroup.html): a name of
2..128 characters, unique in the account and region; a type TEST or CODE_COVERAGE; an export of
type S3 (with a bucket) or NO_EXPORT. ListReportGroups and BatchGetReportGroups answer from them
(https://docs.aws.amazon.com/codebuild/latest/APIReference/API_BatchGetReportGroups.html).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from moto.codebuild.exceptions import InvalidInputException, ResourceAlreadyExistsException
from moto.codebuild.models import CodeBuildBackend, codebuild_backends
from moto.codebuild.responses import CodeBuildResponse
from moto.core.common_models import CloudFormationModel
from moto.core.responses import ActionResult
from moto.core.utils import unix_time

from tooling.emulator.cfn_models import NamedResource, register_models
from tooling.emulator.patch import Patch
from tooling.emulator.stack_errors import as_stack_error

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_]{1,254}")
_REQUIRED: Final = ("Source", "Artifacts", "Environment", "ServiceRole")
# CloudFormation property -> CreateProject member, where it is not the camelCase of the property.
_RENAMED: Final = {"BuildSpec": "buildspec"}


def _api_shape(value: Any) -> Any:
    """CloudFormation's PascalCase structures as the API's camelCase ones (values unchanged)."""
    if isinstance(value, Mapping):
        return {_RENAMED.get(k, k[:1].lower() + k[1:]): _api_shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_api_shape(v) for v in value]
    return value


def _backend(account_id: str, region: str) -> CodeBuildBackend:
    return codebuild_backends[account_id][region]


def _check(name: str, properties: Mapping[str, Any], backend: CodeBuildBackend) -> None:
    missing = [key for key in _REQUIRED if not properties.get(key)]
    if missing:
        raise InvalidInputException(f"Project {name}: {', '.join(missing)} required")
    if not _NAME.fullmatch(name):
        raise InvalidInputException(f"Project name {name!r} must match [A-Za-z0-9][A-Za-z0-9\\-_]{{1,254}}")
    if name in backend.codebuild_projects:
        raise ResourceAlreadyExistsException(f"Project already exists: {backend.codebuild_projects[name].arn}")


def _create(name: str, properties: Mapping[str, Any], backend: CodeBuildBackend) -> None:
    api = _api_shape(dict(properties))
    backend.create_project(
        project_name=name,
        description=api.get("description"),
        project_source=api["source"],
        artifacts=api["artifacts"],
        environment=api["environment"],
        service_role=api["serviceRole"],
        tags=api.get("tags"),
        cache=api.get("cache"),
        timeout=api.get("timeoutInMinutes"),
        queued_timeout=api.get("queuedTimeoutInMinutes"),
        source_version=api.get("sourceVersion"),
        logs_config=api.get("logsConfig"),
        vpc_config=api.get("vpcConfig"),
    )
    if key := api.get("encryptionKey"):
        backend.codebuild_projects[name].project_metadata["encryptionKey"] = key


class ProjectModel(NamedResource, CloudFormationModel):
    TYPE = "AWS::CodeBuild::Project"
    ATTRIBUTE = "Arn"

    def attribute(self) -> str:
        return str(_backend(self.account_id, self.region).codebuild_projects[self.physical_id].arn)

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> ProjectModel:
        name = resource_name[:255]
        backend = _backend(account_id, region_name)
        properties = cloudformation_json["Properties"]
        with as_stack_error():
            _check(name, properties, backend)
        _create(name, properties, backend)
        return cls(account_id, region_name, name)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: ProjectModel,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> ProjectModel:
        """UpdateProject keeps the name; a new name replaces the project (Name: Replacement)."""
        backend = _backend(account_id, region_name)
        name = new_resource_name[:255]
        if name == original_resource.physical_id:
            backend.delete_project(name)
            _create(name, cloudformation_json["Properties"], backend)
            return original_resource
        created = cls.create_from_cloudformation_json(name, cloudformation_json, account_id, region_name)
        backend.delete_project(original_resource.physical_id)
        return created

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        _backend(account_id, region_name).delete_project(resource_name)


_REPORT_TYPES: Final = ("TEST", "CODE_COVERAGE")
_EXPORT_TYPES: Final = ("S3", "NO_EXPORT")


def report_groups(backend: CodeBuildBackend) -> dict[str, dict[str, Any]]:
    """The backend's report groups by ARN (moto's backend has no such attribute of its own)."""
    groups: dict[str, dict[str, Any]] = backend.__dict__.setdefault("emulator_report_groups", {})
    return groups


def _report_group(name: str, properties: Mapping[str, Any], account_id: str, region: str) -> dict[str, Any]:
    if not 2 <= len(name) <= 128:
        raise InvalidInputException(f"Report group name {name!r} must be 2..128 characters")
    if properties.get("Type") not in _REPORT_TYPES:
        raise InvalidInputException(f"Report group {name}: Type must be one of {', '.join(_REPORT_TYPES)}")
    export = _api_shape(dict(properties.get("ExportConfig") or {}))
    if export.get("exportConfigType") not in _EXPORT_TYPES:
        raise InvalidInputException(f"Report group {name}: ExportConfigType must be one of {', '.join(_EXPORT_TYPES)}")
    if export["exportConfigType"] == "S3" and not (export.get("s3Destination") or {}).get("bucket"):
        raise InvalidInputException(f"Report group {name}: an S3 export needs S3Destination.Bucket")
    now = unix_time()
    return {
        "arn": f"arn:aws:codebuild:{region}:{account_id}:report-group/{name}",
        "name": name,
        "type": properties["Type"],
        "exportConfig": export,
        "created": now,
        "lastModified": now,
        "tags": _api_shape(list(properties.get("Tags", []))),
        "status": "ACTIVE",
    }


class ReportGroupModel(NamedResource, CloudFormationModel):
    """Its physical id (`Ref`) is its ARN, as the resource reference documents."""

    TYPE = "AWS::CodeBuild::ReportGroup"
    ATTRIBUTE = "Arn"

    def attribute(self) -> str:
        return self.physical_id

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> ReportGroupModel:
        groups = report_groups(_backend(account_id, region_name))
        with as_stack_error():
            group = _report_group(resource_name, cloudformation_json["Properties"], account_id, region_name)
            if group["arn"] in groups:
                raise ResourceAlreadyExistsException(f"Report group already exists: {group['arn']}")
        groups[group["arn"]] = group
        return cls(account_id, region_name, group["arn"])

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: ReportGroupModel,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> ReportGroupModel:
        groups = report_groups(_backend(account_id, region_name))
        with as_stack_error():
            group = _report_group(new_resource_name, cloudformation_json["Properties"], account_id, region_name)
        if group["arn"] != original_resource.physical_id:  # Name: "Update requires: Replacement"
            created = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            groups.pop(original_resource.physical_id, None)
            return created
        groups[group["arn"]] = {**group, "created": groups[group["arn"]]["created"]}
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        report_groups(_backend(account_id, region_name)).pop(resource_name, None)


def list_report_groups(self: CodeBuildResponse) -> ActionResult:
    return ActionResult({"reportGroups": sorted(report_groups(self.codebuild_backend))})


def batch_get_report_groups(self: CodeBuildResponse) -> ActionResult:
    groups = report_groups(self.codebuild_backend)
    arns = list(self._get_param("reportGroupArns") or [])
    return ActionResult(
        {
            "reportGroups": [groups[arn] for arn in arns if arn in groups],
            "reportGroupsNotFound": [arn for arn in arns if arn not in groups],
        }
    )


def _apply_report_groups() -> None:
    CodeBuildResponse.list_report_groups = list_report_groups  # type: ignore[attr-defined]
    CodeBuildResponse.batch_get_report_groups = batch_get_report_groups  # type: ignore[attr-defined]
    register_models(ReportGroupModel)


def _apply_project_model() -> None:
    register_models(ProjectModel)


PATCHES = [
    Patch(
        "codebuild",
        "cloudformation-project",
        "AWS::CodeBuild::Project is skipped by moto's CloudFormation: pipeline actions name no project",
        _apply_project_model,
    ),
    Patch(
        "codebuild",
        "report-groups",
        "no report groups (API or AWS::CodeBuild::ReportGroup): the synth project's report fails the stack",
        _apply_report_groups,
    ),
]

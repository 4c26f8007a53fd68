"""The emulator's CodePipeline and CodeBuild models (tooling/emulator/codepipeline.py, codebuild.py).

Each refusal is one that CodePipeline or CodeBuild makes (the modules cite the pages); bare moto
5.2.5 skips these resource types in CloudFormation, so every test here fails without the models.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import EMULATOR_ACCOUNT, emulator_client
from tooling.moto_server import MotoServer

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
REGION = "ap-southeast-2"
OTHER = "ap-southeast-4"
Template = dict[str, Any]


@pytest.fixture(scope="module")
def aws(server: MotoServer) -> Callable[..., Any]:
    def client(service: str, region: str = REGION) -> Any:
        return emulator_client(server, service, region)

    return client


def _role(service: str) -> dict[str, Any]:
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
    return {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust}}


def _action(name: str, category: str, provider: str, **fields: Any) -> dict[str, Any]:
    owner = "AWS"
    return {
        "Name": name,
        "ActionTypeId": {"Category": category, "Owner": owner, "Provider": provider, "Version": "1"},
        **fields,
    }


def _project() -> dict[str, Any]:
    return {
        "Type": "AWS::CodeBuild::Project",
        "Properties": {
            "Source": {"Type": "CODEPIPELINE", "BuildSpec": '{"version": "0.2"}'},
            "Artifacts": {"Type": "CODEPIPELINE"},
            "Environment": {
                "Type": "LINUX_CONTAINER",
                "ComputeType": "BUILD_GENERAL1_SMALL",
                "Image": "aws/codebuild/standard:7.0",
            },
            "ServiceRole": {"Fn::GetAtt": ["BuildRole", "Arn"]},
            "EncryptionKey": "arn:aws:kms:ap-southeast-2:123456789012:alias/unit",
        },
    }


def valid_template(name: str) -> Template:
    """Source -> Build (CodeBuild) -> Deploy (one action in another region), stores in both regions."""
    source = _action(
        "Source",
        "Source",
        "S3",
        Configuration={"S3Bucket": "src", "S3ObjectKey": "k", "PollForSourceChanges": False},
        OutputArtifacts=[{"Name": "Src"}],
    )
    build = _action(
        "Build",
        "Build",
        "CodeBuild",
        Configuration={"ProjectName": {"Ref": "Project"}},
        InputArtifacts=[{"Name": "Src"}],
        OutputArtifacts=[{"Name": "Out"}],
    )
    deploy = _action(
        "Deploy",
        "Deploy",
        "CloudFormation",
        Region=OTHER,
        RunOrder=2,
        InputArtifacts=[{"Name": "Out"}],
        Configuration={"StackName": "s", "ActionMode": "CREATE_UPDATE"},
    )
    check = _action(
        "Check",
        "Test",
        "CodeBuild",
        RunOrder=3,
        Configuration={"ProjectName": {"Ref": "Project"}},
        InputArtifacts=[{"Name": "Out"}],
    )
    stores = [
        {
            "Region": region,
            "ArtifactStore": {
                "Type": "S3",
                "Location": f"{name}-{region}",
                "EncryptionKey": {"Id": "alias/k", "Type": "KMS"},
            },
        }
        for region in (REGION, OTHER)
    ]
    pipeline = {
        "Name": name,
        "RoleArn": {"Fn::GetAtt": ["PipelineRole", "Arn"]},
        "ArtifactStores": stores,
        "Stages": [{"Name": "Source", "Actions": [source]}, {"Name": "Build", "Actions": [build, deploy, check]}],
        "Tags": [{"Key": "service", "Value": "unit"}],
    }
    resources = {
        "PipelineRole": _role("codepipeline.amazonaws.com"),
        "BuildRole": _role("codebuild.amazonaws.com"),
        "Project": _project(),
        "Reports": {
            "Type": "AWS::CodeBuild::ReportGroup",
            "Properties": {
                "Name": f"{name}-tests",
                "Type": "TEST",
                "ExportConfig": {"ExportConfigType": "S3", "S3Destination": {"Bucket": "reports", "Packaging": "ZIP"}},
            },
        },
        "Pipeline": {"Type": "AWS::CodePipeline::Pipeline", "Properties": pipeline},
    }
    outputs = {"Version": {"Value": {"Fn::GetAtt": ["Pipeline", "Version"]}}, "Reports": {"Value": {"Ref": "Reports"}}}
    return {"Resources": resources, "Outputs": outputs}


def _pipeline(template: Template) -> dict[str, Any]:
    return dict(template["Resources"]["Pipeline"]["Properties"])


def _stages(template: Template) -> list[dict[str, Any]]:
    return list(_pipeline(template)["Stages"])


def _create(aws: Callable[..., Any], name: str, template: Template) -> None:
    aws("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))


def _outputs(aws: Callable[..., Any], name: str) -> dict[str, str]:
    stack = aws("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_a_templates_pipeline_project_and_report_group_exist_as_declared(aws: Callable[..., Any]) -> None:
    _create(aws, "unit-good", valid_template("unit-good"))
    declaration = aws("codepipeline").get_pipeline(name="unit-good")["pipeline"]
    assert [s["name"] for s in declaration["stages"]] == ["Source", "Build"]
    build, deploy, check = declaration["stages"][1]["actions"]
    assert (deploy["region"], deploy["runOrder"], check["runOrder"]) == (OTHER, 2, 3)
    assert declaration["stages"][0]["actions"][0]["configuration"]["PollForSourceChanges"] == "false"
    assert set(declaration["artifactStores"]) == {REGION, OTHER}
    project = build["configuration"]["ProjectName"]
    (found,) = aws("codebuild").batch_get_projects(names=[project])["projects"]
    assert found["source"] == {"type": "CODEPIPELINE", "buildspec": '{"version": "0.2"}'}
    assert found["encryptionKey"] == "arn:aws:kms:ap-southeast-2:123456789012:alias/unit"
    outputs = _outputs(aws, "unit-good")
    assert outputs["Version"] == "1"
    report_arn = f"arn:aws:codebuild:{REGION}:{EMULATOR_ACCOUNT}:report-group/unit-good-tests"
    assert outputs["Reports"] == report_arn
    assert report_arn in aws("codebuild").list_report_groups()["reportGroups"]
    (group,) = aws("codebuild").batch_get_report_groups(reportGroupArns=[report_arn])["reportGroups"]
    assert (group["type"], group["exportConfig"]["s3Destination"]["bucket"]) == ("TEST", "reports")


def test_an_update_is_a_new_version_and_a_deletion_removes_pipeline_and_project(aws: Callable[..., Any]) -> None:
    template = valid_template("unit-update")
    _create(aws, "unit-update", template)
    build_stage = aws("codepipeline").get_pipeline(name="unit-update")["pipeline"]["stages"][1]
    project = build_stage["actions"][0]["configuration"]["ProjectName"]
    changed = copy.deepcopy(template)
    _stages(changed)[1]["Name"] = "Deliver"
    aws("cloudformation").update_stack(StackName="unit-update", TemplateBody=json.dumps(changed))
    declaration = aws("codepipeline").get_pipeline(name="unit-update")["pipeline"]
    assert ([s["name"] for s in declaration["stages"]], declaration["version"]) == (["Source", "Deliver"], 2)
    aws("cloudformation").delete_stack(StackName="unit-update")
    with pytest.raises(ClientError) as gone:
        aws("codepipeline").get_pipeline(name="unit-update")
    assert gone.value.response["Error"]["Code"] == "PipelineNotFoundException"
    assert aws("codebuild").batch_get_projects(names=[project])["projects"] == []


def _set(t: Template, key: str, value: Any, **others: Any) -> None:
    """Set (or, with None, remove) one pipeline property, and set `others`."""
    properties = t["Resources"]["Pipeline"]["Properties"]
    if value is None:
        properties.pop(key)
    else:
        properties[key] = value
    properties.update(others)


def _actions(t: Template, stage: int) -> list[dict[str, Any]]:
    return list(_stages(t)[stage]["Actions"])


STRUCTURE_REFUSALS: dict[str, Callable[[Template], None]] = {
    "store and stores": lambda t: t["Resources"]["Pipeline"]["Properties"].update(
        ArtifactStore={"Type": "S3", "Location": "x"}
    ),
    "no store": lambda t: t["Resources"]["Pipeline"]["Properties"].pop("ArtifactStores"),
    "no store for a cross-region action": lambda t: _set(t, "ArtifactStores", _pipeline(t)["ArtifactStores"][:1]),
    "no store for the pipeline's region": lambda t: _set(t, "ArtifactStores", _pipeline(t)["ArtifactStores"][1:]),
    "one store for a cross-region pipeline": lambda t: _set(
        t, "ArtifactStores", None, ArtifactStore={"Type": "S3", "Location": "x"}
    ),
    "two stages of one name": lambda t: _stages(t)[1].update(Name="Source"),
    "a stage name with a space": lambda t: _stages(t)[1].update(Name="Build it"),
    "a build action in the first stage": lambda t: _stages(t)[0]["Actions"].append(
        _action("Early", "Build", "CodeBuild", Configuration={"ProjectName": "p"})
    ),
    "a source action in a later stage": lambda t: _stages(t)[1]["Actions"].append(
        _action("Late", "Source", "S3", Configuration={"S3Bucket": "b", "S3ObjectKey": "k"}, RunOrder=4)
    ),
    "two actions of one name": lambda t: _actions(t, 1)[2].update(Name="Build"),
    "run order 1000": lambda t: _actions(t, 1)[2].update(RunOrder=1000),
    "an input nobody produced": lambda t: _actions(t, 1)[2].update(InputArtifacts=[{"Name": "Nobody"}]),
    "an input from a parallel action": lambda t: _actions(t, 1)[1].update(RunOrder=1),
    "an output declared twice": lambda t: _actions(t, 1)[2].update(OutputArtifacts=[{"Name": "Src"}]),
    "51 actions in a stage": lambda t: _stages(t)[1]["Actions"].extend(
        _action(f"Manual{n}", "Approval", "Manual", RunOrder=4) for n in range(48)
    ),
}


def test_fifty_actions_in_a_stage_are_accepted(aws: Callable[..., Any]) -> None:
    """The boundary of the quota: 3 + 47 = 50."""
    template = valid_template("unit-fifty")
    _stages(template)[1]["Actions"].extend(_action(f"Manual{n}", "Approval", "Manual", RunOrder=4) for n in range(47))
    _create(aws, "unit-fifty", template)
    assert len(aws("codepipeline").get_pipeline(name="unit-fifty")["pipeline"]["stages"][1]["actions"]) == 50


def test_create_pipeline_through_the_api_is_structure_checked_too(aws: Callable[..., Any]) -> None:
    iam = aws("iam")
    trust = json.dumps(_role("codepipeline.amazonaws.com")["Properties"]["AssumeRolePolicyDocument"])
    role = iam.create_role(RoleName="unit-api-pipeline", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    source = {"name": "S", "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"}}
    approve = {
        "name": "A",
        "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"},
    }
    stages = [{"name": "Source", "actions": [source]}, {"name": "Approve", "actions": [approve, approve]}]
    pipeline = {
        "name": "unit-api",
        "roleArn": role,
        "artifactStore": {"type": "S3", "location": "unit-api-store"},
        "stages": stages,
    }
    with pytest.raises(ClientError) as refused:
        aws("codepipeline").create_pipeline(pipeline=pipeline)
    assert refused.value.response["Error"]["Code"] == "InvalidStructureException"
    stages[1]["actions"] = [approve]
    assert aws("codepipeline").create_pipeline(pipeline=pipeline)["pipeline"]["version"] == 1


PROJECT_REFUSALS: dict[str, Callable[[Template], None]] = {
    "a project without an environment": lambda t: t["Resources"]["Project"]["Properties"].pop("Environment"),
    "a project name starting with a dash": lambda t: t["Resources"]["Project"]["Properties"].update(Name="-unit"),
    "a report group of another type": lambda t: t["Resources"]["Reports"]["Properties"].update(Type="JUNIT"),
    "a report group exported to no bucket": lambda t: t["Resources"]["Reports"]["Properties"].update(
        ExportConfig={"ExportConfigType": "S3"}
    ),
}


REFUSALS: dict[str, tuple[Callable[[Template], None], str]] = {
    **{change: (edit, "InvalidStructureException") for change, edit in STRUCTURE_REFUSALS.items()},
    **{change: (edit, "InvalidInputException") for change, edit in PROJECT_REFUSALS.items()},
}


@pytest.mark.parametrize("change", list(REFUSALS), ids=list(REFUSALS))
def test_a_template_the_service_refuses_fails_the_stack_with_its_code(aws: Callable[..., Any], change: str) -> None:
    """CodePipeline's structure checks (InvalidStructureException), CodeBuild's (InvalidInputException)."""
    edit, code = REFUSALS[change]
    name = "unit-bad-" + "".join(c if c.isalnum() else "-" for c in change)[:40]
    template = valid_template(name)
    edit(template)
    with pytest.raises(ClientError) as refused:
        _create(aws, name, template)
    assert refused.value.response["Error"]["Code"] == code

"""PatchingStack: Patch Manager baseline, announced window, logged install task (OPS-1, OPS-5)."""

from __future__ import annotations

import json

from aws_cdk.assertions import Match, Template

from tests.conftest import Stages, TemplateOf, au_production_stack

patching = au_production_stack("primary", "Patching")


def test_baseline_approves_al2023_security_and_bugfix_updates(patching: Template) -> None:
    patching.has_resource_properties(
        "AWS::SSM::PatchBaseline",
        {"OperatingSystem": "AMAZON_LINUX_2023", "PatchGroups": ["au-production-web"]},
    )
    (baseline,) = patching.find_resources("AWS::SSM::PatchBaseline").values()
    rules = baseline["Properties"]["ApprovalRules"]["PatchRules"]
    days = sorted(rule["ApproveAfterDays"] for rule in rules)
    assert days == [0, 7], "critical fixes at once, the rest after 7 days"
    for rule in rules:
        filters = {f["Key"]: f["Values"] for f in rule["PatchFilterGroup"]["PatchFilters"]}
        assert filters["CLASSIFICATION"] == ["Security", "Bugfix"]


def test_window_is_the_announced_maintenance_window(patching: Template) -> None:
    patching.has_resource_properties(
        "AWS::SSM::MaintenanceWindow",
        {
            "Schedule": "cron(0 16 ? * SUN *)",
            "ScheduleTimezone": "Etc/UTC",
            "Duration": 3,
            "Cutoff": 1,
            "AllowUnassociatedTargets": False,
        },
    )
    patching.has_resource_properties(
        "AWS::SSM::MaintenanceWindowTarget",
        {"ResourceType": "INSTANCE", "Targets": [{"Key": "tag:PatchGroup", "Values": ["au-production-web"]}]},
    )


def test_install_task_runs_one_instance_at_a_time_and_logs_to_cloudwatch(patching: Template) -> None:
    patching.has_resource_properties(
        "AWS::SSM::MaintenanceWindowTask",
        {
            "TaskType": "RUN_COMMAND",
            "TaskArn": "AWS-RunPatchBaseline",
            "MaxConcurrency": "1",
            "MaxErrors": "1",
            "ServiceRoleArn": {"Fn::GetAtt": [Match.string_like_regexp("ServiceRole"), "Arn"]},
            "Targets": [{"Key": "WindowTargetIds", "Values": [{"Ref": Match.string_like_regexp("Target")}]}],
            "TaskInvocationParameters": {
                "MaintenanceWindowRunCommandParameters": Match.object_like(
                    {
                        "Parameters": {"Operation": ["Install"], "RebootOption": ["RebootIfNeeded"]},
                        "CloudWatchOutputConfig": {
                            "CloudWatchLogGroupName": {"Ref": Match.string_like_regexp("PatchLogs")},
                            "CloudWatchOutputEnabled": True,
                        },
                    }
                )
            },
        },
    )
    patching.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {
                "LogGroupName": "/au-production-primary/ssm/patching",
                "KmsKeyId": Match.any_value(),
                "RetentionInDays": 365,
            },
            "DeletionPolicy": "RetainExceptOnCreate",
        },
    )


def test_patch_output_group_uses_the_logs_key(patching: Template) -> None:
    (group,) = patching.find_resources("AWS::Logs::LogGroup").values()
    assert "LogsKey" in json.dumps(group["Properties"]["KmsKeyId"])


def test_service_role_sends_only_the_patch_document_to_the_patch_group(patching: Template) -> None:
    patching.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [Match.object_like({"Principal": {"Service": "ssm.amazonaws.com"}})]
            }
        },
    )
    patching.resource_count_is("AWS::IAM::Policy", 0)
    (policy,) = patching.find_resources("AWS::IAM::ManagedPolicy").values()
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert statements["RunPatchBaselineOnPatchGroupOnly"]["Condition"] == {
        "StringEquals": {"ssm:resourceTag/PatchGroup": "au-production-web"}
    }
    assert "document/AWS-RunPatchBaseline" in json.dumps(statements["RunPatchBaselineDocumentOnly"]["Resource"])
    for statement in statements.values():
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert "*" not in actions
        assert not any(action.startswith(("iam:", "backup:", "s3:")) for action in actions)


def test_web_instances_carry_the_patch_group_and_may_write_patch_output(
    au_production: Stages, template_of: TemplateOf
) -> None:
    web = template_of(au_production, "primary", "Web")
    (launch_template,) = web.find_resources("AWS::EC2::LaunchTemplate").values()
    assert {"Key": "PatchGroup", "Value": "au-production-web"} in (
        launch_template["Properties"]["LaunchTemplateData"]["TagSpecifications"][0]["Tags"]
    )
    web.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {"PolicyDocument": {"Statement": Match.array_with([Match.object_like({"Sid": "PatchCommandOutput"})])}},
    )


def test_development_uses_its_own_window(au_development: Stages, template_of: TemplateOf) -> None:
    template_of(au_development, "primary", "Patching").has_resource_properties(
        "AWS::SSM::MaintenanceWindow", {"Schedule": "cron(0 16 ? * TUE *)", "Duration": 3}
    )

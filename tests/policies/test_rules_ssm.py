"""Tests of policies/rules/ssm.py (SSM rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from typing import Any

import pytest

from policies.rules import ssm
from tests.policies.rulekit import NA, C, N, check, res, stack


def test_ops1_ops5_acc2_ssm_rules() -> None:
    window = res("W", "AWS::SSM::MaintenanceWindow", {"Schedule": "cron(0 16 ? * SUN *)"})
    task = res(
        "T",
        "AWS::SSM::MaintenanceWindowTask",
        {
            "WindowId": {"Ref": "W"},
            "TaskArn": "AWS-RunPatchBaseline",
            "TaskInvocationParameters": {
                "MaintenanceWindowRunCommandParameters": {"Parameters": {"Operation": ["Install"]}}
            },
        },
    )
    asg = res("Asg", "AWS::AutoScaling::AutoScalingGroup", {})
    assert check(ssm.patch_manager, asg, stack(asg, window, task)) is C
    assert check(ssm.patch_manager, asg) is N
    assert check(ssm.patch_window, window) is C
    assert check(ssm.patch_window, res("W", "AWS::SSM::MaintenanceWindow", {"Schedule": "cron(0 1 ? * MON *)"})) is N
    session = {
        "DocumentType": "Session",
        "Content": {"inputs": {"cloudWatchLogGroupName": "g", "cloudWatchEncryptionEnabled": True, "kmsKeyId": "k"}},
    }
    assert check(ssm.session_logging, res("D", "AWS::SSM::Document", session)) is C
    assert (
        check(
            ssm.session_logging, res("D", "AWS::SSM::Document", {"DocumentType": "Session", "Content": {"inputs": {}}})
        )
        is N
    )


WINDOW = res("W", "AWS::SSM::MaintenanceWindow", {"Schedule": "cron(0 16 ? * SUN *)"})
PATCH_PARAMETERS = {"MaintenanceWindowRunCommandParameters": {"Parameters": {"Operation": ["Install"]}}}


def _task(window: str = "W", arn: str = "AWS-RunPatchBaseline", operation: str = "Install") -> Any:
    parameters = {"MaintenanceWindowRunCommandParameters": {"Parameters": {"Operation": [operation]}}}
    return res(
        "T",
        "AWS::SSM::MaintenanceWindowTask",
        {"WindowId": {"Ref": window}, "TaskArn": arn, "TaskInvocationParameters": parameters},
    )


def _association(name: str = "AWS-RunPatchBaseline", operation: str = "Install") -> Any:
    return res("A", "AWS::SSM::Association", {"Name": name, "Parameters": {"Operation": [operation]}})


@pytest.mark.parametrize(
    ("patching", "expected"),
    [
        pytest.param([WINDOW, _task()], C, id="OPS1-PatchManager-install-task-in-a-window"),
        pytest.param([_task()], N, id="OPS1-PatchManager-task-without-its-window"),
        pytest.param([WINDOW, _task(window="Other")], N, id="OPS1-PatchManager-task-in-another-window"),
        pytest.param([WINDOW, _task(arn="AWS-RunShellScript")], N, id="OPS1-PatchManager-task-not-patch-baseline"),
        pytest.param([WINDOW, _task(operation="Scan")], N, id="OPS1-PatchManager-task-scans-only"),
        pytest.param([_association()], C, id="OPS1-PatchManager-install-association"),
        pytest.param([_association(name="AWS-RunShellScript")], N, id="OPS1-PatchManager-association-not-patching"),
        pytest.param([_association(operation="Scan")], N, id="OPS1-PatchManager-association-scans-only"),
    ],
)
def test_ops1_patch_manager(patching: list[Any], expected: object) -> None:
    asg = res("Asg", "AWS::AutoScaling::AutoScalingGroup", {})
    assert check(ssm.patch_manager, asg, stack(asg, *patching)) is expected


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        pytest.param(None, C, id="OPS5-PatchWindow-default-utc"),
        pytest.param("UTC", C, id="OPS5-PatchWindow-utc"),
        pytest.param("Etc/UTC", C, id="OPS5-PatchWindow-etc-utc"),
        pytest.param("Australia/Sydney", N, id="OPS5-PatchWindow-announced-time-in-another-zone"),
    ],
)
def test_ops5_patch_window_zone(zone: str | None, expected: object) -> None:
    props = {"Schedule": "cron(0 16 ? * SUN *)", **({"ScheduleTimezone": zone} if zone else {})}
    assert check(ssm.patch_window, res("W", "AWS::SSM::MaintenanceWindow", props)) is expected


def test_ops5_patch_window_without_a_deployment_fails() -> None:
    window = res("W", "AWS::SSM::MaintenanceWindow", {"Schedule": "cron(0 16 ? * SUN *)"})
    assert check(ssm.patch_window, window, stack(window, deployment=None)) is N


SESSION_INPUTS = {"cloudWatchLogGroupName": "g", "cloudWatchEncryptionEnabled": True, "kmsKeyId": "k"}


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        pytest.param(SESSION_INPUTS, C, id="ACC2-SessionLogging-cloudwatch-encrypted"),
        pytest.param(
            {"s3BucketName": "b", "s3EncryptionEnabled": "true", "kmsKeyId": "k"},
            C,
            id="ACC2-SessionLogging-s3-encrypted",
        ),
        pytest.param({**SESSION_INPUTS, "cloudWatchLogGroupName": ""}, N, id="ACC2-SessionLogging-no-destination"),
        pytest.param(
            {**SESSION_INPUTS, "cloudWatchEncryptionEnabled": False}, N, id="ACC2-SessionLogging-not-encrypted"
        ),
        pytest.param({**SESSION_INPUTS, "kmsKeyId": ""}, N, id="ACC2-SessionLogging-no-session-key"),
    ],
)
def test_acc2_session_logging(inputs: dict[str, Any], expected: object) -> None:
    document = res("D", "AWS::SSM::Document", {"DocumentType": "Session", "Content": {"inputs": inputs}})
    assert check(ssm.session_logging, document) is expected


def test_acc2_session_logging_other_documents_not_applicable() -> None:
    assert check(ssm.session_logging, res("D", "AWS::SSM::Document", {"DocumentType": "Command"})) is NA

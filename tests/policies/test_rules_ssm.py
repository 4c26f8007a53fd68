"""Tests of policies/rules/ssm.py (SSM rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from policies.rules import ssm
from tests.policies.rulekit import C, N, check, res, stack


def test_ssm_rules() -> None:
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

"""SSM rules: patching in the announced window, session logging (OPS-1, OPS-5, ACC-2)."""

from __future__ import annotations

from policies.rules.cfn import flatten, is_true, ref_id
from policies.rules.model import Resource, Result, StackView, fail, na, ok, rule


@rule(
    "OPS1-PatchManager",
    "OPS-1",
    ("AWS::AutoScaling::AutoScalingGroup",),
    "OPS-1: the web tier is patched by SSM Patch Manager in a maintenance window; this Auto Scaling group's region "
    "has no window with an AWS-RunPatchBaseline Install task.",
    "Seed 003: latest security patches installed as soon as practical.",
)
def patch_manager(resource: Resource, stack: StackView) -> Result:
    windows = {w.logical_id for _, w in stack.in_region("AWS::SSM::MaintenanceWindow")}
    for _, task in stack.in_region("AWS::SSM::MaintenanceWindowTask"):
        text = flatten(task.prop("TaskArn", default="")) + str(task.prop("TaskInvocationParameters"))
        if ref_id(task.prop("WindowId")) in windows and "AWS-RunPatchBaseline" in text and "Install" in text:
            return ok(f"patch task {task.logical_id}")
    for _, association in stack.in_region("AWS::SSM::Association"):
        if "AWS-RunPatchBaseline" in flatten(association.prop("Name", default="")) and "Install" in str(
            association.prop("Parameters")
        ):
            return ok(f"patch association {association.logical_id}")
    return fail("no AWS-RunPatchBaseline Install task in a maintenance window")


@rule(
    "OPS5-PatchWindow",
    "OPS-5",
    ("AWS::SSM::MaintenanceWindow",),
    "OPS-5: patching happens in the announced window from config; this maintenance window's schedule differs.",
    "Seed 002: planned maintenance in announced windows, 24 h notice.",
)
def patch_window(resource: Resource, stack: StackView) -> Result:
    if stack.deployment is None:
        return fail("no deployment, so no announced window")
    wanted = stack.deployment.maintenance.ssm_schedule
    schedule = resource.prop("Schedule")
    zone = resource.prop("ScheduleTimezone", default="UTC")
    if schedule != wanted or zone not in ("UTC", "Etc/UTC"):
        return fail(f"Schedule={schedule!r} {zone}, announced {wanted} UTC")
    return ok(f"{wanted} UTC")


@rule(
    "ACC2-SessionLogging",
    "ACC-2",
    ("AWS::SSM::Document",),
    "ACC-2: Session Manager sessions are logged to encrypted logs; this session preferences document does not "
    "encrypt or does not log.",
    "Seed 001: server access only over an audited, encrypted channel.",
)
def session_logging(resource: Resource, stack: StackView) -> Result:
    if resource.prop("DocumentType") != "Session":
        return na("not a Session Manager preferences document")
    inputs = resource.prop("Content", "inputs", default={}) or {}
    logs = inputs.get("cloudWatchLogGroupName") or inputs.get("s3BucketName")
    encrypted = is_true(inputs.get("cloudWatchEncryptionEnabled")) or is_true(inputs.get("s3EncryptionEnabled"))
    if not logs or not encrypted or not inputs.get("kmsKeyId"):
        return fail("sessions not logged to an encrypted destination with a session KMS key")
    return ok("sessions logged encrypted")


RULES = [patch_manager, patch_window, session_logging]

"""OPS-7 rules: releases are pinned, the same in both stages, encrypted with the codebase key and kept
in the deployment's own regions.

What a template cannot show (that a rollout really ran, its health gate and its rollback on
alarm) is tested against the emulator's instance refresh and by the game day
(`policies/coverage.py`).
"""

from __future__ import annotations

from config.topology import DR, PRIMARY, FailoverTopology
from patterns.release_boot import pinned_release
from policies.rules.cfn import as_list, flatten, ref_id
from policies.rules.iam_match import actions_of, statements
from policies.rules.model import Resource, Result, StackView, fail, na, ok, rule

ASG = ("AWS::AutoScaling::AutoScalingGroup",)
BUCKET = ("AWS::S3::Bucket",)
UNPINNED_VERSIONS = ("$Latest", "$Default", "")


def _launch_template(group: Resource, stack: StackView) -> Resource | None:
    spec = group.prop("LaunchTemplate") or {}
    template = stack.get(spec.get("LaunchTemplateId")) or stack.get(spec.get("LaunchTemplateName"))
    return template if template is not None and template.type == "AWS::EC2::LaunchTemplate" else None


def release_pin(group: Resource, stack: StackView) -> tuple[str, str] | None:
    """(version, sha256) the group's launch template boots; ("", "") for the first-boot placeholder."""
    template = _launch_template(group, stack)
    if template is None:
        return None
    user_data = template.prop("LaunchTemplateData", "UserData")
    inner = user_data.get("Fn::Base64") if isinstance(user_data, dict) else user_data
    return pinned_release(flatten(inner)) if inner is not None else None


def _is_release_bucket(resource: Resource, stack: StackView) -> bool:
    """A codebase bucket of a deployment; a pipeline's artifact stores are codebase too, but they hold
    templates, not releases (policies/rules/pipeline.py checks where they are)."""
    return resource.tags.get("data-classification") == "codebase" and stack.pipeline is None


@rule(
    "OPS7-PinnedRelease",
    "OPS-7",
    ASG,
    "OPS-7: a web tier runs a pinned release: its launch template version is a number (never $Latest or "
    "$Default) and its boot script pins the configured release's version and SHA-256 and checks the digest "
    "before serving; this group does not.",
    "Seeds 000/001: rolling release upgrades without human access; a release is an immutable, identified artifact.",
)
def pinned(resource: Resource, stack: StackView) -> Result:
    spec = resource.prop("LaunchTemplate")
    if not spec:
        return fail("no launch template: the version a group runs cannot be pinned")
    version = spec.get("Version")
    if (isinstance(version, str) and version in UNPINNED_VERSIONS) or version is None:
        return fail(f"launch template version {version!r} is not pinned")
    pin = release_pin(resource, stack)
    if pin is None:
        return fail("the launch template's boot script carries no release pin")
    expected = stack.deployment.release if stack.deployment is not None else None
    if expected is None:
        return (
            ok("no release yet: the first-boot placeholder")
            if pin == ("", "")
            else fail(f"pins {pin[0]!r}, config pins none")
        )
    if pin != (expected.version, expected.sha256):
        return fail(
            f"boots {pin[0]!r} ({pin[1][:12]}...), config pins {expected.version!r} ({expected.sha256[:12]}...)"
        )
    template = _launch_template(resource, stack)
    assert template is not None
    if "sha256sum --check" not in flatten(template.prop("LaunchTemplateData", "UserData", "Fn::Base64")):
        return fail("the boot script does not check the artifact's digest")
    return ok(f"release {expected.version} pinned and digest-checked")


@rule(
    "OPS7-SameReleaseBothStages",
    "OPS-7",
    ASG,
    "OPS-7: (with DR-1) the DR standby runs the release the primary runs; this primary web tier pins another release "
    "than the DR stage's web tier (or the DR stage has none).",
    "Seed 003 via DR-1: after a failover the DR region serves what the primary served.",
)
def same_release(resource: Resource, stack: StackView) -> Result:
    deployment = stack.deployment
    if stack.role != PRIMARY or deployment is None or not deployment.standby.enabled:
        return na("only the primary web tier of a deployment with a standby")
    mine = release_pin(resource, stack)
    dr_region = FailoverTopology.of(deployment).region(DR)
    theirs = [
        release_pin(group, view)
        for view in stack.deployment_stacks
        if view.region == dr_region
        for group in view.of_type(*ASG)
    ]
    if not theirs:
        return fail(f"no web tier in {dr_region} to compare")
    differing = [pin for pin in theirs if pin != mine]
    if differing:
        return fail(f"primary pins {mine!r}, the DR stage pins {differing[0]!r}")
    return ok(f"both stages pin {mine[0] if mine and mine[0] else 'the placeholder'}")


@rule(
    "OPS7-ArtifactEncryption",
    "OPS-7",
    BUCKET,
    "OPS-7: (with ENC-2) the release bucket is encrypted with the region's codebase key, versioned, TLS-only and "
    "write-once (no overwrite, no delete); this release bucket is not.",
    "Seeds 000/004: the codebase has its own key; a release is immutable.",
)
def artifact_encryption(resource: Resource, stack: StackView) -> Result:
    if not _is_release_bucket(resource, stack):
        return na("not a release (codebase) bucket")
    problems = [
        "" if _encrypted_with_codebase_key(resource, stack) else "not SSE-KMS under the codebase key",
        "" if resource.prop("VersioningConfiguration", "Status") == "Enabled" else "not versioned",
    ]
    denied = _denied(resource, stack)
    problems += [
        "" if "s3:putobject/if-none-match" in denied else "no deny on writes without If-None-Match",
        "" if {"s3:deleteobject", "s3:deleteobjectversion"} <= denied else "deletes not denied",
        "" if "tls" in denied else "no deny on aws:SecureTransport=false",
    ]
    problems = [p for p in problems if p]
    return fail("; ".join(problems)) if problems else ok("codebase key, versioned, write-once, TLS-only")


def _encrypted_with_codebase_key(bucket: Resource, stack: StackView) -> bool:
    codebase_keys = [
        k.logical_id for _, k in stack.in_region("AWS::KMS::Key") if k.tags.get("data-classification") == "codebase"
    ]
    for item in as_list(bucket.prop("BucketEncryption", "ServerSideEncryptionConfiguration")):
        default = (item or {}).get("ServerSideEncryptionByDefault") or {}
        if default.get("SSEAlgorithm") != "aws:kms":
            continue
        key = default.get("KMSMasterKeyID")
        named = ref_id(key) or _imported_name(key) or flatten(key)
        if any(logical_id in named for logical_id in codebase_keys) or "/codebase" in named:
            return True
    return False


def _imported_name(value: object) -> str:
    """The export or output a cross-stack reference names (`Fn::ImportValue`, or CDK's weak reference
    `Fn::GetStackOutput`); CDK puts the source's logical id in that name."""
    if isinstance(value, dict) and "Fn::ImportValue" in value:
        return flatten(value["Fn::ImportValue"])
    if isinstance(value, dict) and isinstance(value.get("Fn::GetStackOutput"), dict):
        return flatten(value["Fn::GetStackOutput"].get("OutputName", ""))
    return ""


def _denied(bucket: Resource, stack: StackView) -> set[str]:
    found: set[str] = set()
    for policy in stack.of_type("AWS::S3::BucketPolicy"):
        if ref_id(policy.prop("Bucket")) != bucket.logical_id:
            continue
        for statement in statements(policy.prop("PolicyDocument")):
            if statement.get("Effect") != "Deny":
                continue
            condition = statement.get("Condition") or {}
            actions = {a.lower() for a in actions_of(statement)}
            if flatten((condition.get("Bool") or {}).get("aws:SecureTransport", "")) == "false":
                found.add("tls")
            if "s3:putobject" in actions and (condition.get("Null") or {}).get("s3:if-none-match") == "true":
                found.add("s3:putobject/if-none-match")
            if not condition:
                found |= actions
    return found


@rule(
    "OPS7-ArtifactResidency",
    "OPS-7",
    BUCKET,
    "OPS-7: (with HOST-2) release artifacts stay in the deployment's own regions: the release bucket is the one of its "
    "region and replicates nowhere; this release bucket is elsewhere or replicates.",
    "Seeds 000/002: the codebase is hosted in the customer's jurisdiction like everything else.",
)
def artifact_residency(resource: Resource, stack: StackView) -> Result:
    if not _is_release_bucket(resource, stack):
        return na("not a release (codebase) bucket")
    deployment = stack.deployment
    if deployment is None or stack.role not in (PRIMARY, DR):
        return fail("a release bucket outside a deployment's stages")
    topology = FailoverTopology.of(deployment)
    if stack.region != topology.region(stack.role) or stack.region not in deployment.allowed_regions:
        return fail(f"in {stack.region}, not the {stack.role} region {topology.region(stack.role)}")
    if as_list(resource.prop("ReplicationConfiguration", "Rules")):
        return fail("replicates: each region's copy is uploaded by the release, never copied out")
    name = flatten(resource.prop("BucketName"))
    if name != topology.release_bucket(stack.role):
        return fail(f"bucket {name!r} is not {topology.release_bucket(stack.role)!r}")
    return ok(f"{name} in {stack.region}, not replicated")


RULES = [pinned, same_release, artifact_encryption, artifact_residency]

"""AccessStack: team roles, boundary, Session Manager, ABAC (ACC-1, ACC-2, ACC-4, HOST-5)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_cdk.assertions import Capture, Match, Template

from patterns.session_manager import start_session_command
from tests.conftest import Stages, TemplateOf, au_production_stack

TEAM_ROLE_NAMES = {
    "au-production-technical-director",
    "au-production-application-developer",
    "au-production-client-representative",
    "au-production-auditor",
    "au-production-break-glass",
}


access = au_production_stack("primary", "Access")


def _roles(access: Template) -> dict[str, Mapping[str, Any]]:
    return {role["Properties"]["RoleName"]: role for role in access.find_resources("AWS::IAM::Role").values()}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _policy_by_name(access: Template, suffix: str) -> dict[str, Any]:
    for logical_id, policy in access.find_resources("AWS::IAM::ManagedPolicy").items():
        if str(policy["Properties"].get("ManagedPolicyName", "")).endswith(suffix):
            return {"LogicalId": logical_id, **policy}
    raise AssertionError(f"no managed policy named *{suffix}")


def test_five_named_roles_and_the_break_glass_name_the_backup_vaults_use(
    au_production: Stages, access: Template
) -> None:
    roles = _roles(access)
    assert set(roles) == TEAM_ROLE_NAMES
    assert au_production["primary"].deployment.break_glass_role_name in roles


def test_every_role_needs_mfa_in_this_account_and_short_sessions(access: Template) -> None:
    for name, role in _roles(access).items():
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Condition"]["Bool"] == {"aws:MultiFactorAuthPresent": "true"}, name
        assert ":iam::111111111111:root" in json.dumps(statement["Principal"]), name
        assert role["Properties"]["MaxSessionDuration"] == 3600, name
    break_glass = _roles(access)["au-production-break-glass"]
    condition = break_glass["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
    assert condition["NumericLessThan"] == {"aws:MultiFactorAuthAge": 900}


def test_every_role_carries_the_permissions_boundary(access: Template) -> None:
    boundary = _policy_by_name(access, "-team-boundary")
    for name, role in _roles(access).items():
        assert role["Properties"]["PermissionsBoundary"] == {"Ref": boundary["LogicalId"]}, name
    assert "Roles" not in boundary["Properties"], "the boundary is never attached as a permissions policy"
    for role in _roles(access).values():
        assert {"Ref": boundary["LogicalId"]} not in role["Properties"].get("ManagedPolicyArns", [])


def test_boundary_denies_escalation_key_deletion_trail_changes_and_backup_deletion(access: Template) -> None:
    statements = {
        s["Sid"]: s for s in _policy_by_name(access, "-team-boundary")["Properties"]["PolicyDocument"]["Statement"]
    }
    expectations = {
        "DenyIamEscalation": {"iam:CreateUser", "iam:CreateAccessKey", "iam:CreatePolicyVersion"},
        "DenyRolesWithoutThisBoundary": {"iam:CreateRole", "iam:PutRolePermissionsBoundary"},
        "DenyKeyDeletion": {"kms:ScheduleKeyDeletion", "kms:DisableKey"},
        "DenyAuditTrailChanges": {"cloudtrail:StopLogging", "cloudtrail:DeleteTrail"},
        "DenyBackupDeletionExceptBreakGlass": {"backup:DeleteRecoveryPoint", "backup:DeleteBackupVault"},
    }
    for sid, actions in expectations.items():
        assert statements[sid]["Effect"] == "Deny"
        assert actions <= set(_as_list(statements[sid]["Action"])), sid
    backup_condition = json.dumps(statements["DenyBackupDeletionExceptBreakGlass"]["Condition"])
    assert "ArnNotEquals" in backup_condition and "role/au-production-break-glass" in backup_condition
    assert "iam:PermissionsBoundary" in json.dumps(statements["DenyRolesWithoutThisBoundary"]["Condition"])


def test_no_wildcard_admin_outside_break_glass(access: Template) -> None:
    boundary_id = _policy_by_name(access, "-team-boundary")["LogicalId"]
    for logical_id, policy in access.find_resources("AWS::IAM::ManagedPolicy").items():
        if logical_id == boundary_id:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Allow":
                assert not ("*" in _as_list(statement["Action"]) and "*" in _as_list(statement["Resource"])), logical_id
                assert not any(a.endswith(":*") for a in _as_list(statement["Action"])), logical_id
    for name, role in _roles(access).items():
        arns = json.dumps(role["Properties"].get("ManagedPolicyArns", []))
        assert ("AdministratorAccess" in arns) == (name == "au-production-break-glass"), name


def test_auditor_is_read_only(access: Template) -> None:
    auditor = _roles(access)["au-production-auditor"]
    arns = auditor["Properties"]["ManagedPolicyArns"]
    assert len(arns) == 1
    assert "policy/SecurityAudit" in json.dumps(arns)


def test_team_policies_are_scoped(access: Template) -> None:
    release = _policy_by_name(access, "-release-operator")["Properties"]["PolicyDocument"]["Statement"]
    sessions = next(s for s in release if s["Sid"] == "SessionsOnWebInstancesOnly")
    assert sessions["Condition"] == {
        "StringEquals": {"ssm:resourceTag/PatchGroup": "au-production-web"},
        "BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"},
    }
    documents = next(s for s in release if s["Sid"] == "SessionsThroughTheLoggedDocumentOnly")
    granted = sorted(json.dumps(r) for r in _as_list(documents["Resource"]))
    assert len(granted) == 2
    assert "ap-southeast-2" in granted[0] and "document/au-production-primary-shell-session" in granted[0]
    assert "ap-southeast-4" in granted[1] and "document/au-production-dr-shell-session" in granted[1]
    other_keys = next(s for s in release if s["Sid"] == "EncryptSessionsInOtherRegions")
    assert other_keys["Condition"] == {
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/au-production/system"}
    }
    assert "ap-southeast-4" in json.dumps(other_keys["Resource"]) and "ap-southeast-2" not in json.dumps(
        other_keys["Resource"]
    )
    refresh = next(s for s in release if s["Sid"] == "InstanceRefreshOfThisPlatform")
    assert refresh["Condition"] == {"StringEquals": {"aws:ResourceTag/service": "saas-platform"}}
    director = _roles(access)["au-production-technical-director"]
    developer = _roles(access)["au-production-application-developer"]
    representative = _roles(access)["au-production-client-representative"]
    release_id = _policy_by_name(access, "-release-operator")["LogicalId"]
    assert {"Ref": release_id} in director["Properties"]["ManagedPolicyArns"]
    assert {"Ref": release_id} in developer["Properties"]["ManagedPolicyArns"]
    assert {"Ref": release_id} not in representative["Properties"]["ManagedPolicyArns"]


def test_tenant_data_is_abac_scoped_to_the_principal_tag(access: Template) -> None:
    """HOST-5: one policy for every tenant; the caller's tenant-id tag picks the prefix."""
    for suffix, writes in (("-tenant-data-read-write", True), ("-tenant-data-read", False)):
        statements = {s["Sid"]: s for s in _policy_by_name(access, suffix)["Properties"]["PolicyDocument"]["Statement"]}
        objects = statements["OwnTenantObjects"]
        assert (
            json.dumps(objects["Resource"])
            .rstrip('"]}')
            .endswith("-content-111111111111/tenants/${aws:PrincipalTag/tenant-id}/*")
        )
        assert objects["Condition"] == {"Null": {"aws:PrincipalTag/tenant-id": "false"}}
        assert ("s3:PutObject" in _as_list(objects["Action"])) is writes
        listing = statements["ListOwnTenantPrefix"]["Condition"]["StringLike"]["s3:prefix"]
        assert listing == ["tenants/${aws:PrincipalTag/tenant-id}/*"]
        via = statements["ContentKeyThroughS3Only"]["Condition"]
        assert via == {"StringEquals": {"kms:ViaService": "s3.ap-southeast-2.amazonaws.com"}}


def test_session_manager_sessions_are_encrypted_and_logged(access: Template) -> None:
    access.has_resource_properties(
        "AWS::SSM::Document",
        {
            "Name": "au-production-primary-shell-session",
            "DocumentType": "Session",
            "Content": Match.object_like(
                {
                    "sessionType": "Standard_Stream",
                    "inputs": Match.object_like(
                        {
                            "kmsKeyId": Match.any_value(),
                            "cloudWatchEncryptionEnabled": True,
                            "cloudWatchLogGroupName": {"Ref": Match.string_like_regexp("SessionLogs")},
                            "runAsEnabled": False,
                        }
                    ),
                }
            ),
        },
    )
    access.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {
                "LogGroupName": "/au-production-primary/ssm/sessions",
                "KmsKeyId": Match.any_value(),
                "RetentionInDays": 365,
            },
            "DeletionPolicy": "RetainExceptOnCreate",
        },
    )


def test_sessions_and_transcripts_use_the_system_and_logs_keys(access: Template) -> None:
    (document,) = access.find_resources("AWS::SSM::Document").values()
    assert "SystemKey" in json.dumps(document["Properties"]["Content"]["inputs"]["kmsKeyId"])
    (group,) = access.find_resources("AWS::Logs::LogGroup").values()
    assert "LogsKey" in json.dumps(group["Properties"]["KmsKeyId"])


def test_web_instances_may_write_session_transcripts(au_production: Stages, template_of: TemplateOf) -> None:
    web = template_of(au_production, "primary", "Web")
    web.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Sid": "SessionTranscripts", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"]}
                        )
                    ]
                )
            }
        },
    )


def test_no_inline_policies_and_access_only_in_the_primary_region(au_production: Stages, access: Template) -> None:
    access.resource_count_is("AWS::IAM::Policy", 0)
    for role in access.find_resources("AWS::IAM::Role").values():
        assert "Policies" not in role["Properties"]
    assert au_production["dr"].node.try_find_child("Access") is None


def test_platform_never_creates_or_grants_the_default_session_document(au_production: Stages, access: Template) -> None:
    """SSM-SessionManagerRunShell exists wherever preferences were ever saved; CloudFormation can neither
    create nor import it. Sessions name our document, and the access check makes that mandatory."""
    for stage in au_production.values():
        for stack in stage.stacks:
            text = json.dumps(Template.from_stack(stack).to_json())
            assert "SSM-SessionManagerRunShell" not in text, stack.stack_name
    assert start_session_command("i-0abc", "au-production-primary", "ap-southeast-2") == (
        "aws ssm start-session --region ap-southeast-2 --target i-0abc "
        "--document-name au-production-primary-shell-session"
    )


def test_break_glass_role_trusts_only_mfa_people_never_cloudformation(access: Template) -> None:
    """The vault-policy procedure deploys with the break-glass session itself (runbooks/vault_policy_change.md);
    the role is never passed to CloudFormation, so it trusts no service principal."""
    role = _roles(access)["au-production-break-glass"]
    for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
        assert "Service" not in statement["Principal"]
        assert statement["Condition"]["Bool"] == {"aws:MultiFactorAuthPresent": "true"}


def test_the_dr_web_tier_has_its_own_logged_session_channel(au_production: Stages, template_of: TemplateOf) -> None:
    """ACC-2 after a failover: the DR region's web instances are reached through a Session document of
    that region, encrypted with its `system` key, with transcripts in its own encrypted log group."""
    patching = template_of(au_production, "dr", "StandbyPatching")
    patching.has_resource_properties(
        "AWS::SSM::Document",
        {
            "Name": "au-production-dr-shell-session",
            "DocumentType": "Session",
            "Content": Match.object_like(
                {
                    "inputs": Match.object_like(
                        {"cloudWatchEncryptionEnabled": True, "kmsKeyId": Match.any_value(), "runAsEnabled": False}
                    )
                }
            ),
        },
    )
    (document,) = patching.find_resources("AWS::SSM::Document").values()
    assert "SystemKey" in json.dumps(document["Properties"]["Content"]["inputs"]["kmsKeyId"])
    patching.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {"LogGroupName": "/au-production-dr/ssm/sessions", "KmsKeyId": Match.any_value()},
            "DeletionPolicy": "RetainExceptOnCreate",
        },
    )
    web = template_of(au_production, "dr", "StandbyWeb")
    transcripts = Capture()
    web.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Sid": "SessionTranscripts", "Resource": transcripts})]
                )
            }
        },
    )
    assert "SessionLogs" in json.dumps(transcripts.as_object())


def test_without_a_standby_only_the_primary_document_is_granted(
    au_development: Stages, template_of: TemplateOf
) -> None:
    access = template_of(au_development, "primary", "Access")
    statements = [
        statement
        for policy in access.find_resources("AWS::IAM::ManagedPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    documents = next(s for s in statements if s["Sid"] == "SessionsThroughTheLoggedDocumentOnly")
    assert len(_as_list(documents["Resource"])) == 1
    assert not any(s["Sid"] == "EncryptSessionsInOtherRegions" for s in statements)

"""The scoped CDK bootstrap (issue "Real-AWS readiness", item 13).

By default `cdk bootstrap` gives the CloudFormation execution role `AdministratorAccess`.
The Technical Director role may assume the bootstrap deploy role, and every deploy runs
as that execution role, so a deploy could do what the team permissions boundary denies.
This module builds three customer-managed policies, created before bootstrap (outside every
stack, so no deploy can change them):

* `<deployment>-cdk-execution`: the execution role's permissions. It allows the services
  the stacks use (`service:*`, never `*:*`) and denies what the team boundary denies.
* `<deployment>-cdk-boundary`: the execution role's permissions boundary
  (`cdk bootstrap --custom-permissions-boundary`), a ceiling with the same denies.
* `<deployment>-workload-boundary`: the permissions boundary of every role the stacks create
  but the team roles (stacks/base.py applies it to every `AWS::IAM::Role`, CDK's own provider
  roles included), a ceiling with the same denies and no IAM writes (ACC-1).

    python -m tooling.bootstrap_policy --deployment au-production --print   # the JSON only
    python -m tooling.bootstrap_policy --deployment au-production --profile p  # create/update

Differences from the team boundary, on purpose (CloudFormation must create and update
what the stacks declare): `backup:PutBackupVaultAccessPolicy` and `backup:DeleteBackupPlan`
(vault policies and plans are stack resources), `cloudtrail:UpdateTrail` and
`cloudtrail:PutEventSelectors` (the trail is a stack resource) and role/policy creation
stay allowed, but a role may only be created with the team or the workload boundary
(`DenyRolesWithoutABoundary`, issue 18 item 1), and no one attaches an administrator-level AWS
managed policy but to the break-glass role (`DenyAttachingAdministratorPolicies`). So no deploy
creates a role that escapes the denies below. The one exception is the hosted secret rotation's
role: the AWS::SecretsManager transform creates it in a nested stack from a template with no
boundary parameter (`Deployment.unbounded_role_names`; the team boundary denies assuming it;
docs/REAL_ACCOUNT.md, "Roles and permissions boundaries").
Audit records (ACC-3): the execution role may not delete or unlock them, nor delete
the trail log group's streams or its key; it keeps what a deploy needs: the audit
buckets' settings (they are declared in the templates, and the buckets' policies exempt
only this role, patterns/audit_lock.py), `s3:DeleteBucket` and `logs:DeleteLogGroup`
(a failed first create deletes what it made: patterns/retention.py; a deployed bucket
or group is retained, and Object Lock keeps the records) and `logs:PutRetentionPolicy`
(the log group's retention is declared in the template).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote

from config import Deployment, load_config
from config.topology import FailoverTopology
from patterns.team_actions import (
    ADMINISTRATOR_ATTACH_ACTIONS,
    ADMINISTRATOR_POLICY_ARNS,
    IAM_ESCALATION_ACTIONS,
    KMS_DESTRUCTIVE_ACTIONS,
)

PolicyDocument = dict[str, Any]


def boundary_document(*denies: dict[str, Any]) -> PolicyDocument:
    """A permissions boundary: an allow-all ceiling (a boundary grants nothing by itself) and the denies it holds."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "CeilingOnly", "Effect": "Allow", "Action": "*", "Resource": "*"}, *denies],
    }


def cdk_bootstrap_command(
    cdk: Path | str, assembly: Path | str, *, execution_policy_arn: str, boundary_name: str, environments: Iterable[str]
) -> list[str]:
    """`cdk bootstrap` of `environments` (`aws://<account>/<region>`) with a scoped execution policy and a
    permissions boundary (CDK CLI 2.1148 flags)."""
    return [
        str(cdk),
        "bootstrap",
        "--app",
        str(assembly),
        "--cloudformation-execution-policies",
        execution_policy_arn,
        "--custom-permissions-boundary",
        boundary_name,
        *environments,
    ]


# IAM service prefixes of every resource type the stacks declare (checked against the
# synthesized templates by tests/tooling/test_bootstrap_policy.py).
RESOURCE_TYPE_SERVICES: Final[dict[str, tuple[str, ...]]] = {
    "AWS::AutoScaling": ("autoscaling",),
    "AWS::Backup": ("backup", "backup-storage"),
    "AWS::CertificateManager": ("acm",),
    "AWS::CloudTrail": ("cloudtrail",),
    "AWS::CloudWatch": ("cloudwatch",),
    "AWS::Cognito": ("cognito-idp",),
    "AWS::Config": ("config",),
    "AWS::EC2": ("ec2",),
    "AWS::Events": ("events",),
    "AWS::ElastiCache": ("elasticache",),
    "AWS::ElasticLoadBalancingV2": ("elasticloadbalancing",),
    "AWS::IAM": ("iam",),
    "AWS::KMS": ("kms",),
    "AWS::Lambda": ("lambda",),
    "AWS::Logs": ("logs",),
    "AWS::RDS": ("rds",),
    "AWS::Route53": ("route53",),
    "AWS::S3": ("s3",),
    "AWS::SNS": ("sns",),
    "AWS::SQS": ("sqs",),
    "AWS::SSM": ("ssm",),
    "AWS::SecretsManager": ("secretsmanager",),
    "AWS::SES": ("ses",),  # the user pool's e-mail identity (stacks/dns.py)
    "AWS::Synthetics": ("synthetics", "lambda"),  # a canary runs as a Lambda function Synthetics creates
    "AWS::WAFv2": ("wafv2",),
    "Custom::": ("lambda",),  # CDK custom resources are Lambda-backed
}
# Needed beside the resource types: the hosted secret rotation is an AWS::Serverless
# transform (CloudFormation change sets, Serverless Application Repository); the Backup
# audit framework creates AWS Config rules.
SUPPORTING_SERVICES: Final[tuple[str, ...]] = ("cloudformation", "serverlessrepo", "config")
# IAM is scoped below (roles, policies, instance profiles), never `iam:*`.
IAM_STACK_ACTIONS: Final[tuple[str, ...]] = (
    "iam:AddRoleToInstanceProfile",
    "iam:AttachRolePolicy",
    "iam:CreateInstanceProfile",
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:CreateRole",
    "iam:CreateServiceLinkedRole",
    "iam:DeleteInstanceProfile",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:Get*",
    "iam:List*",
    "iam:PassRole",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:RemoveRoleFromInstanceProfile",
    "iam:TagInstanceProfile",
    "iam:TagPolicy",
    "iam:TagRole",
    "iam:UntagInstanceProfile",
    "iam:UntagPolicy",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
)
ROLE_WRITE_ACTIONS: Final[tuple[str, ...]] = (
    "iam:AttachRolePolicy",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
)
POLICY_WRITE_ACTIONS: Final[tuple[str, ...]] = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
)
# The execution role may create vaults, plans and vault policies, never delete what protects backups.
BACKUP_PROTECTED_ACTIONS: Final[tuple[str, ...]] = (
    "backup:DeleteBackupVault",
    "backup:DeleteBackupVaultAccessPolicy",
    "backup:DeleteBackupVaultLockConfiguration",
    "backup:DeleteRecoveryPoint",
    "backup:DisassociateRecoveryPoint",
    "backup:UpdateRecoveryPointLifecycle",
)
AUDIT_PROTECTED_ACTIONS: Final[tuple[str, ...]] = (
    "cloudtrail:DeleteTrail",
    "cloudtrail:StopLogging",
    "config:DeleteConfigurationRecorder",
    "config:DeleteDeliveryChannel",
    "config:StopConfigurationRecorder",
)
# ACC-3: what no deploy needs to do to an audit record or to the trail's log group.
AUDIT_RECORD_PROTECTED_ACTIONS: Final[tuple[str, ...]] = (
    "s3:BypassGovernanceRetention",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObjectRetention",
)
AUDIT_LOG_GROUP_PROTECTED_ACTIONS: Final[tuple[str, ...]] = ("logs:DeleteLogStream", "logs:DisassociateKmsKey")
# What no workload role (a service's role: Lambda, Backup, SSM, S3 replication, ...) does to IAM: every
# write that creates or changes a principal, a policy or a boundary. iam:PassRole (the release role
# passes the instance role to its launch template versions) and iam:CreateServiceLinkedRole stay.
WORKLOAD_IAM_DENIED_ACTIONS: Final[tuple[str, ...]] = (
    "iam:Add*",
    "iam:Attach*",
    "iam:CreateAccessKey",
    "iam:CreateGroup",
    "iam:CreateInstanceProfile",
    "iam:CreateLoginProfile",
    "iam:CreateOpenIDConnectProvider",
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:CreateRole",
    "iam:CreateSAMLProvider",
    "iam:CreateServiceSpecificCredential",
    "iam:CreateUser",
    "iam:CreateVirtualMFADevice",
    "iam:Delete*",
    "iam:Detach*",
    "iam:Put*",
    "iam:Remove*",
    "iam:Set*",
    "iam:Tag*",
    "iam:Untag*",
    "iam:Update*",
    "iam:Upload*",
)
# Escalation actions of the team boundary that CloudFormation never needs for these stacks.
USER_AND_GROUP_ESCALATION: Final[tuple[str, ...]] = tuple(
    action
    for action in IAM_ESCALATION_ACTIONS
    if action not in ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:UpdateAssumeRolePolicy")
)


def execution_policy_name(deployment: Deployment) -> str:
    return f"{deployment.name}-cdk-execution"


def boundary_policy_name(deployment: Deployment) -> str:
    return f"{deployment.name}-cdk-boundary"


def workload_boundary_name(deployment: Deployment) -> str:
    """The boundary of every role the stacks create but the team roles (config: Deployment.workload_boundary_name)."""
    return deployment.workload_boundary_name


def unbounded_role_arns(deployment: Deployment) -> list[str]:
    """The hosted rotation's role (config: Deployment.unbounded_role_names), the only one created without a boundary."""
    return [f"arn:aws:iam::{deployment.account}:role/{name}" for name in deployment.unbounded_role_names]


def team_boundary_name(deployment: Deployment) -> str:
    """The team roles' boundary (patterns/team_roles.py, actions in patterns/team_actions.py; primary Access stack)."""
    return f"{deployment.name}-team-boundary"


def policy_arn(deployment: Deployment, name: str) -> str:
    return f"arn:aws:iam::{deployment.account}:policy/{name}"


def allowed_services() -> tuple[str, ...]:
    services = {s for group in RESOURCE_TYPE_SERVICES.values() for s in group} | set(SUPPORTING_SERVICES)
    return tuple(sorted(services - {"iam"}))


def _deny(sid: str, actions: Iterable[str], resource: str | list[str], **extra: Any) -> PolicyDocument:
    return {"Sid": sid, "Effect": "Deny", "Action": list(actions), "Resource": resource, **extra}


def deny_statements(deployment: Deployment, *, freeze_team_boundary: bool = True) -> list[PolicyDocument]:
    """What the team boundary denies, as far as a CloudFormation execution role can be held to it."""
    statements = [*_iam_denies(deployment), *_data_denies(deployment)]
    if freeze_team_boundary:
        # A deploy must not loosen the Technical Director's own boundary; a change to it is a
        # break-glass step (docs/REAL_ACCOUNT.md, "Changing the team boundary").
        statements.append(
            _deny(
                "DenyTeamBoundaryChanges",
                ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"],
                [policy_arn(deployment, team_boundary_name(deployment))],
            )
        )
    return statements


def _iam_denies(deployment: Deployment) -> list[PolicyDocument]:
    """No IAM escalation: users and keys, the bootstrap's own policies and roles, boundaries, admin policies."""
    account = deployment.account
    break_glass = f"arn:aws:iam::{account}:role/{deployment.break_glass_role_name}"
    protected_policies = [
        policy_arn(deployment, execution_policy_name(deployment)),
        policy_arn(deployment, boundary_policy_name(deployment)),
        policy_arn(deployment, workload_boundary_name(deployment)),
    ]
    team_boundary = policy_arn(deployment, team_boundary_name(deployment))
    return [
        _deny("DenyIamUsersGroupsAndKeys", USER_AND_GROUP_ESCALATION, "*"),
        _deny("DenyChangingTheBootstrapPolicies", POLICY_WRITE_ACTIONS, protected_policies),
        _deny("DenyDeletingTheTeamBoundary", ["iam:DeletePolicy", "iam:DeletePolicyVersion"], [team_boundary]),
        _deny("DenyChangingBootstrapRoles", ROLE_WRITE_ACTIONS, [f"arn:aws:iam::{account}:role/cdk-*"]),
        _deny(
            "DenyBreakGlassTrustChanges",
            ["iam:UpdateAssumeRolePolicy", "iam:DeleteRolePermissionsBoundary"],
            [break_glass],
        ),
        _deny(
            "DenyRemovingBoundaries", ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"], "*"
        ),
        {
            "Sid": "DenyAttachingAdministratorPolicies",
            "Effect": "Deny",
            "Action": list(ADMINISTRATOR_ATTACH_ACTIONS),
            "NotResource": [break_glass],
            "Condition": {"ArnLike": {"iam:PolicyARN": list(ADMINISTRATOR_POLICY_ARNS)}},
        },
    ]


def _data_denies(deployment: Deployment) -> list[PolicyDocument]:
    """No destroying what protects the data: keys, the audit trail and its records, backups."""
    topology = FailoverTopology.of(deployment)
    audit_records = [
        *(arn for arn in topology.audit_bucket_arns() if arn.endswith("/*")),
        topology.audit_log_group_arn(),
    ]
    return [
        _deny("DenyKeyDeletion", KMS_DESTRUCTIVE_ACTIONS, "*"),
        _deny("DenyAuditStop", AUDIT_PROTECTED_ACTIONS, "*"),
        _deny("DenyBackupDeletion", BACKUP_PROTECTED_ACTIONS, "*"),
        _deny(
            "DenyAuditRecordDeletion",
            [*AUDIT_RECORD_PROTECTED_ACTIONS, *AUDIT_LOG_GROUP_PROTECTED_ACTIONS],
            audit_records,
        ),
    ]


def execution_policy_document(
    deployment: Deployment, *, freeze_team_boundary: bool = True, require_role_boundary: bool = True
) -> PolicyDocument:
    """The CloudFormation execution role's permissions (`--cloudformation-execution-policies`)."""
    account = deployment.account
    statements: list[PolicyDocument] = [
        {
            "Sid": "StackServices",
            "Effect": "Allow",
            "Action": [f"{service}:*" for service in allowed_services()],
            "Resource": "*",
        },
        {
            "Sid": "StackIamRolesPoliciesProfiles",
            "Effect": "Allow",
            "Action": list(IAM_STACK_ACTIONS),
            "Resource": [
                f"arn:aws:iam::{account}:role/*",
                f"arn:aws:iam::{account}:policy/*",
                f"arn:aws:iam::{account}:instance-profile/*",
            ],
        },
        *deny_statements(deployment, freeze_team_boundary=freeze_team_boundary),
    ]
    if require_role_boundary:
        # ACC-1: a role without one of these boundaries would escape every deny above. A negated
        # operator matches a key the request lacks, so CreateRole without PermissionsBoundary is denied
        # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
        # DeleteRolePermissionsBoundary is denied to every role by DenyRemovingBoundaries.
        statements.append(
            {
                "Sid": "DenyRolesWithoutABoundary",
                "Effect": "Deny",
                "Action": ["iam:CreateRole", "iam:PutRolePermissionsBoundary"],
                "NotResource": unbounded_role_arns(deployment),
                "Condition": {
                    "StringNotEquals": {
                        "iam:PermissionsBoundary": [
                            policy_arn(deployment, team_boundary_name(deployment)),
                            policy_arn(deployment, workload_boundary_name(deployment)),
                        ]
                    }
                },
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def boundary_policy_document(deployment: Deployment, *, freeze_team_boundary: bool = True) -> PolicyDocument:
    """The execution role's permissions boundary: caps, never grants (attached as a boundary only)."""
    return boundary_document(*deny_statements(deployment, freeze_team_boundary=freeze_team_boundary))


def workload_boundary_document(deployment: Deployment, *, freeze_team_boundary: bool = True) -> PolicyDocument:
    """Every workload role's permissions boundary: the execution boundary's denies and no IAM writes."""
    return boundary_document(
        *deny_statements(deployment, freeze_team_boundary=freeze_team_boundary),
        {"Sid": "DenyIamWrites", "Effect": "Deny", "Action": list(WORKLOAD_IAM_DENIED_ACTIONS), "Resource": "*"},
    )


def ensure_policy(iam: Any, arn: str, document: PolicyDocument, description: str) -> str:
    """Create the customer-managed policy `arn`, or make `document` its default version; returns the ARN."""
    name = arn.rsplit("/", 1)[1]
    text = json.dumps(document, sort_keys=True)
    try:
        current = iam.get_policy(PolicyArn=arn)["Policy"]
    except iam.exceptions.NoSuchEntityException:
        iam.create_policy(PolicyName=name, PolicyDocument=text, Description=description)
        return arn
    default = iam.get_policy_version(PolicyArn=arn, VersionId=current["DefaultVersionId"])["PolicyVersion"]
    existing = default["Document"]  # boto3 returns the decoded document
    if isinstance(existing, str):
        existing = json.loads(unquote(existing))
    if existing == json.loads(text):
        return arn
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    if len(versions) >= 5:  # IAM keeps at most five versions: drop the oldest non-default one
        oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
        iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=text, SetAsDefault=True)
    return arn


def ensure_bootstrap_policies(
    iam: Any, deployment: Deployment, *, freeze_team_boundary: bool = True
) -> tuple[str, str]:
    """Create or update the three policies; returns (execution policy ARN, boundary policy name).

    The workload boundary comes first: the execution policy names it, and the stacks' roles need it."""
    ensure_policy(
        iam,
        policy_arn(deployment, workload_boundary_name(deployment)),
        workload_boundary_document(deployment, freeze_team_boundary=freeze_team_boundary),
        f"{deployment.name}: permissions boundary of every role the stacks create but the team roles (ACC-1)",
    )
    execution_arn = ensure_policy(
        iam,
        policy_arn(deployment, execution_policy_name(deployment)),
        execution_policy_document(deployment, freeze_team_boundary=freeze_team_boundary),
        f"{deployment.name}: CDK CloudFormation execution role (scoped, replaces AdministratorAccess)",
    )
    ensure_policy(
        iam,
        policy_arn(deployment, boundary_policy_name(deployment)),
        boundary_policy_document(deployment, freeze_team_boundary=freeze_team_boundary),
        f"{deployment.name}: permissions boundary of the CDK CloudFormation execution role",
    )
    return execution_arn, boundary_policy_name(deployment)


def bootstrap_command(cdk: Path | str, assembly: Path | str, deployment: Deployment) -> list[str]:
    """`cdk bootstrap` of both regions with the scoped policy and the boundary."""
    return cdk_bootstrap_command(
        cdk,
        assembly,
        execution_policy_arn=policy_arn(deployment, execution_policy_name(deployment)),
        boundary_name=boundary_policy_name(deployment),
        environments=(f"aws://{deployment.account}/{region}" for region in deployment.regions),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deployment", default="au-production")
    parser.add_argument("--profile")
    parser.add_argument("--print", action="store_true", help="print the three documents, call nothing")
    parser.add_argument(
        "--allow-team-boundary-change",
        action="store_true",
        help="break-glass only: let the next deploy change the team boundary (re-run without it afterwards)",
    )
    args = parser.parse_args(argv)
    deployment = load_config().get(args.deployment)
    freeze = not args.allow_team_boundary_change
    if args.print:
        print(
            json.dumps(
                {
                    execution_policy_name(deployment): execution_policy_document(
                        deployment, freeze_team_boundary=freeze
                    ),
                    boundary_policy_name(deployment): boundary_policy_document(deployment, freeze_team_boundary=freeze),
                    workload_boundary_name(deployment): workload_boundary_document(
                        deployment, freeze_team_boundary=freeze
                    ),
                },
                indent=2,
            )
        )
        return 0
    import boto3

    iam = boto3.Session(profile_name=args.profile).client("iam")
    execution_arn, boundary = ensure_bootstrap_policies(iam, deployment, freeze_team_boundary=freeze)
    print(
        f"execution policy {execution_arn}\npermissions boundary {boundary}\n"
        f"workload boundary {workload_boundary_name(deployment)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""An AWS Config recorder for AWS Backup Audit Manager, only where no organisation provides one (BAK-1..5, ACC-4).

AWS Backup Audit Manager evaluates its controls through AWS Config: before a
framework reports anything, "resource tracking" (a configuration recorder) must be
on in the region (AWS Backup developer guide, "Turning on resource tracking").

A recorder is an **account-region singleton** (one customer-managed recorder and one
delivery channel per region), usually owned by the organisation (AWS Control Tower,
an org-wide Config conformance setup). CloudFormation cannot create a second one, and
must not replace the organisation's. Hence:

- `aws_config.create_recorder` in `config/deployments.toml` (per environment, or per
  deployment with `[overrides."<j>-<env>".aws_config]`), **default false**: the
  organisation provides the recorder; the preflight (`tooling/preflight/`) checks
  it with `recorder_problems`, given the answers of
  `configservice.describe_configuration_recorders` / `..._recorder_status`.
- true (an account with no organisation recorder): `BackupAuditRecorder` creates a
  recorder and delivery channel that record **only** `RECORDED_RESOURCE_TYPES`, the
  types the framework evaluates, which keeps the Config bill small.

See `docs/aws-config-recorder.md`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from aws_cdk import aws_config as config
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from patterns.iam import ManagedPolicyRole

# What the backup audit framework's controls evaluate (patterns/backup_audit.py): AWS Backup's
# own resources, Config's compliance records, and the protected resource types.
RECORDED_RESOURCE_TYPES: Final[tuple[str, ...]] = (
    "AWS::Backup::BackupPlan",
    "AWS::Backup::BackupSelection",
    "AWS::Backup::BackupVault",
    "AWS::Backup::RecoveryPoint",
    "AWS::Config::ResourceCompliance",
    "AWS::RDS::DBInstance",
    "AWS::EC2::Instance",
    "AWS::EC2::Volume",
)
CONFIG_SERVICE_POLICY: Final = "service-role/AWS_ConfigRole"


def recorder_problems(
    recorders: Sequence[Mapping[str, Any]],
    statuses: Sequence[Mapping[str, Any]],
    required: Iterable[str] = RECORDED_RESOURCE_TYPES,
) -> list[str]:
    """What is wrong with a region's AWS Config recording for the backup audit framework; [] when fine.

    `recorders` / `statuses`: the `ConfigurationRecorders` / `ConfigurationRecordersStatus` lists of
    `describe_configuration_recorders` / `describe_configuration_recorder_status` (boto3). Pure, so the
    preflight calls it and the tests check it without AWS."""
    if not recorders:
        return ["no AWS Config configuration recorder in the region (Backup Audit Manager evaluates nothing)"]
    problems: list[str] = []
    recording = {s.get("name") for s in statuses if s.get("recording")}
    for recorder in recorders:
        name = recorder.get("name")
        if name not in recording:
            problems.append(f"recorder {name!r} is not recording")
            continue
        group = recorder.get("recordingGroup") or {}
        if group.get("allSupported"):
            excluded = set((group.get("exclusionByResourceTypes") or {}).get("resourceTypes") or [])
            recorded = None
        else:
            excluded = set()
            recorded = set(group.get("resourceTypes") or [])
        missing = [t for t in required if t in excluded or (recorded is not None and t not in recorded)]
        if missing:
            problems.append(f"recorder {name!r} does not record {', '.join(missing)}")
    if len(problems) == len(recorders):
        return problems
    return []


@dataclass(frozen=True)
class BackupAuditRecorderProps:
    name_prefix: str  # e.g. "au-production-primary"
    delivery_bucket: s3.IBucket  # KMS-encrypted, versioned, TLS-only (a SecureBucket)
    delivery_key: kms.IKey  # the bucket's key (the `logs` key)


class BackupAuditRecorder(Construct):
    """`recorder` (recording only `RECORDED_RESOURCE_TYPES`), `delivery_channel`, `role`."""

    def __init__(self, scope: Construct, id: str, *, props: BackupAuditRecorderProps) -> None:
        super().__init__(scope, id)
        self.role = ManagedPolicyRole(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("config.amazonaws.com"),
            description=f"{props.name_prefix}: AWS Config records AWS Backup resources for Audit Manager",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(CONFIG_SERVICE_POLICY)],
        )
        props.delivery_bucket.grant_put(self.role, "AWSLogs/*")
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ConfigDeliveryBucketAcl",
                actions=["s3:GetBucketAcl", "s3:ListBucket"],
                resources=[props.delivery_bucket.bucket_arn],
            )
        )
        props.delivery_key.grant(self.role, "kms:GenerateDataKey", "kms:Decrypt")
        self.recorder = config.CfnConfigurationRecorder(
            self,
            "Recorder",
            name=f"{props.name_prefix}-backup-audit",
            role_arn=self.role.role_arn,
            recording_group=config.CfnConfigurationRecorder.RecordingGroupProperty(
                all_supported=False,
                include_global_resource_types=False,
                resource_types=list(RECORDED_RESOURCE_TYPES),
                recording_strategy=config.CfnConfigurationRecorder.RecordingStrategyProperty(
                    use_only="INCLUSION_BY_RESOURCE_TYPES"
                ),
            ),
        )
        self.delivery_channel = config.CfnDeliveryChannel(
            self,
            "DeliveryChannel",
            name=f"{props.name_prefix}-backup-audit",
            s3_bucket_name=props.delivery_bucket.bucket_name,
            s3_kms_key_arn=props.delivery_key.key_arn,
        )
        self.delivery_channel.add_resource_dependency(self.recorder)

"""Emulator-only fixes to moto 5.2.5: the deploy (CloudFormation), the cross-region failover (DR-1, DR-2)
and the pipeline stacks (issue 21).

One seam: every fix lives in this folder, one module per service, each listed in that module's
`PATCHES` with a one-line reason and, in the module's docstring, the AWS documentation page whose
behaviour it follows. `tooling/moto_launcher.py` only starts moto's server with all of them.

The CloudFormation templates are the same for AWS and for the emulator; everything the
emulator gets wrong is fixed here, one named unit per gap, each on moto's private APIs
(so pinned to the one moto version they were read from). The table, service by service:

| service | patch | why |
| --- | --- | --- |
| cloudformation | (eleven patches) | what the CDK CLI's deploy needs; table in `cloudformation.py` |
| rds | cross-region-replica-subnet-group | replica's DB subnet group looked up in the source region |
| rds | cross-region-replica-parameter-group | a parameter group on a cross-region PostgreSQL replica accepted |
| rds | promote-read-replica | promotion keeps source links, accepts non-replicas |
| rds | rename-keeps-replica-links | NewDBInstanceIdentifier leaves stale replica/source references |
| cloudwatch | evaluate-alarms-on-put-metric-data | alarms never change state (and start OK, not INSUFFICIENT_DATA) |
| cloudwatch | cloudformation-alarm | AWS::CloudWatch::Alarm is skipped by moto's CloudFormation |
| cloudwatch | replica-lag-grows-without-source | no ReplicaLag (PostgreSQL's grows 1 s/s without a source) |
| route53 | metric-health-check-settings | AlarmIdentifier / InsufficientDataHealthStatus dropped |
| route53 | health-check-status-from-alarm | GetHealthCheckStatus always Success |
| route53 | test-dns-answer | TestDNSAnswer is 404 (an alias answers with addresses) |
| route53 | cloudformation-failover-records | zone by name must match exactly; delete/update remove the whole name |
| s3 | cloudformation-replication-configuration | template ReplicationConfiguration dropped |
| s3 | replicate-objects | objects and delete markers are never replicated (SSE-KMS: only if selected) |
| s3 | sse-kms-etag | an SSE-KMS object's ETag is the MD5 of its data (on S3 it is not) |
| ec2 | launch-template-user-data | a version's plain Base64 UserData fails every later launch |
| ec2 | cloudformation-security-group-egress | a template's egress rules ignored: every group keeps allow-all egress |
| autoscaling | desired-capacity-within-bounds | desired capacity above MaxSize accepted |
| ssm | cloudformation-parameter-tags | a template's Tags map fails the parameter (TypeError) |
| secretsmanager | cloudformation-secret | AWS::SecretsManager::Secret (and its ReplicaRegions) skipped |
| secretsmanager | stop-replication-to-replica | StopReplicationToReplica not implemented |
| ses | cloudformation-email-identity | no AWS::SES::EmailIdentity in CloudFormation |
| iam | boundary-must-exist | a role whose permissions boundary policy does not exist is created |
| codepipeline | pipeline-structure | CreatePipeline/UpdatePipeline accept invalid structures |
| codepipeline | cloudformation-pipeline | AWS::CodePipeline::Pipeline skipped (and never structure-checked) |
| codebuild | cloudformation-project | AWS::CodeBuild::Project skipped: pipeline actions name no project |
| codebuild | report-groups | no report groups (API or AWS::CodeBuild::ReportGroup) |

`patches()` below is the authoritative list (each module's `PATCHES`, with a one-line reason
each); the table above is its summary.
"""

from __future__ import annotations

import importlib.metadata

from tooling.emulator.patch import Patch

MOTO_VERSION = "5.2.5"


class UnsupportedMotoVersionError(RuntimeError):
    pass


def check_moto_version() -> None:
    """Every patch replaces private moto code read from one version: refuse any other."""
    installed = importlib.metadata.version("moto")
    if installed != MOTO_VERSION:
        raise UnsupportedMotoVersionError(
            f"tooling.emulator patches moto {MOTO_VERSION} internals, but moto {installed} is installed: "
            f"install moto[server]=={MOTO_VERSION} (requirements-dev.txt) or re-verify every patch against "
            f"moto {installed} before changing MOTO_VERSION"
        )


def patches() -> list[Patch]:
    check_moto_version()  # before importing the modules that read moto internals
    from tooling.emulator import (
        autoscaling,
        cloudformation,
        cloudwatch,
        codebuild,
        codepipeline,
        ec2,
        iam,
        rds,
        route53,
        s3,
        secretsmanager,
        ses,
        ssm,
    )

    return [
        *cloudformation.PATCHES,
        *rds.PATCHES,
        *cloudwatch.PATCHES,
        *route53.PATCHES,
        *s3.PATCHES,
        *ec2.PATCHES,
        *autoscaling.PATCHES,
        *ssm.PATCHES,
        *secretsmanager.PATCHES,
        *ses.PATCHES,
        *iam.PATCHES,
        *codepipeline.PATCHES,
        *codebuild.PATCHES,
    ]


_installed: set[str] = set()


def install() -> list[Patch]:
    """Apply every patch once (idempotent); returns them in the order applied."""
    applied = patches()
    for patch in applied:
        key = f"{patch.service}/{patch.name}"
        if key not in _installed:
            patch.apply()
            _installed.add(key)
    return applied


__all__ = ["MOTO_VERSION", "Patch", "UnsupportedMotoVersionError", "check_moto_version", "install", "patches"]

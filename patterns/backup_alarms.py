"""Alarms on failed AWS Backup jobs, routed to the severity topics (OPS-2, OPS-4, BAK-1..BAK-5, BAK-9).

AWS Backup publishes job counts to CloudWatch (namespace `AWS/Backup`); without a
dimension the metric counts every job of the region. A failed or expired backup
job and a failed copy job are Sev2 (a recovery point, or its second location, is
missing); a failed restore job, which is how a failed monthly restore test shows,
is Sev3. The severity leads every alarm description.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from constructs import Construct

from patterns.alerting import severity_alarm

# alarm id -> (AWS/Backup metric, severity, what it means)
BACKUP_JOB_ALARMS: Final[dict[str, tuple[str, int, str]]] = {
    "BackupJobsFailed": ("NumberOfBackupJobsFailed", 2, "a scheduled backup job failed (BAK-1..BAK-4)"),
    "BackupJobsExpired": (
        "NumberOfBackupJobsExpired",
        2,
        "a scheduled backup job did not start within its window (BAK-1..BAK-4)",
    ),
    "CopyJobsFailed": (
        "NumberOfCopyJobsFailed",
        2,
        "a copy of a recovery point to the DR vault failed (BAK-5)",
    ),
    "RestoreJobsFailed": (
        "NumberOfRestoreJobsFailed",
        3,
        "a restore job failed, e.g. the monthly restore test (BAK-9)",
    ),
}


@dataclass(frozen=True)
class BackupAlarmsProps:
    name_prefix: str  # e.g. "au-production-primary"
    topics: Mapping[int, sns.ITopic]  # severity -> topic


class BackupJobAlarms(Construct):
    """`alarms[id]`: one CloudWatch alarm per job outcome, publishing to its severity's topic."""

    def __init__(self, scope: Construct, id: str, *, props: BackupAlarmsProps) -> None:
        super().__init__(scope, id)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for alarm_id, (metric_name, severity, meaning) in BACKUP_JOB_ALARMS.items():
            self.alarms[alarm_id] = severity_alarm(
                self,
                alarm_id,
                topics=props.topics,
                severity=severity,
                summary=f"{meaning}. Runbook: runbooks/restore_drill.md",
                with_response_times=False,
                notify_ok=False,
                alarm_name=f"{props.name_prefix}-backup-{alarm_id}",
                metric=cloudwatch.Metric(
                    namespace="AWS/Backup",
                    metric_name=metric_name,
                    statistic="Sum",
                    period=cdk.Duration.minutes(5),
                ),
                threshold=1,
                evaluation_periods=1,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )

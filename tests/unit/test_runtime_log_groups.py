"""Run-time log groups whose names synth knows are created first, encrypted and with a retention
(issue 17 item 5, ENC-1, BAK-7); the ones it cannot know are known exceptions in the compliance
report (policies/coverage.py, tests/policies/test_report.py).

- RDS enhanced monitoring writes to `RDSOSMetrics`, one group per account and region
  (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.CloudWatchLogs.html):
  the primary database's Data stack and the DR replica's StandbyData stack each create it;
- the hosted rotation function is named `<instance>-rotation`, so Lambda's default group
  `/aws/lambda/<function name>` is known (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html);
- CDK's default-SG custom resource already logs to a group of the Network stack (LoggingConfig).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk.assertions import Template

from tests.conftest import Stages, TemplateOf

RETENTION = 365  # au-production's log_retention_days


def _group(template: Template, name: str) -> tuple[str, Mapping[str, Any]]:
    found = template.find_resources("AWS::Logs::LogGroup", {"Properties": {"LogGroupName": name}})
    assert len(found) == 1, f"no log group {name}"
    logical_id, group = next(iter(found.items()))
    assert group["Properties"]["RetentionInDays"] == RETENTION
    assert group["Properties"].get("KmsKeyId"), f"{name} not encrypted with the logs key"
    # Retained (a failed first create still deletes what it made: patterns/retention.py).
    assert group.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate")
    return logical_id, group


def _depends_on(template: Template, resource_type: str, logical_id: str) -> None:
    resources = template.find_resources(resource_type)
    assert resources, resource_type
    for resource in resources.values():
        assert logical_id in resource.get("DependsOn", []), f"{resource_type} does not wait for {logical_id}"


def test_enhanced_monitoring_group_exists_before_the_primary_database(
    au_production: Stages, template_of: TemplateOf
) -> None:
    data = template_of(au_production, "primary", "Data")
    logical_id, _ = _group(data, "RDSOSMetrics")
    _depends_on(data, "AWS::RDS::DBInstance", logical_id)


def test_enhanced_monitoring_group_exists_before_the_dr_replica(au_production: Stages, template_of: TemplateOf) -> None:
    standby = template_of(au_production, "dr", "StandbyData")
    logical_id, _ = _group(standby, "RDSOSMetrics")
    _depends_on(standby, "AWS::RDS::DBInstance", logical_id)


def test_hosted_rotation_function_logs_to_a_group_created_before_the_schedule(
    au_production: Stages, template_of: TemplateOf
) -> None:
    data = template_of(au_production, "primary", "Data")
    schedule = next(iter(data.find_resources("AWS::SecretsManager::RotationSchedule").values()))
    function_name = schedule["Properties"]["HostedRotationLambda"]["RotationLambdaName"]
    assert function_name == "au-production-primary-postgres-rotation"
    logical_id, _ = _group(data, f"/aws/lambda/{function_name}")
    _depends_on(data, "AWS::SecretsManager::RotationSchedule", logical_id)


def test_every_group_of_these_stacks_is_encrypted(au_production: Stages, template_of: TemplateOf) -> None:
    for role, stack in (("primary", "Data"), ("dr", "StandbyData"), ("primary", "Network"), ("dr", "Network")):
        for group in template_of(au_production, role, stack).find_resources("AWS::Logs::LogGroup").values():
            assert "KmsKeyId" in group["Properties"] and "RetentionInDays" in group["Properties"], (role, stack)

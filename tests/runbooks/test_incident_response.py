"""Incident response (OPS-4) against moto: every alarm with its severity, topic, state and first steps."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from config import load_config
from config.topology import DR, PRIMARY, FailoverTopology
from runbooks import incident_response
from runbooks.incident_response import list_alarms
from runbooks.incident_steps import DEFAULT_STEPS, PAGED, SEVERITY_MATRIX, first_steps
from runbooks.toolkit import EXIT_OK, EXIT_REFUSED, EXIT_STEP_FAILED, RefusedError
from tests.runbooks.run_cli import run_runbook

TOPO = FailoverTopology.of(load_config().get("au-production"))


class Alarms:
    def __init__(self) -> None:
        self.cw = {role: boto3.client("cloudwatch", region_name=TOPO.region(role)) for role in (PRIMARY, DR)}
        self.topics: dict[tuple[str, int], str] = {}
        for role in (PRIMARY, DR):
            sns = boto3.client("sns", region_name=TOPO.region(role))
            for sev in (1, 2, 3, 4):
                self.topics[(role, sev)] = sns.create_topic(Name=f"{TOPO.prefix(role)}-sev{sev}")["TopicArn"]

    def add(
        self, role: str, name: str, description: str, topic_sev: int | None, metric: str = "CPUUtilization"
    ) -> None:
        actions = [self.topics[(role, topic_sev)]] if topic_sev else []
        self.cw[role].put_metric_alarm(
            AlarmName=name,
            AlarmDescription=description,
            MetricName=metric,
            Namespace="AWS/RDS",
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=80,
            ComparisonOperator="GreaterThanThreshold",
            AlarmActions=actions,
            OKActions=actions,
        )

    def state(self, role: str, name: str, value: str) -> None:
        self.cw[role].set_alarm_state(AlarmName=name, StateValue=value, StateReason="test")


@pytest.fixture
def alarms() -> Iterator[Alarms]:
    with mock_aws():
        world = Alarms()
        world.add(PRIMARY, "au-production-primary-data-PostgresCpu-1A", "Sev2: PostgreSQL CPU above 80%", 2)
        world.add(PRIMARY, "au-production-primary-data-Storage-1B", "Sev1: free storage", 1, "FreeStorageSpace")
        world.add(DR, "au-production-dr-failover-switch", "Sev1: the failover switch (DR-1)", 1, "FailoverRequested")
        world.add(PRIMARY, "au-staging-primary-data-Other", "Sev1: not this deployment", 1)
        world.state(DR, "au-production-dr-failover-switch", "ALARM")
        yield world


def test_lists_every_alarm_of_both_regions_by_severity(alarms: Alarms) -> None:
    rows = list_alarms(TOPO, alarms.cw)
    assert [(r.severity, r.name) for r in rows] == [
        (1, "au-production-dr-failover-switch"),
        (1, "au-production-primary-data-Storage-1B"),
        (2, "au-production-primary-data-PostgresCpu-1A"),
    ]
    switch = rows[0]
    assert switch.state == "ALARM" and switch.paged and switch.region == TOPO.dr_region and not switch.problem
    assert "failover" in switch.first_steps and "storage" in rows[1].first_steps.lower()


def test_state_filter_and_one_region(alarms: Alarms) -> None:
    rows = list_alarms(TOPO, {DR: alarms.cw[DR]}, "ALARM")
    assert [r.name for r in rows] == ["au-production-dr-failover-switch"]


@pytest.mark.parametrize(
    ("description", "topic", "problem"),
    [
        ("PostgreSQL CPU", 2, "does not start with SevN:"),
        ("Sev1: misrouted", 3, "not sev1"),
        ("Sev2: silent", None, "[]"),
    ],
)
def test_an_alarm_without_a_correct_severity_route_is_a_problem(
    alarms: Alarms, description: str, topic: int | None, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    alarms.add(PRIMARY, "au-production-primary-web-Bad", description, topic)
    bad = next(r for r in list_alarms(TOPO, alarms.cw) if r.name.endswith("-Bad"))
    assert problem in bad.problem
    assert incident_response.main(["--deployment", "au-production"]) == EXIT_STEP_FAILED
    assert "au-production-primary-web-Bad" in capsys.readouterr().out


def test_cli_prints_the_matrix_and_a_rerun_prints_the_same(alarms: Alarms, capsys: pytest.CaptureFixture[str]) -> None:
    assert incident_response.main(["--deployment", "au-production"]) == EXIT_OK
    first = capsys.readouterr().out
    assert "Sev1 | 1 hour / 4 hours / 7 hours | yes" in first and "Sev3 | 72 hours / 7 days / 30 days" in first
    assert incident_response.main(["--deployment", "au-production"]) == EXIT_OK
    assert capsys.readouterr().out == first
    assert incident_response.main(["--deployment", "au-production", "--json", "--state", "ALARM"]) == EXIT_OK
    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["name"] == "au-production-dr-failover-switch"


def test_wrong_region_and_unknown_role_are_refused(alarms: Alarms) -> None:
    with pytest.raises(RefusedError, match="expected ap-southeast-2"):
        list_alarms(TOPO, {PRIMARY: alarms.cw[DR]})
    with pytest.raises(RefusedError, match="allowed: primary, dr"):
        list_alarms(TOPO, {"backup": alarms.cw[PRIMARY]})


def test_the_matrix_is_the_one_the_alarms_carry() -> None:
    from patterns.alerting import PAGED_SEVERITIES, RESPONSE_TIMES

    assert SEVERITY_MATRIX == RESPONSE_TIMES and PAGED == PAGED_SEVERITIES
    assert first_steps("x-BackupJobsFailed") != DEFAULT_STEPS and first_steps("x-unknown") == DEFAULT_STEPS
    # Issue 17 item 8: the certificate alarm of either region names the validation CNAME to recreate.
    assert "validation CNAME" in first_steps("au-production-dr-certificate-expiry", "DaysToExpiry")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "--deployment"),
        (["--deployment", "mars-production"], "allowed: au-production"),
        (["--deployment", "au-production", "--state", "FIRING"], "invalid choice: 'FIRING'"),
        (["--deployment", "au-production", "--role", "edge"], "invalid choice: 'edge'"),
    ],
)
def test_cli_refuses_bad_arguments(argv: list[str], message: str) -> None:
    result = run_runbook("incident_response", *argv)
    assert result.returncode == EXIT_REFUSED and message in result.stderr


def test_cli_help_names_the_clause() -> None:
    result = run_runbook("incident_response", "--help")
    assert result.returncode == 0 and "OPS-4" in result.stdout

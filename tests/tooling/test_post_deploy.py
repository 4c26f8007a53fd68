"""The post-deploy checks (tooling/post_deploy.py): each check passes and fails, the lookup role, the CLI.

moto has no TestDNSAnswer and no drift detection: those calls are pinned with a botocore Stubber
against the documented shapes (the Stubber also validates every request and response against
botocore's service model). The replica check runs against moto's RDS read replica, with the
ReplicaLag datapoints the test puts (RDS publishes them in AWS, moto does not); StatusInfos, which
moto does not model, is stubbed. No test sleeps: the drift wait runs on a fake clock.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from config import load_config
from config.topology import DR, PRIMARY, FailoverTopology
from runbooks.toolkit import EXIT_OK, EXIT_REFUSED, EXIT_STEP_FAILED
from tests.conftest import Stages
from tests.runbooks.conftest import FakeClock
from tooling import post_deploy
from tooling.post_deploy import Runtime, lookup_role_clients, main
from tooling.post_deploy_checks import DriftWait, check_drift, check_name, check_replica, stateful_stacks

PRODUCTION = FailoverTopology.of(load_config().get("au-production"))
DEVELOPMENT = FailoverTopology.of(load_config().get("au-development"))
WHEN = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
PRIMARY_ALB = "au-production-primary-alb-123.ap-southeast-2.elb.amazonaws.com"
DR_ALB = "au-production-dr-alb-456.ap-southeast-4.elb.amazonaws.com"
ADDRESSES = {PRIMARY_ALB: {"203.0.113.10", "203.0.113.11"}, DR_ALB: {"198.51.100.20", "198.51.100.21"}}
ZONE = "Z0123456789ABCDEFGHIJ"


def resolve(name: str) -> set[str]:
    return ADDRESSES.get(name, set())


def stubbed(service: str, region: str) -> tuple[Any, Stubber]:
    client = boto3.client(service, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


# -- name --------------------------------------------------------------------------------------------


def dns_answer(addresses: set[str], code: str = "NOERROR") -> dict[str, Any]:
    """TestDNSAnswer's response: for an alias record, the target's addresses in RecordData
    (https://docs.aws.amazon.com/Route53/latest/APIReference/API_TestDNSAnswer.html)."""
    return {
        "Nameserver": "ns-1.awsdns-01.org",
        "RecordName": PRODUCTION.domain_name,
        "RecordType": "A",
        "RecordData": sorted(addresses),
        "ResponseCode": code,
        "Protocol": "UDP",
    }


def name_stub(*answers: dict[str, Any]) -> tuple[Any, Stubber]:
    route53, stub = stubbed("route53", PRODUCTION.primary_region)
    question = {"HostedZoneId": ZONE, "RecordName": PRODUCTION.domain_name, "RecordType": "A"}
    for answer in answers:
        stub.add_response("test_dns_answer", answer, question)
    return route53, stub


def test_name_passes_when_route53_answers_with_the_primary_alb() -> None:
    route53, stub = name_stub(dns_answer({"203.0.113.11"}))
    result = check_name(route53, PRODUCTION, alb_dns_name=PRIMARY_ALB, zone_id=ZONE, resolve=resolve)
    assert result.passed, result.reason
    stub.assert_no_pending_responses()


def test_name_fails_when_the_name_answers_with_the_dr_alb() -> None:
    answer = dns_answer(ADDRESSES[DR_ALB])
    route53, _ = name_stub(answer, answer)
    result = check_name(route53, PRODUCTION, alb_dns_name=PRIMARY_ALB, zone_id=ZONE, resolve=resolve)
    assert not result.passed
    assert "198.51.100.20" in result.reason and PRIMARY_ALB in result.reason and "203.0.113.10" in result.reason


def test_name_fails_when_the_name_does_not_exist() -> None:
    answer = dns_answer(set(), code="NXDOMAIN")
    route53, _ = name_stub(answer, answer)
    result = check_name(route53, PRODUCTION, alb_dns_name=PRIMARY_ALB, zone_id=ZONE, resolve=resolve)
    assert not result.passed and "answers nothing (NXDOMAIN)" in result.reason


# -- drift -------------------------------------------------------------------------------------------

Status = dict[str, Any]


def status(stack: str, drift: str = "IN_SYNC", detection: str = "DETECTION_COMPLETE", **extra: Any) -> Status:
    """DescribeStackDriftDetectionStatus's response (API_DescribeStackDriftDetectionStatus.html)."""
    return {
        "StackId": f"arn:aws:cloudformation:ap-southeast-2:{PRODUCTION.account}:stack/{stack}/1",
        "StackDriftDetectionId": f"detection-{stack}",
        "StackDriftStatus": drift,
        "DetectionStatus": detection,
        "Timestamp": WHEN,
        **extra,
    }


IN_PROGRESS = {"drift": "UNKNOWN", "detection": "DETECTION_IN_PROGRESS"}


def deletion_protection_off(stack: str, logical: str) -> dict[str, Any]:
    """One StackResourceDrift (API_StackResourceDrift.html, API_PropertyDifference.html)."""
    return {
        "StackId": f"arn:aws:cloudformation:ap-southeast-2:{PRODUCTION.account}:stack/{stack}/1",
        "LogicalResourceId": logical,
        "PhysicalResourceId": PRODUCTION.db_instance_id(PRIMARY),
        "ResourceType": "AWS::RDS::DBInstance",
        "StackResourceDriftStatus": "MODIFIED",
        "PropertyDifferences": [
            {
                "PropertyPath": "/DeletionProtection",
                "ExpectedValue": "true",
                "ActualValue": "false",
                "DifferenceType": "NOT_EQUAL",
            }
        ],
        "Timestamp": WHEN,
    }


class DriftWorld:
    """Stubbed CloudFormation clients of both regions, each call scripted in the order the check makes them:
    every DetectStackDrift first, then rounds of DescribeStackDriftDetectionStatus over the stacks not
    finished yet, then DescribeStackResourceDrifts for each DRIFTED stack."""

    def __init__(self, stacks: Sequence[tuple[str, str]]) -> None:
        self.stacks = list(stacks)
        self.clients: dict[str, Any] = {}
        self.stubs: dict[str, Stubber] = {}
        for role in (PRIMARY, DR):
            self.clients[role], self.stubs[role] = stubbed("cloudformation", PRODUCTION.region(role))
        self.clock = FakeClock()

    def script(
        self,
        statuses: dict[str, list[Status]],
        drifts: dict[str, list[dict[str, Any]]] | None = None,
        missing: Sequence[str] = (),
    ) -> None:
        """`statuses`: each stack's successive answers (default: IN_SYNC at once); `drifts`: the pages of
        DescribeStackResourceDrifts of a DRIFTED stack; `missing`: stacks DetectStackDrift refuses."""
        role_of = dict((name, role) for role, name in self.stacks)
        for _, name in self.stacks:
            stub = self.stubs[role_of[name]]
            if name in missing:
                message = f"Stack with id {name} does not exist"
                stub.add_client_error("detect_stack_drift", "ValidationError", message, 400, {"StackName": name})
            else:
                stub.add_response(
                    "detect_stack_drift", {"StackDriftDetectionId": f"detection-{name}"}, {"StackName": name}
                )
        answers = {name: list(statuses.get(name, [status(name)])) for _, name in self.stacks if name not in missing}
        while any(answers.values()):
            for _, name in self.stacks:
                if answers.get(name):
                    answer = answers[name].pop(0)
                    self.stubs[role_of[name]].add_response(
                        "describe_stack_drift_detection_status", answer, {"StackDriftDetectionId": f"detection-{name}"}
                    )
                    if answer["DetectionStatus"] != "DETECTION_IN_PROGRESS":
                        answers[name] = []
        for name, pages in (drifts or {}).items():
            for index, page in enumerate(pages):
                expected = {"StackName": name, "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"]}
                if index:
                    expected["NextToken"] = f"page-{index}"
                body = {"StackResourceDrifts": page["drifts"]}
                if index < len(pages) - 1:
                    body["NextToken"] = f"page-{index + 1}"
                self.stubs[role_of[name]].add_response("describe_stack_resource_drifts", body, expected)

    def check(self, timeout_s: float = 900) -> Any:
        wait = DriftWait(timeout_s=timeout_s, poll_s=10, sleep=self.clock.sleep, clock=self.clock)
        result = check_drift(self.clients, self.stacks, wait=wait)
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()
        return result


DATA = "au-production-primary-data"


def test_drift_passes_when_every_stateful_stack_is_in_sync_after_polling() -> None:
    world = DriftWorld(stateful_stacks(PRODUCTION))
    world.script({DATA: [status(DATA, **IN_PROGRESS), status(DATA, **IN_PROGRESS), status(DATA)]})
    result = world.check()
    assert result.passed, result.reason
    assert result.reason == "8 stateful stacks IN_SYNC"
    assert world.clock.t == 20  # two polls waited for, on the fake clock


def test_drift_fails_on_a_drifted_data_stack_and_names_each_drifted_resource() -> None:
    world = DriftWorld(stateful_stacks(PRODUCTION))
    drifted = status(DATA, drift="DRIFTED", DriftedStackResourceCount=2)
    pages = [
        {"drifts": [deletion_protection_off(DATA, "Database")]},
        {"drifts": [deletion_protection_off(DATA, "Db2")]},
    ]
    world.script({DATA: [drifted]}, drifts={DATA: pages})
    result = world.check()
    assert not result.passed
    assert result.reason == f"{DATA} DRIFTED (2 resources)"
    resource_lines = [line for line in result.details if "Database (AWS::RDS::DBInstance" in line or "Db2" in line]
    assert len(resource_lines) == 2
    assert (
        "Database (AWS::RDS::DBInstance au-production-primary-postgres) MODIFIED: "
        "/DeletionProtection expected true, actual false (NOT_EQUAL)"
    ) in resource_lines[0]


def test_drift_detection_failed_is_not_a_pass() -> None:
    backup = "au-production-dr-backup"
    world = DriftWorld([(PRIMARY, DATA), (DR, backup)])
    reason = "Failed to detect drift on resource [Vault]: access denied"
    world.script({backup: [status(backup, detection="DETECTION_FAILED", DetectionStatusReason=reason)]})
    result = world.check()
    assert not result.passed
    assert result.reason == f"{backup} DETECTION_FAILED ({reason}); IN_SYNC where it could check"


def test_drift_detection_that_never_finishes_fails_after_the_bounded_wait() -> None:
    world = DriftWorld([(PRIMARY, DATA)])
    world.script({DATA: [status(DATA, **IN_PROGRESS)] * 4})  # polled at t = 0, 10, 20, 30
    result = world.check(timeout_s=30)
    assert not result.passed
    assert result.reason == f"{DATA} no result within 30 s (still DETECTION_IN_PROGRESS)"
    assert world.clock.t == 30


def test_drift_fails_for_a_stack_that_does_not_exist() -> None:
    world = DriftWorld([(PRIMARY, DATA), (DR, "au-production-dr-auditarchive")])
    world.script({}, missing=[DATA])
    result = world.check()
    assert not result.passed
    assert result.reason.startswith(f"{DATA} cannot start drift detection: ValidationError")
    assert "au-production-dr-auditarchive: IN_SYNC" in result.details


# -- the stateful stacks, against the synthesized assembly ---------------------------------------------

DATABASES_CACHES_VAULTS = ("AWS::RDS::DBInstance", "AWS::ElastiCache::ReplicationGroup", "AWS::Backup::BackupVault")


def test_the_stateful_stacks_are_deployed_stacks_that_hold_data(
    au_production: Stages, au_development: Stages, template_of: Callable[..., Any]
) -> None:
    for stages in (au_production, au_development):
        topology = FailoverTopology.of(stages[PRIMARY].deployment)
        checked = stateful_stacks(topology)
        deployed = {(role, stack.stack_name): stack for role, stage in stages.items() for stack in stage.stacks}
        for role, name in checked:
            assert (role, name) in deployed, f"{name} is not a stack of {topology.deployment}'s {role} stage"
            template = template_of(stages, role, deployed[(role, name)].node.id)
            assert any(template.find_resources(kind) for kind in (*DATABASES_CACHES_VAULTS, "AWS::S3::Bucket")), name
        for (role, name), stack in deployed.items():  # no database, cache or vault escapes the check
            template = template_of(stages, role, stack.node.id)
            if any(template.find_resources(kind) for kind in DATABASES_CACHES_VAULTS):
                assert (role, name) in checked, f"{name} holds a database, cache or vault but is not drift-checked"
    assert (DR, "au-production-dr-standbydata") in stateful_stacks(PRODUCTION)
    assert all(not name.endswith(("-storage", "-standbydata")) for _, name in stateful_stacks(DEVELOPMENT))


# -- replica (moto) ------------------------------------------------------------------------------------


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", PRODUCTION.account)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


def create_primary() -> None:
    boto3.client("rds", region_name=PRODUCTION.primary_region).create_db_instance(
        DBInstanceIdentifier=PRODUCTION.db_instance_id(PRIMARY),
        DBInstanceClass="db.r7g.large",
        Engine="postgres",
        AllocatedStorage=200,
        MasterUsername="app",
        MasterUserPassword="not-a-real-secret-1A!",
        StorageEncrypted=True,
    )


def create_replica() -> None:
    create_primary()
    boto3.client("rds", region_name=PRODUCTION.dr_region).create_db_instance_read_replica(
        DBInstanceIdentifier=PRODUCTION.db_instance_id(DR),
        SourceDBInstanceIdentifier=PRODUCTION.db_instance_arn(PRIMARY),
    )


def publish_lag(seconds: float) -> None:
    boto3.client("cloudwatch", region_name=PRODUCTION.dr_region).put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": PRODUCTION.db_instance_id(DR)}],
                "Value": seconds,
                "Timestamp": datetime.now(UTC),
            }
        ],
    )


def replica_check() -> Any:
    region = PRODUCTION.dr_region
    rds, cloudwatch = boto3.client("rds", region_name=region), boto3.client("cloudwatch", region_name=region)
    return check_replica(rds, cloudwatch, PRODUCTION, now=datetime.now(UTC))


def test_replica_passes_when_it_replicates_the_primary_within_the_design_rpo(aws: None) -> None:
    create_replica()
    publish_lag(4)
    result = replica_check()
    assert result.passed, result.reason
    assert result.reason.endswith("ReplicaLag 4 s <= the design RPO 60 s")


def test_replica_fails_when_its_lag_is_over_the_design_rpo(aws: None) -> None:
    create_replica()
    publish_lag(PRODUCTION.replica_lag_alarm_seconds + 1)  # within failover_max_lag_seconds, not within DR-1
    result = replica_check()
    assert not result.passed and "ReplicaLag 61 s > the design RPO 60 s (DR-1)" in result.reason


def test_replica_fails_when_its_lag_is_unknown(aws: None) -> None:
    create_replica()
    result = replica_check()
    assert not result.passed and "ReplicaLag unknown" in result.reason


def test_replica_fails_for_a_standalone_instance(aws: None) -> None:
    create_primary()
    boto3.client("rds", region_name=PRODUCTION.dr_region).create_db_instance(
        DBInstanceIdentifier=PRODUCTION.db_instance_id(DR),
        DBInstanceClass="db.r7g.large",
        Engine="postgres",
        AllocatedStorage=200,
        MasterUsername="app",
        MasterUserPassword="not-a-real-secret-1A!",
    )
    publish_lag(0)
    result = replica_check()
    assert not result.passed and "is a standalone instance, not a read replica" in result.reason


def test_replica_fails_when_it_is_missing(aws: None) -> None:
    result = replica_check()
    assert not result.passed and result.reason == f"au-production-dr-postgres not found in {PRODUCTION.dr_region}"


def replica_answer(source: str, **extra: Any) -> dict[str, Any]:
    instance = {"DBInstanceIdentifier": PRODUCTION.db_instance_id(DR), "ReadReplicaSourceDBInstanceIdentifier": source}
    return {"DBInstances": [{**instance, **extra}]}


def test_replica_fails_when_it_replicates_another_source() -> None:
    rds, stub = stubbed("rds", PRODUCTION.dr_region)
    other = f"arn:aws:rds:ap-southeast-2:{PRODUCTION.account}:db:someone-elses-postgres"
    stub.add_response("describe_db_instances", replica_answer(other))
    result = check_replica(rds, None, PRODUCTION, now=WHEN)
    assert not result.passed and f"replicates {other}, not the primary" in result.reason


def test_replica_fails_when_rds_reports_read_replication_in_error() -> None:
    """StatusInfos (API_DBInstanceStatusInfo.html), which moto does not model."""
    rds, stub = stubbed("rds", PRODUCTION.dr_region)
    info = {"StatusType": "read replication", "Normal": False, "Status": "error", "Message": "WAL gap"}
    stub.add_response("describe_db_instances", replica_answer(PRODUCTION.db_instance_arn(PRIMARY), StatusInfos=[info]))
    result = check_replica(rds, None, PRODUCTION, now=WHEN)
    assert not result.passed and result.reason == "au-production-dr-postgres read replication error: WAL gap"


# -- the lookup role (moto STS) ------------------------------------------------------------------------


def test_the_lookup_role_is_assumed_per_region_and_builds_every_client(aws: None) -> None:
    clients = lookup_role_clients(PRODUCTION)
    account = PRODUCTION.account
    for region in (PRODUCTION.primary_region, PRODUCTION.dr_region):
        arn = clients("sts", region).get_caller_identity()["Arn"]
        role = f"cdk-hnb659fds-lookup-role-{account}-{region}"
        assert arn == f"arn:aws:sts::{account}:assumed-role/{role}/post-deploy-au-production"
    assert post_deploy.lookup_role_arn(account, "ap-southeast-4") == (
        f"arn:aws:iam::{account}:role/cdk-hnb659fds-lookup-role-{account}-ap-southeast-4"
    )


def test_the_cli_checks_through_the_lookup_role(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    create_replica()
    publish_lag(2)
    code = main(["--deployment", "au-production", "--checks", "replica", "--assume-lookup-role"])
    out = capsys.readouterr().out
    assert code == EXIT_OK, out
    assert "as the lookup role" in out and "[1/1] replica (DR-1) ... passed" in out


# -- the CLI -------------------------------------------------------------------------------------------

ENVIRON = {"PRIMARY_ALB_DNS_NAME": PRIMARY_ALB, "HOSTED_ZONE_ID": f"/hostedzone/{ZONE}"}


def cli_runtime(
    route53_answer: set[str],
    drift: dict[str, list[Status]] | None = None,
    pages: dict[str, list[dict[str, Any]]] | None = None,
) -> Any:
    """A runtime whose Route 53 and CloudFormation are stubbed and whose RDS and CloudWatch are moto's."""

    def runtime_for(topology: FailoverTopology, assume: bool) -> Runtime:
        route53, _ = name_stub(dns_answer(route53_answer), dns_answer(route53_answer))
        world = DriftWorld(stateful_stacks(topology))
        world.script(drift or {}, drifts=pages)

        def clients(service: str, region: str) -> Any:
            if service == "route53":
                return route53
            if service == "cloudformation":
                return world.clients[PRIMARY if region == topology.primary_region else DR]
            return boto3.client(service, region_name=region)

        wait = DriftWait(timeout_s=60, poll_s=10, sleep=world.clock.sleep, clock=world.clock)
        return Runtime(clients=clients, resolve=resolve, drift_wait=wait)

    return runtime_for


def test_the_cli_exits_0_when_every_check_passes(aws: None) -> None:
    create_replica()
    publish_lag(1)
    out = io.StringIO()
    code = main(["--deployment", "au-production"], environ=ENVIRON, runtime_for=cli_runtime({"203.0.113.10"}), out=out)
    assert code == EXIT_OK, out.getvalue()
    assert "3 of 3 checks passed" in out.getvalue() and "FAILED" not in out.getvalue()


def test_the_cli_exits_1_with_one_line_per_failed_check(aws: None) -> None:
    create_replica()  # no lag datapoint: unknown
    out = io.StringIO()
    drifted = {DATA: [status(DATA, drift="DRIFTED", DriftedStackResourceCount=1)]}
    pages = {DATA: [{"drifts": [deletion_protection_off(DATA, "Database")]}]}
    runtime = cli_runtime(ADDRESSES[DR_ALB], drift=drifted, pages=pages)
    code = main(["--deployment", "au-production"], environ=ENVIRON, runtime_for=runtime, out=out)
    failed = [line for line in out.getvalue().splitlines() if line.startswith("FAILED ")]
    assert code == EXIT_STEP_FAILED
    assert [line.split(" ")[1] for line in failed] == ["name", "drift", "replica"]
    assert failed[1] == f"FAILED drift (BAK-8, ACC-3, ACC-4): {DATA} DRIFTED (1 resources)"
    assert "/DeletionProtection expected true, actual false" in out.getvalue()
    assert "0 of 3 checks passed" in out.getvalue()


def test_the_cli_skips_the_replica_check_without_a_standby(aws: None) -> None:
    out = io.StringIO()
    code = main(["--deployment", "au-development", "--checks", "replica"], environ={}, out=out)
    assert code == EXIT_OK
    assert "replica (DR-1) ... skipped: the deployment has no warm standby" in out.getvalue()


def test_the_cli_options_win_over_the_environment(aws: None) -> None:
    out = io.StringIO()
    argv = ["--deployment", "au-production", "--checks", "name", "--primary-alb-dns-name", DR_ALB]
    code = main(argv, environ=ENVIRON, runtime_for=cli_runtime(ADDRESSES[DR_ALB]), out=out)
    assert code == EXIT_OK, out.getvalue()


@pytest.mark.parametrize("missing", ["PRIMARY_ALB_DNS_NAME", "HOSTED_ZONE_ID"])
def test_a_missing_stack_output_is_refused_naming_the_variable(
    missing: str, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = {k: v for k, v in ENVIRON.items() if k != missing}
    with pytest.raises(SystemExit) as exit_:
        main(["--deployment", "au-production", "--checks", "name,drift"], environ=environ)
    assert exit_.value.code == EXIT_REFUSED
    assert missing in capsys.readouterr().err


def test_an_unknown_check_is_refused_naming_the_allowed_values(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--deployment", "au-production", "--checks", "name,dns"], environ=ENVIRON)
    assert exit_.value.code == EXIT_REFUSED
    assert "unknown check dns: allowed name, drift, replica" in capsys.readouterr().err


def test_help_documents_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    options = [a for action in post_deploy.build_parser()._actions for a in action.option_strings]
    assert {"--deployment", "--config", "--checks", "--assume-lookup-role", "--drift-timeout"} <= set(options)
    for option in options:
        assert option in text
    assert "PRIMARY_ALB_DNS_NAME" in text and "HOSTED_ZONE_ID" in text

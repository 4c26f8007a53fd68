"""tooling/preflight/ against moto (mock_aws); the account API through a fake (moto 5.2.5: 404)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from config import Deployment, load_config
from patterns.encrypted_postgres import ENGINE_VERSION
from patterns.outside_probe import RUNTIME
from patterns.redis import ENGINE_VERSION as REDIS_VERSION
from tooling.bootstrap_policy import boundary_policy_name, execution_policy_name, policy_arn
from tooling.preflight import (
    ClientFactory,
    NamedResource,
    PreflightOptions,
    Status,
    check_bootstrap,
    check_cache_engine_version,
    check_cache_node_type,
    check_canary_runtime,
    check_config_recorder,
    check_db_engine_version,
    check_db_instance_class,
    check_delegation,
    check_ec2_vcpu_quota,
    check_instance_type_offerings,
    check_lambda_concurrency_quota,
    check_orphans,
    check_region_opt_in,
    check_session_document,
    check_user_email,
    failed,
    lambda_functions,
    named_resources,
    options_from_assembly,
    render_table,
    required_bootstrap_version,
    run_preflight,
)

PRIMARY = "ap-southeast-2"
DR = "ap-southeast-4"


@pytest.fixture(scope="module")
def deployment() -> Deployment:
    return load_config().get("au-production")


@pytest.fixture
def aws(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> Iterator[ClientFactory]:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", deployment.account)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():

        def factory(service: str, region: str) -> Any:
            if service == "account":
                return FakeAccount({PRIMARY: "ENABLED_BY_DEFAULT", DR: "ENABLED"})
            return boto3.client(service, region_name=region)

        yield factory


class FakeAccount:
    def __init__(self, states: dict[str, str]) -> None:
        self.states = states

    def get_region_opt_status(self, RegionName: str) -> dict[str, str]:  # noqa: N803 - boto3's name
        return {"RegionName": RegionName, "RegionOptStatus": self.states[RegionName]}


# --- (a) region opt-in


@pytest.mark.parametrize("state", ["ENABLED", "ENABLED_BY_DEFAULT"])
def test_opt_in_enabled_is_ok(state: str) -> None:
    assert check_region_opt_in(FakeAccount({DR: state}), DR).status is Status.OK


@pytest.mark.parametrize("state", ["DISABLED", "DISABLING"])
def test_opt_in_disabled_fails_with_the_enable_command(state: str) -> None:
    result = check_region_opt_in(FakeAccount({DR: state}), DR, PreflightOptions(profile="p"))
    assert result.status is Status.FAIL
    assert "aws account enable-region --region-name ap-southeast-4 --profile p" in result.remedy


def test_opt_in_enabling_fails_and_says_wait() -> None:
    result = check_region_opt_in(FakeAccount({DR: "ENABLING"}), DR)
    assert result.status is Status.FAIL and "wait" in result.remedy


def test_moto_does_not_implement_get_region_opt_status(aws: ClientFactory) -> None:
    """Why the tests inject a fake: the real client against moto is reported unverifiable."""
    result = check_region_opt_in(boto3.client("account", region_name="us-east-1"), DR)
    assert result.status is Status.WARN


# --- (b) SSM-SessionManagerRunShell


def _create_session_document(region: str) -> None:
    boto3.client("ssm", region_name=region).create_document(
        Name="SSM-SessionManagerRunShell",
        DocumentType="Session",
        DocumentFormat="JSON",
        Content=json.dumps({"schemaVersion": "1.0", "description": "console", "sessionType": "Standard_Stream"}),
    )


def test_no_session_document_is_ok(aws: ClientFactory) -> None:
    options = PreflightOptions(session_document_regions=frozenset({PRIMARY}))
    assert check_session_document(aws("ssm", PRIMARY), PRIMARY, options).status is Status.OK


def test_existing_session_document_is_information_when_stacks_do_not_create_it(aws: ClientFactory) -> None:
    _create_session_document(PRIMARY)
    result = check_session_document(aws("ssm", PRIMARY), PRIMARY, PreflightOptions())
    assert result.status is Status.OK and "exists" in result.message and "information" in result.message


def test_existing_session_document_fails_when_stacks_create_it(aws: ClientFactory) -> None:
    _create_session_document(PRIMARY)
    options = PreflightOptions(session_document_regions=frozenset({PRIMARY}))
    result = check_session_document(aws("ssm", PRIMARY), PRIMARY, options)
    assert result.status is Status.FAIL
    assert "aws ssm delete-document --name SSM-SessionManagerRunShell --region ap-southeast-2" in result.remedy


# --- (c) AWS Config recorder


def _recorder(region: str, *, start: bool, all_supported: bool = True) -> None:
    config = boto3.client("config", region_name=region)
    group: dict[str, Any] = (
        {"allSupported": True, "includeGlobalResourceTypes": False}
        if all_supported
        else {"allSupported": False, "resourceTypes": ["AWS::S3::Bucket"]}
    )
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": "arn:aws:iam::111111111111:role/config",
            "recordingGroup": group,
        }
    )
    boto3.client("s3", region_name=region).create_bucket(
        Bucket=f"config-{region}", CreateBucketConfiguration={"LocationConstraint": region}
    )
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": f"config-{region}"})
    if start:
        config.start_configuration_recorder(ConfigurationRecorderName="default")


def test_no_config_recorder_fails(aws: ClientFactory) -> None:
    assert check_config_recorder(aws("config", DR), DR).status is Status.FAIL


def test_stopped_config_recorder_fails(aws: ClientFactory) -> None:
    _recorder(DR, start=False)
    result = check_config_recorder(aws("config", DR), DR)
    assert result.status is Status.FAIL and "not recording" in result.message


def test_recording_config_recorder_is_ok(aws: ClientFactory) -> None:
    _recorder(DR, start=True)
    assert check_config_recorder(aws("config", DR), DR).status is Status.OK


def test_recorder_without_backup_types_warns(aws: ClientFactory) -> None:
    _recorder(DR, start=True, all_supported=False)
    assert check_config_recorder(aws("config", DR), DR).status is Status.WARN


# --- (d) CDK bootstrap


def _toolkit(region: str, version: str, policies: str, boundary: str = "", list_type: str = "String") -> None:
    template = {
        "Parameters": {
            # The real bootstrap template declares a CommaDelimitedList and DescribeStacks returns the
            # comma-separated text (String here); moto 5.2.5 renders a CommaDelimitedList as a Python repr.
            "CloudFormationExecutionPolicies": {"Type": list_type, "Default": ""},
            "InputPermissionsBoundary": {"Type": "String", "Default": ""},
        },
        "Resources": {
            "Version": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Name": "/cdk-bootstrap/hnb659fds/version", "Type": "String", "Value": version},
            }
        },
        "Outputs": {"BootstrapVersion": {"Value": version}},
    }
    boto3.client("cloudformation", region_name=region).create_stack(
        StackName="CDKToolkit",
        TemplateBody=json.dumps(template),
        Parameters=[
            {"ParameterKey": "CloudFormationExecutionPolicies", "ParameterValue": policies},
            {"ParameterKey": "InputPermissionsBoundary", "ParameterValue": boundary},
        ],
    )


def test_bootstrap_missing_fails_or_warns_when_the_run_bootstraps(aws: ClientFactory, deployment: Deployment) -> None:
    cfn = aws("cloudformation", PRIMARY)
    assert check_bootstrap(cfn, PRIMARY, deployment).status is Status.FAIL
    assert check_bootstrap(cfn, PRIMARY, deployment, PreflightOptions(bootstrap_pending=True)).status is Status.WARN


def test_bootstrap_with_administrator_access_fails(aws: ClientFactory, deployment: Deployment) -> None:
    _toolkit(PRIMARY, "30", "arn:aws:iam::aws:policy/AdministratorAccess")
    result = check_bootstrap(aws("cloudformation", PRIMARY), PRIMARY, deployment)
    assert result.status is Status.FAIL and "AdministratorAccess" in result.message


def test_bootstrap_too_old_fails(aws: ClientFactory, deployment: Deployment) -> None:
    scoped = policy_arn(deployment, execution_policy_name(deployment))
    _toolkit(PRIMARY, "5", scoped, boundary_policy_name(deployment))
    result = check_bootstrap(
        aws("cloudformation", PRIMARY), PRIMARY, deployment, PreflightOptions(required_bootstrap_version=8)
    )
    assert result.status is Status.FAIL and "BootstrapVersion 5 < 8" in result.message


@pytest.mark.parametrize("list_type", ["String", "CommaDelimitedList"])
def test_bootstrap_scoped_and_current_is_ok(aws: ClientFactory, deployment: Deployment, list_type: str) -> None:
    scoped = policy_arn(deployment, execution_policy_name(deployment))
    _toolkit(
        PRIMARY, "30", f"{scoped},arn:aws:iam::aws:policy/ReadOnlyAccess", boundary_policy_name(deployment), list_type
    )
    result = check_bootstrap(
        aws("cloudformation", PRIMARY), PRIMARY, deployment, PreflightOptions(required_bootstrap_version=8)
    )
    assert result.status is Status.OK, result


# --- (e) delegation


def _zone(domain: str) -> list[str]:
    route53 = boto3.client("route53", region_name="us-east-1")
    zone = route53.create_hosted_zone(
        Name=domain, CallerReference=f"ref-{len(route53.list_hosted_zones()['HostedZones'])}"
    )
    return list(zone["DelegationSet"]["NameServers"])


def test_delegation_ok_when_the_parent_publishes_the_zone_name_servers(
    aws: ClientFactory, deployment: Deployment
) -> None:
    servers = _zone(deployment.domain_name)
    result = check_delegation(aws("route53", "us-east-1"), deployment, lambda _: {f"{s}." for s in servers})
    assert result.status is Status.OK


def test_delegation_fails_with_the_records_to_publish(aws: ClientFactory, deployment: Deployment) -> None:
    servers = _zone(deployment.domain_name)
    result = check_delegation(aws("route53", "us-east-1"), deployment, lambda _: {"ns1.parking.example."})
    assert result.status is Status.FAIL
    assert all(s.lower().rstrip(".") in result.remedy for s in servers)


def test_delegation_without_a_resolver_is_unverified(aws: ClientFactory, deployment: Deployment) -> None:
    _zone(deployment.domain_name)
    result = check_delegation(aws("route53", "us-east-1"), deployment, None)
    assert result.status is Status.WARN and "unverified" in result.message


def test_missing_zone_warns_and_duplicate_zones_fail(aws: ClientFactory, deployment: Deployment) -> None:
    route53 = aws("route53", "us-east-1")
    assert check_delegation(route53, deployment, lambda _: set()).status is Status.WARN
    _zone(deployment.domain_name)
    _zone(deployment.domain_name)
    assert check_delegation(route53, deployment, lambda _: set()).status is Status.FAIL


# --- retained orphans (item 6)

CONTENT = "au-production-primary-content-111111111111"


def _named(deployment: Deployment) -> tuple[NamedResource, ...]:
    stage = f"{deployment.name}-primary"
    return (
        NamedResource(PRIMARY, f"{stage}-data", f"{stage}/Data", "ContentBucket", "AWS::S3::Bucket", CONTENT),
        NamedResource(
            PRIMARY,
            f"{stage}-data",
            f"{stage}/Data",
            "PostgresLogs",
            "AWS::Logs::LogGroup",
            f"/aws/rds/instance/{stage}-postgres/postgresql",
        ),
    )


def test_no_orphans_is_ok(aws: ClientFactory, deployment: Deployment) -> None:
    results = check_orphans(aws, PRIMARY, deployment, PreflightOptions(named_resources=_named(deployment)))
    assert [r.status for r in results] == [Status.OK]


def test_orphans_outside_any_stack_fail_with_import_or_remove_commands(
    aws: ClientFactory, deployment: Deployment
) -> None:
    stage = f"{deployment.name}-primary"
    boto3.client("s3", region_name=PRIMARY).create_bucket(
        Bucket=CONTENT, CreateBucketConfiguration={"LocationConstraint": PRIMARY}
    )
    boto3.client("backup", region_name=PRIMARY).create_backup_vault(BackupVaultName=f"{stage}-vault")
    boto3.client("logs", region_name=PRIMARY).create_log_group(
        logGroupName=f"/aws/rds/instance/{stage}-postgres/postgresql"
    )
    boto3.client("secretsmanager", region_name=PRIMARY).create_secret(Name=f"{stage}-postgres/master", SecretString="x")
    options = PreflightOptions(named_resources=_named(deployment), profile="p")
    results = {r.message.split(" ")[1]: r for r in check_orphans(aws, PRIMARY, deployment, options)}
    assert set(results) == {
        CONTENT,
        f"{stage}-vault",
        f"/aws/rds/instance/{stage}-postgres/postgresql",
        f"{stage}-postgres/master",
    }
    assert all(r.status is Status.FAIL for r in results.values())
    bucket = results[CONTENT].remedy
    assert f"aws s3 rb s3://{CONTENT} --region {PRIMARY} --profile p" in bucket
    assert f"npx cdk deploy --app cdk.out --exclusively {stage}/Data --import-existing-resources --profile p" in bucket
    assert f"aws backup delete-backup-vault --backup-vault-name {stage}-vault" in results[f"{stage}-vault"].remedy
    assert "aws logs delete-log-group" in results[f"/aws/rds/instance/{stage}-postgres/postgresql"].remedy
    assert "aws secretsmanager delete-secret" in results[f"{stage}-postgres/master"].remedy


def test_resources_of_a_live_stack_are_not_orphans(aws: ClientFactory, deployment: Deployment) -> None:
    template = {
        "Resources": {
            "ContentBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": CONTENT}},
            "PostgresLogs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": f"/aws/rds/instance/{deployment.name}-primary-postgres/postgresql"},
            },
        }
    }
    boto3.client("cloudformation", region_name=PRIMARY).create_stack(
        StackName=f"{deployment.name}-primary-data", TemplateBody=json.dumps(template)
    )
    results = check_orphans(aws, PRIMARY, deployment, PreflightOptions(named_resources=_named(deployment)))
    assert [r.status for r in results] == [Status.OK], render_table(results)


# --- issue 17 item 3: what a failed first create keeps (DeletionPolicy Retain, patterns/retention.py)

DB = "au-production-primary-postgres"


def _kept(deployment: Deployment) -> tuple[NamedResource, ...]:
    stage = f"{deployment.name}-primary"

    def named(stack: str, logical_id: str, kind: str, name: str) -> NamedResource:
        return NamedResource(PRIMARY, f"{stage}-{stack.lower()}", f"{stage}/{stack}", logical_id, kind, name)

    return (
        named("Data", "PostgresInstance", "AWS::RDS::DBInstance", DB),
        named("Audit", "AuditTrail", "AWS::CloudTrail::Trail", f"{deployment.name}-audit"),
        named("Access", "TeamBoundary", "AWS::IAM::ManagedPolicy", f"{deployment.name}-team-boundary"),
        named("Identity", "Users", "AWS::Cognito::UserPool", f"{deployment.name}-users"),
    )


def _tags(deployment: Deployment) -> list[dict[str, str]]:
    return [
        {"Key": "environment", "Value": deployment.environment.value},
        {"Key": "jurisdiction", "Value": deployment.jurisdiction},
    ]


def _leftovers(deployment: Deployment) -> dict[str, str]:
    """What a rolled-back create of the Data, Audit, Access, Identity and Web stacks keeps."""
    tags = _tags(deployment)
    ec2 = boto3.client("ec2", region_name=PRIMARY)
    vpc = ec2.create_vpc(CidrBlock="10.16.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.16.{i}.0/24", AvailabilityZone=f"{PRIMARY}{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in ((1, "a"), (2, "b"))
    ]
    group = ec2.create_security_group(
        GroupName=f"{deployment.name}-primary-data-PostgresSecurityGroup-ABC",
        Description="PostgreSQL clients only",
        VpcId=vpc,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": tags}],
    )["GroupId"]
    rds = boto3.client("rds", region_name=PRIMARY)
    subnet_group = f"{deployment.name}-primary-data-postgresinstancesubnetgroup-abc"
    rds.create_db_subnet_group(
        DBSubnetGroupName=subnet_group, DBSubnetGroupDescription="isolated", SubnetIds=subnets, Tags=tags
    )
    parameters = f"{deployment.name}-primary-data-postgresparameters-abc"
    rds.create_db_parameter_group(
        DBParameterGroupName=parameters, DBParameterGroupFamily="postgres17", Description="TLS only", Tags=tags
    )
    rds.create_db_instance(
        DBInstanceIdentifier=DB,
        DBInstanceClass="db.r7g.large",
        Engine="postgres",
        MasterUsername="dbadmin",
        MasterUserPassword="not-a-real-one-1",
        AllocatedStorage=20,
        DeletionProtection=True,
        DBSubnetGroupName=subnet_group,
        Tags=tags,
    )
    key = boto3.client("kms", region_name=PRIMARY).create_key(
        Tags=[{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags]
    )["KeyMetadata"]["KeyId"]
    balancer = boto3.client("elbv2", region_name=PRIMARY).create_load_balancer(
        Name="au-pro-WebTi-1ABC", Subnets=subnets, SecurityGroups=[group], Tags=tags
    )["LoadBalancers"][0]["LoadBalancerArn"]
    trail_bucket = f"{deployment.name}-primary-trail-{deployment.account}"
    boto3.client("s3", region_name=PRIMARY).create_bucket(
        Bucket=trail_bucket, CreateBucketConfiguration={"LocationConstraint": PRIMARY}
    )
    boto3.client("cloudtrail", region_name=PRIMARY).create_trail(
        Name=f"{deployment.name}-audit", S3BucketName=trail_bucket, IsMultiRegionTrail=True
    )
    policy = boto3.client("iam", region_name=PRIMARY).create_policy(
        PolicyName=f"{deployment.name}-team-boundary",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]
    pool = boto3.client("cognito-idp", region_name=PRIMARY).create_user_pool(PoolName=f"{deployment.name}-users")[
        "UserPool"
    ]["Id"]
    return {
        "group": group,
        "subnet_group": subnet_group,
        "parameters": parameters,
        "key": key,
        "balancer": balancer,
        "bucket": trail_bucket,
        "policy": policy,
        "pool": pool,
    }


def test_a_kept_database_outside_any_stack_fails_with_the_commands_that_remove_it(
    aws: ClientFactory, deployment: Deployment
) -> None:
    left = _leftovers(deployment)
    options = PreflightOptions(named_resources=_kept(deployment), profile="p")
    results = check_orphans(aws, PRIMARY, deployment, options)
    by_name = {r.message.split(" ")[1]: r for r in results}
    database = by_name[DB]
    assert database.status is Status.FAIL
    assert database.message.startswith(f"AWS::RDS::DBInstance {DB} exists outside any stack")
    assert (
        f"aws rds modify-db-instance --db-instance-identifier {DB} --no-deletion-protection --apply-immediately "
        f"--region {PRIMARY} --profile p && aws rds delete-db-instance --db-instance-identifier {DB} "
        "--skip-final-snapshot --delete-automated-backups" in database.remedy
    )
    assert "adopt" not in database.remedy  # adopting it would keep the rolled-back create's security group
    trail = by_name[f"{deployment.name}-audit"]
    assert trail.status is Status.FAIL
    assert f"aws cloudtrail delete-trail --name {deployment.name}-audit" in trail.remedy
    assert "--import-existing-resources" in trail.remedy
    boundary = by_name[f"{deployment.name}-team-boundary"]
    assert boundary.status is Status.FAIL and f"aws iam delete-policy --policy-arn {left['policy']}" in boundary.remedy
    pool = by_name[f"{deployment.name}-users"]
    assert pool.status is Status.WARN  # pool names are not unique: the retry makes a second one
    assert f"--user-pool-id {left['pool']} --deletion-protection INACTIVE" in pool.remedy
    # Kept without a name of ours: by the deployment's tags or CloudFormation's generated name.
    assert by_name[left["key"]].status is Status.WARN
    assert (
        f"aws kms schedule-key-deletion --key-id {left['key']} --pending-window-in-days 30"
        in by_name[left["key"]].remedy
    )
    assert "deletion_protection.enabled,Value=false" in by_name[left["balancer"]].remedy
    assert f"aws ec2 delete-security-group --group-id {left['group']}" in by_name[left["group"]].remedy
    assert "aws rds delete-db-subnet-group" in by_name[left["subnet_group"]].remedy
    assert "aws rds delete-db-parameter-group" in by_name[left["parameters"]].remedy
    assert by_name[left["bucket"]].status is Status.FAIL  # a bucket of the deployment's naming scheme


def test_kept_resources_of_live_stacks_and_keys_pending_deletion_are_not_orphans(
    aws: ClientFactory, deployment: Deployment
) -> None:
    tags = _tags(deployment)
    template = {
        "Resources": {
            "PostgresInstance": {
                "Type": "AWS::RDS::DBInstance",
                "Properties": {
                    "DBInstanceIdentifier": DB,
                    "DBInstanceClass": "db.r7g.large",
                    "Engine": "postgres",
                    "MasterUsername": "dbadmin",
                    "MasterUserPassword": "not-a-real-one-1",
                    "AllocatedStorage": "20",
                },
            },
        }
    }
    boto3.client("cloudformation", region_name=PRIMARY).create_stack(
        StackName=f"{deployment.name}-primary-data", TemplateBody=json.dumps(template)
    )
    kms = boto3.client("kms", region_name=PRIMARY)
    pending = kms.create_key(Tags=[{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags])["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=pending, PendingWindowInDays=7)
    results = check_orphans(aws, PRIMARY, deployment, PreflightOptions(named_resources=_kept(deployment)))
    assert [r.status for r in results] == [Status.OK], render_table(results)


# --- issue 17 items 1 and 2: what the account's regions offer. moto 5.2.5 has no Synthetics
# DescribeRuntimeVersions and answers DescribeOrderableDBInstanceOptions for Aurora/Neptune only,
# so both are pinned with Stubber against the API models (which validate request and response).

NOW = datetime(2026, 6, 1, tzinfo=UTC)
CANARY_RUNTIME = str(RUNTIME.name)
PG_VERSION = str(ENGINE_VERSION.postgres_full_version)


def _synthetics(region: str, versions: list[dict[str, Any]]) -> Any:
    client = boto3.client("synthetics", region_name=region)
    stubber = Stubber(client)
    stubber.add_response("describe_runtime_versions", {"RuntimeVersions": versions}, {})
    stubber.activate()
    return client


def _runtime(name: str, deprecation: datetime | None = None) -> dict[str, Any]:
    version: dict[str, Any] = {
        "VersionName": name,
        "Description": "Lambda runtime Node.js 22.x",
        "ReleaseDate": datetime(2025, 11, 1, tzinfo=UTC),
    }
    if deprecation is not None:
        version["DeprecationDate"] = deprecation
    return version


def _rds(
    region: str, instance_class: str, offers: list[dict[str, Any]], engine: list[dict[str, Any]] | None = None
) -> Any:
    """RDS answering the engine-version check (when `engine` is given, the runner's order) and the class check."""
    client = boto3.client("rds", region_name=region)
    stubber = Stubber(client)
    if engine is not None:
        asked = {"Engine": "postgres", "EngineVersion": PG_VERSION, "IncludeAll": True}
        stubber.add_response("describe_db_engine_versions", {"DBEngineVersions": engine}, asked)
    expected = {"Engine": "postgres", "EngineVersion": PG_VERSION, "DBInstanceClass": instance_class}
    stubber.add_response("describe_orderable_db_instance_options", {"OrderableDBInstanceOptions": offers}, expected)
    stubber.activate()
    return client


def _engine(version: str = PG_VERSION, status: str = "available") -> dict[str, Any]:
    """One DBEngineVersion as DescribeDBEngineVersions documents it (Status: available | deprecated)."""
    return {
        "Engine": "postgres",
        "EngineVersion": version,
        "MajorEngineVersion": version.split(".")[0],
        "DBParameterGroupFamily": f"postgres{version.split('.')[0]}",
        "DBEngineDescription": "PostgreSQL",
        "DBEngineVersionDescription": f"PostgreSQL {version}-R1",
        "Status": status,
        "SupportsReadReplica": True,
    }


def _engine_only(region: str, versions: list[dict[str, Any]]) -> Any:
    client = boto3.client("rds", region_name=region)
    stubber = Stubber(client)
    asked = {"Engine": "postgres", "EngineVersion": PG_VERSION, "IncludeAll": True}
    stubber.add_response("describe_db_engine_versions", {"DBEngineVersions": versions}, asked)
    stubber.activate()
    return client


def _elasticache(region: str, versions: list[str] | None, node_types: dict[str, list[str]] | None = None) -> Any:
    """Stubbed ElastiCache: the engine versions (unless None), then, per node type asked, the reserved
    offerings sold."""
    client = boto3.client("elasticache", region_name=region)
    stubber = Stubber(client)
    answer = {
        "CacheEngineVersions": [
            {"Engine": "redis", "EngineVersion": v, "CacheParameterGroupFamily": f"redis{v}"} for v in versions or []
        ]
    }
    if versions is not None:
        stubber.add_response(
            "describe_cache_engine_versions", answer, {"Engine": "redis", "EngineVersion": REDIS_VERSION}
        )
    for node_type, sold in (node_types or {}).items():
        offers = [
            {"ReservedCacheNodesOfferingId": f"offer-{t}", "CacheNodeType": t, "Duration": 31536000} for t in sold
        ]
        expected = {"CacheNodeType": node_type, "MaxRecords": 20}
        stubber.add_response(
            "describe_reserved_cache_nodes_offerings", {"ReservedCacheNodesOfferings": offers}, expected
        )
    stubber.activate()
    return client


def _offer(instance_class: str, *, multi_az: bool = True, encrypted: bool = True) -> dict[str, Any]:
    return {
        "Engine": "postgres",
        "EngineVersion": PG_VERSION,
        "DBInstanceClass": instance_class,
        "MultiAZCapable": multi_az,
        "SupportsStorageEncryption": encrypted,
        "StorageType": "gp3",
    }


@pytest.mark.parametrize("region", [PRIMARY, DR])
def test_canary_runtime_current_in_both_regions_is_ok(region: str) -> None:
    synthetics = _synthetics(region, [_runtime("syn-nodejs-puppeteer-9.1", NOW), _runtime(CANARY_RUNTIME)])
    result = check_canary_runtime(synthetics, region, now=NOW)
    assert result.status is Status.OK and CANARY_RUNTIME in result.message


def test_canary_runtime_past_its_deprecation_date_fails() -> None:
    synthetics = _synthetics(DR, [_runtime(CANARY_RUNTIME, datetime(2026, 5, 31, tzinfo=UTC))])
    result = check_canary_runtime(synthetics, DR, now=NOW, options=PreflightOptions(profile="p"))
    assert result.status is Status.FAIL and "deprecated since 2026-05-31" in result.message
    assert "aws synthetics describe-runtime-versions --region ap-southeast-4 --profile p" in result.remedy


def test_canary_runtime_deprecated_soon_warns_and_unknown_fails() -> None:
    soon = _synthetics(DR, [_runtime(CANARY_RUNTIME, datetime(2026, 7, 1, tzinfo=UTC))])
    assert check_canary_runtime(soon, DR, now=NOW).status is Status.WARN
    missing = _synthetics(DR, [_runtime("syn-nodejs-puppeteer-9.1")])
    result = check_canary_runtime(missing, DR, now=NOW)
    assert result.status is Status.FAIL and "not offered" in result.message


def test_the_shipped_runtime_was_not_deprecated_by_9_1s_date() -> None:
    """The runtime 9.1 was replaced for: a 9.1 past its date fails, the shipped one passes (same answer)."""
    answer = [_runtime("syn-nodejs-puppeteer-9.1", NOW), _runtime(CANARY_RUNTIME)]
    assert check_canary_runtime(_synthetics(DR, answer), DR, "syn-nodejs-puppeteer-9.1", NOW).status is Status.FAIL
    assert check_canary_runtime(_synthetics(DR, answer), DR, now=NOW).status is Status.OK


def test_database_class_orderable_in_each_region_is_ok(deployment: Deployment) -> None:
    for region in deployment.regions:
        instance_class = deployment.db_instance_class_for(region)
        result = check_db_instance_class(_rds(region, instance_class, [_offer(instance_class)]), region, deployment)
        assert result.status is Status.OK, result
    assert deployment.db_instance_class_for(DR) == "db.r6g.large"  # Melbourne: no db.r7g for PostgreSQL


def test_database_class_not_orderable_fails_with_the_listing_command(deployment: Deployment) -> None:
    rds = _rds(DR, "db.r6g.large", [])
    result = check_db_instance_class(rds, DR, deployment, options=PreflightOptions(profile="p"))
    assert result.status is Status.FAIL and "not orderable" in result.message
    assert f"--engine postgres --engine-version {PG_VERSION} --region {DR} --profile p" in result.remedy
    assert 'region_sizing."ap-southeast-4"' in result.remedy


def test_database_class_without_multi_az_or_encryption_fails(deployment: Deployment) -> None:
    single = _rds(PRIMARY, "db.r7g.large", [_offer("db.r7g.large", multi_az=False)])
    assert check_db_instance_class(single, PRIMARY, deployment).status is Status.FAIL
    plain = _rds(DR, "db.r6g.large", [_offer("db.r6g.large", encrypted=False)])
    assert check_db_instance_class(plain, DR, deployment).status is Status.FAIL


# --- issue 17 item 11: engine versions RDS and ElastiCache still create. moto 5.2.5 implements
# neither DescribeDBEngineVersions nor DescribeCacheEngineVersions: Stubber against the API models.


@pytest.mark.parametrize("region", [PRIMARY, DR])
def test_db_engine_version_available_in_both_regions_is_ok(region: str) -> None:
    result = check_db_engine_version(_engine_only(region, [_engine()]), region)
    assert result.status is Status.OK and PG_VERSION in result.message


def test_db_engine_version_deprecated_fails_with_the_listing_command() -> None:
    rds = _engine_only(DR, [_engine(status="deprecated")])
    result = check_db_engine_version(rds, DR, options=PreflightOptions(profile="p"))
    assert result.status is Status.FAIL and "deprecated" in result.message
    assert f"aws rds describe-db-engine-versions --engine postgres --region {DR} --profile p" in result.remedy


def test_db_engine_version_not_offered_fails() -> None:
    result = check_db_engine_version(_engine_only(DR, []), DR)
    assert result.status is Status.FAIL and "not offered" in result.message


def test_cache_engine_version_offered_is_ok_and_missing_fails() -> None:
    assert check_cache_engine_version(_elasticache(DR, [REDIS_VERSION]), DR).status is Status.OK
    missing = check_cache_engine_version(_elasticache(DR, ["7.0"]), DR)
    assert missing.status is Status.FAIL and "describe-cache-engine-versions --engine redis" in missing.remedy


# --- issue 17 item 9: service quotas of a fresh account. moto 5.2.5 answers Service Quotas for the
# vpc service only (NoSuchResource for ec2 and lambda), so the quota calls are pinned with Stubber;
# EC2's DescribeInstanceTypes is moto's.

EC2_QUOTA = {"ServiceCode": "ec2", "QuotaCode": "L-1216C47A"}
LAMBDA_QUOTA = {"ServiceCode": "lambda", "QuotaCode": "L-B99A9384"}


def _quota(code: dict[str, str], value: float) -> dict[str, Any]:
    return {"Quota": {**code, "QuotaName": "a quota", "Value": value, "Adjustable": True, "GlobalQuota": False}}


def _quotas(region: str, *answers: tuple[dict[str, str], float | None, float | None]) -> Any:
    """Per quota asked, in order: (code, applied value or None for NoSuchResourceException, default)."""
    client = boto3.client("service-quotas", region_name=region)
    stubber = Stubber(client)
    for code, applied, default in answers:
        if applied is not None:
            stubber.add_response("get_service_quota", _quota(code, applied), code)
            continue
        stubber.add_client_error("get_service_quota", "NoSuchResourceException", "no applied value", 400, None, code)
        stubber.add_response("get_aws_default_service_quota", _quota(code, float(default or 0)), code)
    stubber.activate()
    return client


def test_moto_answers_no_ec2_or_lambda_quota(aws: ClientFactory) -> None:
    """Why the quota calls are stubbed."""
    with pytest.raises(ClientError):
        aws("service-quotas", PRIMARY).get_service_quota(**EC2_QUOTA)


@pytest.mark.parametrize("region", [PRIMARY, DR])
def test_vcpu_quota_covering_the_maximum_and_a_release_is_ok(
    aws: ClientFactory, deployment: Deployment, region: str
) -> None:
    needed = deployment.sizing.web_max_capacity * 2  # m7i.large: 2 vCPUs
    quotas = _quotas(region, (EC2_QUOTA, float(needed * 2), None))
    result = check_ec2_vcpu_quota(quotas, aws("ec2", region), region, deployment)
    assert result.status is Status.OK, result
    assert f"{deployment.sizing.web_max_capacity} x m7i.large (2 vCPUs) = {needed}" in result.message


def test_vcpu_quota_of_a_fresh_account_fails_in_the_dr_region(aws: ClientFactory, deployment: Deployment) -> None:
    """Only the default (no applied value): too small for the primary's maximum at failover."""
    quotas = _quotas(DR, (EC2_QUOTA, None, 16.0))
    result = check_ec2_vcpu_quota(quotas, aws("ec2", DR), DR, deployment, PreflightOptions(profile="p"))
    assert result.status is Status.FAIL and "16 vCPUs (default)" in result.message
    assert (
        "aws service-quotas request-service-quota-increase --service-code ec2 --quota-code L-1216C47A "
        f"--desired-value 48 --region {DR} --profile p"
    ) in result.remedy


def test_vcpu_quota_without_room_for_a_release_warns(aws: ClientFactory, deployment: Deployment) -> None:
    quotas = _quotas(PRIMARY, (EC2_QUOTA, 32.0, None))
    result = check_ec2_vcpu_quota(quotas, aws("ec2", PRIMARY), PRIMARY, deployment)
    assert result.status is Status.WARN and "MaxHealthyPercentage 200" in result.message


def test_lambda_quota_with_room_is_ok_and_a_small_one_fails() -> None:
    options = PreflightOptions(lambda_functions=((PRIMARY, 7), (DR, 5)))
    ok = check_lambda_concurrency_quota(_quotas(PRIMARY, (LAMBDA_QUOTA, 1000.0, None)), PRIMARY, options)
    assert ok.status is Status.OK and "for 7 functions" in ok.message
    small = check_lambda_concurrency_quota(_quotas(PRIMARY, (LAMBDA_QUOTA, None, 5.0)), PRIMARY, options)
    assert small.status is Status.FAIL and "--service-code lambda --quota-code L-B99A9384" in small.remedy
    reduced = check_lambda_concurrency_quota(_quotas(DR, (LAMBDA_QUOTA, 10.0, None)), DR, options)
    assert reduced.status is Status.WARN and "below the default 1000" in reduced.message


def test_assembly_counts_functions_canaries_and_hosted_rotations(tmp_path: Path, deployment: Deployment) -> None:
    stage = f"{deployment.name}-primary"
    nested = tmp_path / f"assembly-{stage}"
    nested.mkdir()
    resources = {
        "Canary": {"Type": "AWS::Synthetics::Canary", "Properties": {}},
        "CustomResource": {"Type": "AWS::Lambda::Function", "Properties": {}},
        "Rotation": {"Type": "AWS::SecretsManager::RotationSchedule", "Properties": {"HostedRotationLambda": {}}},
        "OwnRotation": {"Type": "AWS::SecretsManager::RotationSchedule", "Properties": {"RotationLambdaARN": "x"}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
    }
    (nested / "Web.template.json").write_text(json.dumps({"Resources": resources}))
    artifact = {
        "type": "aws:cloudformation:stack",
        "environment": f"aws://{deployment.account}/{PRIMARY}",
        "properties": {"templateFile": "Web.template.json", "stackName": f"{stage}-web"},
    }
    (nested / "manifest.json").write_text(json.dumps({"artifacts": {"Web": artifact}}))
    assert lambda_functions(tmp_path, deployment) == ((PRIMARY, 3),)
    assert options_from_assembly(tmp_path, deployment).lambda_functions == ((PRIMARY, 3),)


def _offering(aws: ClientFactory, deployment: Deployment) -> ClientFactory:
    """moto for everything but the calls it lacks (above); the orphan check's RDS client is moto's."""
    stubbed_rds: set[str] = set()

    def factory(service: str, region: str) -> Any:
        if service == "synthetics":
            return _synthetics(region, [_runtime(CANARY_RUNTIME)])
        if service == "rds" and region not in stubbed_rds:
            stubbed_rds.add(region)
            instance_class = deployment.db_instance_class_for(region)
            return _rds(region, instance_class, [_offer(instance_class)], [_engine()])
        if service == "elasticache":
            node_type = deployment.sizing.cache_node_type
            return _elasticache(region, [REDIS_VERSION], {node_type: [node_type]})
        if service == "service-quotas":
            return _quotas(region, (EC2_QUOTA, 64.0, None), (LAMBDA_QUOTA, 1000.0, None))
        if service == "sesv2":
            return _ses(region, deployment.domain_name)
        return aws(service, region)

    return factory


# --- issue 17 item 12: the user pool's e-mail through SES. moto 5.2.5 has no SESv2 GetAccount,
# so both calls are pinned with Stubber against the API model.


def _ses(region: str, domain: str, production: bool = True, verified: bool | None = True) -> Any:
    client = boto3.client("sesv2", region_name=region)
    stubber = Stubber(client)
    stubber.add_response("get_account", {"ProductionAccessEnabled": production, "SendingEnabled": True}, {})
    if production:
        if verified is None:
            stubber.add_client_error("get_email_identity", "NotFoundException", http_status_code=404)
        else:
            stubber.add_response(
                "get_email_identity",
                {
                    "IdentityType": "DOMAIN",
                    "VerifiedForSendingStatus": verified,
                    "DkimAttributes": {"Status": "SUCCESS" if verified else "PENDING"},
                },
                {"EmailIdentity": domain},
            )
    stubber.activate()
    return client


def test_user_email_through_ses_out_of_the_sandbox_and_verified_is_ok(deployment: Deployment) -> None:
    result = check_user_email(_ses(PRIMARY, deployment.domain_name), PRIMARY, deployment)
    assert result.status is Status.OK and "no-reply@au.saas.example.com" in result.message


def test_user_email_in_the_ses_sandbox_warns_with_the_production_access_request(deployment: Deployment) -> None:
    result = check_user_email(_ses(PRIMARY, deployment.domain_name, production=False), PRIMARY, deployment)
    assert result.status is Status.WARN and "sandbox" in result.message
    assert result.remedy.startswith("aws sesv2 put-account-details --production-access-enabled")


@pytest.mark.parametrize(("verified", "said"), [(None, "the Dns stack creates it"), (False, "not verified yet")])
def test_user_email_identity_missing_or_unverified_warns(
    deployment: Deployment, verified: bool | None, said: str
) -> None:
    result = check_user_email(_ses(PRIMARY, deployment.domain_name, verified=verified), PRIMARY, deployment)
    assert result.status is Status.WARN and said in result.message


def test_development_uses_cognitos_sender_and_asks_ses_nothing() -> None:
    development = load_config().get("au-development")
    result = check_user_email(None, PRIMARY, development)
    assert result.status is Status.OK and "about 50 e-mails a day" in result.message


# --- the assembly and the runner


def _assembly(tmp_path: Path, deployment: Deployment) -> Path:
    stage = f"{deployment.name}-primary"
    nested = tmp_path / f"assembly-{stage}"
    nested.mkdir()
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": {}}))
    (nested / "Data.template.json").write_text(
        json.dumps(
            {
                "Resources": {
                    "ContentBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": CONTENT}},
                    "Prefs": {"Type": "AWS::SSM::Document", "Properties": {"Name": "SSM-SessionManagerRunShell"}},
                    "Computed": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Ref": "X"}}},
                }
            }
        )
    )
    manifest = {
        "artifacts": {
            "Data": {
                "type": "aws:cloudformation:stack",
                "environment": f"aws://{deployment.account}/{PRIMARY}",
                "displayName": f"{stage}/Data",
                "properties": {
                    "templateFile": "Data.template.json",
                    "stackName": f"{stage}-data",
                    "requiresBootstrapStackVersion": 8,
                },
            }
        }
    }
    (nested / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path


def test_assembly_gives_bootstrap_version_names_and_session_document_regions(
    tmp_path: Path, deployment: Deployment
) -> None:
    assembly = _assembly(tmp_path, deployment)
    assert required_bootstrap_version(assembly) == 8
    assert required_bootstrap_version(tmp_path / "missing") == 6
    names = named_resources(assembly, deployment)
    assert [(r.stage_path, r.logical_id, r.name) for r in names if r.resource_type == "AWS::S3::Bucket"] == [
        (f"{deployment.name}-primary/Data", "ContentBucket", CONTENT)
    ]
    options = options_from_assembly(assembly, deployment)
    assert options.session_document_regions == frozenset({PRIMARY})
    assert options.required_bootstrap_version == 8


def test_runner_skips_a_disabled_region_and_fails(aws: ClientFactory, deployment: Deployment) -> None:
    offering = _offering(aws, deployment)

    def clients(service: str, region: str) -> Any:
        if service == "account":
            return FakeAccount({PRIMARY: "ENABLED_BY_DEFAULT", DR: "DISABLED"})
        return offering(service, region)

    results = run_preflight(deployment, clients, PreflightOptions(), lambda _: set())
    assert failed(results)
    dr = [r for r in results if r.scope == DR]
    assert [r.check for r in dr] == ["region opt-in", "regional checks"]
    table = render_table(results)
    assert "aws account enable-region --region-name ap-southeast-4" in table
    assert table.splitlines()[0].startswith("status")


def test_runner_passes_on_a_prepared_account(aws: ClientFactory, deployment: Deployment) -> None:
    scoped = policy_arn(deployment, execution_policy_name(deployment))
    servers: list[str] = _zone(deployment.domain_name)
    for region in deployment.regions:
        _recorder(region, start=True)
        _toolkit(region, "30", scoped, boundary_policy_name(deployment))
    results = run_preflight(deployment, _offering(aws, deployment), PreflightOptions(), lambda _: set(servers))
    assert not failed(results), render_table(results)
    checks = {(r.check, r.scope) for r in results}
    assert {("canary runtime", r) for r in deployment.regions} <= checks
    assert {("database class", r) for r in deployment.regions} <= checks
    assert {("database engine version", r) for r in deployment.regions} <= checks
    assert {("cache engine version", r) for r in deployment.regions} <= checks
    assert {("web instance type", r) for r in deployment.regions} <= checks
    assert {("cache node type", r) for r in deployment.regions} <= checks
    assert {("EC2 vCPU quota", r) for r in deployment.regions} <= checks
    assert {("Lambda concurrency quota", r) for r in deployment.regions} <= checks
    assert ("user e-mail (SES)", PRIMARY) in checks
    assert all(r.status is Status.OK for r in results), render_table(results)


# --- issue 17 item 2: EC2 and ElastiCache offerings. EC2's offerings are moto's (per zone of the
# region); ElastiCache's reserved offerings are pinned with Stubber (moto lacks the call).


def test_web_instance_type_offered_in_every_pinned_zone_is_ok(aws: ClientFactory, deployment: Deployment) -> None:
    result = check_instance_type_offerings(aws("ec2", DR), DR, deployment)
    assert result.status is Status.OK and deployment.sizing.web_instance_type in result.message


def test_web_instance_type_missing_in_one_pinned_zone_fails(deployment: Deployment) -> None:
    ec2 = boto3.client("ec2", region_name=DR)
    zones = deployment.availability_zones(DR)
    offered = {"InstanceType": deployment.sizing.web_instance_type, "LocationType": "availability-zone"}
    with Stubber(ec2) as stub:  # offered in the first pinned zone only
        stub.add_response(
            "describe_instance_type_offerings", {"InstanceTypeOfferings": [{**offered, "Location": zones[0]}]}
        )
        result = check_instance_type_offerings(ec2, DR, deployment, PreflightOptions(profile="p"))
    assert result.status is Status.FAIL
    assert all(zone in result.message for zone in zones[1:]) and zones[0] not in result.message
    assert f"describe-instance-type-offerings --location-type availability-zone --region {DR} --profile p" in (
        result.remedy
    )


def test_cache_node_type_sold_in_the_region_is_ok_and_unsold_fails(deployment: Deployment) -> None:
    node_type = deployment.sizing.cache_node_type
    assert check_cache_node_type(_elasticache(DR, None, {node_type: [node_type]}), DR, deployment).status is Status.OK
    unsold = check_cache_node_type(_elasticache(DR, None, {node_type: []}), DR, deployment)
    assert unsold.status is Status.FAIL and "describe-reserved-cache-nodes-offerings" in unsold.remedy

"""Failback against the strict emulator (issue 16): what AWS would refuse or skip fails here too.

- a cross-region PostgreSQL replica takes no DB parameter group on create (API_CreateDBInstanceReadReplica);
- the new replicas get every setting their stack's template declares (create, then modify and reboot);
- the reverse replication rule uses its own role and the SSE-KMS settings, and deletions made in DR
  reach the primary (replication-config-for-kms-objects);
- DR stops writing (web tier at zero, writer fenced) before the new primary is promoted;
- a failback refuses a topology that is not the failed-over one, whatever its run id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from config.topology import DR, PRIMARY
from runbooks.toolkit import EXIT_OK, EXIT_REFUSED, EXIT_STEP_FAILED
from tests.runbooks import test_failback
from tests.runbooks.conftest import Standby, is_mutating
from tests.runbooks.declared_stacks import DeclaringStacks, declared_instance, stack_name
from tests.runbooks.test_failback import STEPS, Back

# The fixtures of the failback tests: the strict emulator, the declaring stacks, a failed-over world.
_strict_emulator = test_failback._strict_emulator
stacks = test_failback.stacks
failed_over = test_failback.failed_over

# Every setting of the DB instance that the failback must carry (issue 16, item 2).
DECLARED = (
    "DeletionProtection",
    "EnablePerformanceInsights",
    "PerformanceInsightsKMSKeyId",
    "MonitoringInterval",
    "MonitoringRoleArn",
    "EnableCloudwatchLogsExports",
    "EnableIAMDatabaseAuthentication",
    "CACertificateIdentifier",
    "MaxAllocatedStorage",
    "CopyTagsToSnapshot",
    "DBParameterGroupName",
)
MODIFY_NAMES = {
    "EnableCloudwatchLogsExports": "CloudwatchLogsExportConfiguration",
}


class Kwargs:
    """A client proxy that keeps the arguments of some calls, and may run a hook before one."""

    def __init__(self, client: Any, log: list[tuple[str, dict[str, Any]]], hooks: dict[str, Callable[[], None]]):
        self.client = client
        self.log = log
        self.hooks = hooks

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.client, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            if name in self.hooks:
                self.hooks[name]()
            if is_mutating(name) or name.startswith("reboot"):
                self.log.append((name, kwargs))
            return target(*args, **kwargs)

        return call


def watch(
    back: Back, role: str, hooks: dict[str, Callable[[], None]] | None = None
) -> list[tuple[str, dict[str, Any]]]:
    log: list[tuple[str, dict[str, Any]]] = []
    clients = back.primary if role == PRIMARY else back.dr
    watched = dataclasses.replace(clients, rds=Kwargs(clients.rds, log, hooks or {}))
    if role == PRIMARY:
        back.primary = watched
    else:
        back.dr = watched
    return log


def expected_value(stacks: DeclaringStacks, stack: str, value: Any) -> Any:
    """The template's value with its references resolved as the deployed stack resolves them."""
    if isinstance(value, dict) and "Ref" in value:
        return stacks.physical[stack][value["Ref"]]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical, _ = value["Fn::GetAtt"]
        return f"arn:aws:iam::111111111111:role/{stacks.physical[stack][logical]}"
    if isinstance(value, dict) and "Fn::GetStackOutput" in value:
        return stacks.outputs[value["Fn::GetStackOutput"]["OutputName"]]
    return value


# --- item 1: the emulator refuses what RDS refuses ------------------------------------------


def test_the_emulator_refuses_a_parameter_group_on_a_cross_region_postgres_replica(world: Standby) -> None:
    topo = world.topo
    world.dr.rds.create_db_parameter_group(
        DBParameterGroupName="tls", DBParameterGroupFamily="postgres17", Description="tls"
    )
    with pytest.raises(ClientError) as refused:
        world.dr.rds.create_db_instance_read_replica(
            DBInstanceIdentifier="second-replica",
            SourceDBInstanceIdentifier=topo.db_instance_arn(PRIMARY),
            DBParameterGroupName="tls",
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterCombination"
    created = world.dr.rds.create_db_instance_read_replica(
        DBInstanceIdentifier="second-replica", SourceDBInstanceIdentifier=topo.db_instance_arn(PRIMARY)
    )["DBInstance"]
    assert created["DBParameterGroups"][0]["DBParameterGroupName"].startswith("default.")


# --- item 2: the new replicas carry what their stacks declare --------------------------------


@pytest.mark.parametrize("role", [PRIMARY, DR])
def test_new_replicas_get_every_setting_their_template_declares(
    world: Standby, tmp_path: Path, failed_over: Path, stacks: dict[str, DeclaringStacks], role: str
) -> None:
    back = Back(world, tmp_path, failed_over, stacks)
    calls = watch(back, role)
    assert back.run().exit_code == EXIT_OK, back.lines()[-1]
    identifier = world.topo.db_instance_id(role)
    stack = stack_name(world.topo, role)
    declared = declared_instance(stacks[role].templates[stack], identifier)
    ours = [(name, kwargs) for name, kwargs in calls if kwargs.get("DBInstanceIdentifier") == identifier]
    (create,) = [kwargs for name, kwargs in ours if name == "create_db_instance_read_replica"]
    assert "DBParameterGroupName" not in create  # item 1: refused on a cross-region PostgreSQL replica
    modified: dict[str, Any] = {}
    for name, kwargs in ours:
        if name == "modify_db_instance" and "NewDBInstanceIdentifier" not in kwargs:
            assert kwargs["ApplyImmediately"] is True
            modified.update(kwargs)
    for prop in DECLARED:
        wanted = expected_value(stacks[role], stack, declared[prop])
        if prop == "EnableCloudwatchLogsExports":
            got = set(create.get(prop, [])) | set(modified.get(MODIFY_NAMES[prop], {}).get("EnableLogTypes", []))
            assert got == set(wanted), prop
        else:
            assert modified.get(prop, create.get(prop)) == wanted, prop
    names = [name for name, _ in ours]
    assert names.index("reboot_db_instance") > names.index("modify_db_instance")  # the new parameter group
    instance = world.db(world.primary if role == PRIMARY else world.dr, identifier)
    assert instance is not None and instance["DeletionProtection"] is True  # BAK-8
    group = expected_value(stacks[role], stack, declared["DBParameterGroupName"])
    assert instance["DBParameterGroups"][0]["DBParameterGroupName"] == group


# --- item 3: reverse replication, deletions, and DR fenced before the promotion --------------


def stop_at_scale_primary_web(back: Back) -> None:
    back.primary.autoscaling.fail["update_auto_scaling_group"] = lambda: RuntimeError("process killed")
    first = back.run()
    assert first.exit_code == EXIT_STEP_FAILED and first.failed_step == "scale-primary-web"


def test_the_reverse_rule_has_its_own_role_and_replicates_sse_kms_objects_and_deletes(
    world: Standby, tmp_path: Path, failed_over: Path, stacks: dict[str, DeclaringStacks]
) -> None:
    topo = world.topo
    source, target = topo.content_bucket(DR), topo.content_bucket(PRIMARY)
    back = Back(world, tmp_path, failed_over, stacks)
    stop_at_scale_primary_web(back)
    (rule,) = world.dr.s3.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]["Rules"]
    config = world.dr.s3.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]
    assert config["Role"] == f"arn:aws:iam::{topo.account}:role/{topo.reverse_replication_role_name()}"
    assert rule["SourceSelectionCriteria"] == {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    assert rule["Destination"]["EncryptionConfiguration"] == {"ReplicaKmsKeyID": topo.customer_key_alias_arn(PRIMARY)}
    assert rule["DeleteMarkerReplication"] == {"Status": "Enabled"}
    # DR still serves: a write and a delete after the one-shot copy reach the primary through the rule.
    world.dr.s3.put_object(Bucket=source, Key="tenant-c/late.txt", Body=b"late")
    assert world.dr.s3.head_object(Bucket=source, Key="tenant-c/late.txt")["ServerSideEncryption"] == "aws:kms"
    world.dr.s3.delete_object(Bucket=source, Key="tenant-a/new.txt")
    replica = world.primary.s3.head_object(Bucket=target, Key="tenant-c/late.txt")
    assert replica["SSEKMSKeyId"] == topo.customer_key_alias_arn(PRIMARY)
    assert back.run().exit_code == EXIT_OK, back.lines()[-1]
    keys = {o["Key"] for o in world.primary.s3.list_objects_v2(Bucket=target)["Contents"]}
    assert keys == {"old.txt", "tenant-b/new.txt", "tenant-c/late.txt"}


def test_deletions_made_in_dr_during_the_failover_are_carried_back(
    world: Standby, tmp_path: Path, failed_over: Path, stacks: dict[str, DeclaringStacks]
) -> None:
    topo = world.topo
    world.dr.s3.delete_object(Bucket=topo.content_bucket(DR), Key="old.txt")  # e.g. a DATA-1 removal in DR
    back = Back(world, tmp_path, failed_over, stacks)
    assert back.run().exit_code == EXIT_OK, back.lines()[-1]
    keys = {o["Key"] for o in world.primary.s3.list_objects_v2(Bucket=topo.content_bucket(PRIMARY))["Contents"]}
    assert keys == {"tenant-a/new.txt", "tenant-b/new.txt"}
    reverse = next(r for r in back.lines() if r["step"] == "reverse-replication" and r["status"] == "done")
    assert reverse["detail"]["deleted_keys"] == ["old.txt"]
    versions = world.primary.s3.list_object_versions(Bucket=topo.content_bucket(PRIMARY), Prefix="old.txt")
    assert versions["Versions"] and versions["DeleteMarkers"]  # delete-marked: the version is kept


def test_the_emulator_skips_sse_kms_objects_a_rule_does_not_select(world: Standby) -> None:
    topo = world.topo
    source, target = topo.content_bucket(DR), topo.content_bucket(PRIMARY)
    rule: dict[str, Any] = {
        "ID": "plain",
        "Status": "Enabled",
        "Priority": 1,
        "Filter": {},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "Destination": {"Bucket": f"arn:aws:s3:::{target}"},
    }
    role = f"arn:aws:iam::{topo.account}:role/any"
    world.dr.s3.put_bucket_replication(Bucket=source, ReplicationConfiguration={"Role": role, "Rules": [rule]})
    kms = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": topo.customer_key_alias_arn(DR)}
    world.dr.s3.put_object(Bucket=source, Key="skipped.txt", Body=b"x", **kms)
    world.dr.s3.put_object(Bucket=source, Key="plain.txt", Body=b"x")
    present = {o["Key"] for o in world.primary.s3.list_objects_v2(Bucket=target).get("Contents", [])}
    assert present == {"plain.txt"}
    rule["SourceSelectionCriteria"] = {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    rule["Destination"]["EncryptionConfiguration"] = {"ReplicaKmsKeyID": topo.customer_key_alias_arn(PRIMARY)}
    world.dr.s3.put_bucket_replication(Bucket=source, ReplicationConfiguration={"Role": role, "Rules": [rule]})
    world.dr.s3.put_object(Bucket=source, Key="selected.txt", Body=b"x", **kms)
    replica = world.primary.s3.head_object(Bucket=target, Key="selected.txt")
    assert replica["SSEKMSKeyId"] == topo.customer_key_alias_arn(PRIMARY)


def test_dr_stops_writing_before_the_primary_is_promoted(
    world: Standby, tmp_path: Path, failed_over: Path, stacks: dict[str, DeclaringStacks]
) -> None:
    topo = world.topo
    seen: dict[str, Any] = {}

    def at_promotion() -> None:
        seen["dr_desired"] = world.asg(world.dr, topo.web_asg_name(DR))["DesiredCapacity"]
        seen["dr_writer"] = world.db(world.dr, topo.db_instance_id(DR))
        seen["fenced"] = world.db(world.dr, f"{topo.db_instance_id(DR)}-retired-fb-1")

    back = Back(world, tmp_path, failed_over, stacks)
    watch(back, PRIMARY, {"promote_read_replica": at_promotion})
    assert back.run().exit_code == EXIT_OK, back.lines()[-1]
    assert seen["dr_desired"] == 0  # the DR web tier no longer writes
    assert seen["dr_writer"] is None and seen["fenced"] is not None  # no endpoint under the writer's name
    assert STEPS.index("stop-dr-web") < STEPS.index("retire-dr-writer") < STEPS.index("promote-primary")


# --- item 10: refuse a topology that is not the failed-over one ------------------------------


def test_a_new_run_after_traffic_came_back_is_refused_and_changes_nothing(
    world: Standby, tmp_path: Path, failed_over: Path, stacks: dict[str, DeclaringStacks]
) -> None:
    topo = world.topo
    back = Back(world, tmp_path, failed_over, stacks)
    back.answer.result = False  # verify times out: the switch is already back on the primary
    first = back.run()
    assert first.exit_code == EXIT_STEP_FAILED and first.failed_step == "verify"
    writer = world.db(world.primary, topo.db_instance_id(PRIMARY))
    assert writer is not None and not writer.get("ReadReplicaSourceDBInstanceIdentifier")
    before = len(back.calls)
    other = back.run("fb-2")
    assert other.exit_code == EXIT_REFUSED
    assert "made by failback run fb-1" in back.lines()[-1]["detail"]["error"]
    assert [c for c in back.calls[before:] if is_mutating(c[1])] == []
    still = world.db(world.primary, topo.db_instance_id(PRIMARY))  # the live writer is untouched
    assert still is not None and still["DBInstanceArn"] == writer["DBInstanceArn"]
    assert still["DBInstanceStatus"] == "available" and not still.get("ReadReplicaSourceDBInstanceIdentifier")
    back.answer.result = True
    assert back.run().exit_code == EXIT_OK, back.lines()[-1]  # the same run id resumes
    tags = world.primary.rds.list_tags_for_resource(ResourceName=writer["DBInstanceArn"])["TagList"]
    assert "failback-run" not in {t["Key"] for t in tags}
    assert back.run("fb-3").exit_code == EXIT_REFUSED  # the standby is armed: nothing to fail back from

"""RDS: cross-region read replicas and their promotion, as AWS does them."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

from moto.rds.exceptions import DBInstanceNotFoundError, RDSClientError
from moto.rds.models import DBInstance, RDSBackend

from tooling.emulator.patch import Patch


def _find(backend: RDSBackend, reference: str | None) -> DBInstance | None:
    if not reference:
        return None
    try:
        return backend.find_db_from_id(reference)
    except DBInstanceNotFoundError:
        return None


def _reference(source: DBInstance, replica: DBInstance) -> str:
    """How `source.replicas` names `replica`: its ARN across regions, else its identifier."""
    return str(replica.db_instance_arn if source.region != replica.region else replica.db_instance_identifier)


_create_replica = RDSBackend.create_db_instance_read_replica


def create_replica_in_its_own_region(self: RDSBackend, db_kwargs: dict[str, Any]) -> DBInstance:
    """moto copies the source instance and then sets the new attributes in argument order; the
    DB subnet group is looked up before `backend` moves the copy into the replica's region."""
    if self.arn_regex.match(db_kwargs["source_db_instance_identifier"]):
        db_kwargs = {"backend": self, **db_kwargs}
    return _create_replica(self, db_kwargs)


_create_from_cloudformation: Any = DBInstance.create_from_cloudformation_json  # the one current at apply time


def create_db_instance_with_named_subnet_group(
    resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
) -> DBInstance:
    """moto expects `DBSubnetGroupName` to be a `Ref` (a model object); a literal name works too, and
    `AllocatedStorage` is an integer (compared with MaxAllocatedStorage on a later modify)."""
    properties = cloudformation_json.get("Properties", {})
    if isinstance(properties.get("AllocatedStorage"), str):
        # The resource's schema types it String ("200"); RDS stores an integer (moto kept the string).
        properties = {**properties, "AllocatedStorage": int(properties["AllocatedStorage"])}
        cloudformation_json = {**cloudformation_json, "Properties": properties}
    if isinstance(properties.get("DBSubnetGroupName"), str):
        group = SimpleNamespace(name=properties["DBSubnetGroupName"])
        cloudformation_json = {**cloudformation_json, "Properties": {**properties, "DBSubnetGroupName": group}}
    _cloudformation.active = True
    try:
        database: DBInstance = _create_from_cloudformation(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
    finally:
        _cloudformation.active = False
    return database


def remove_replica(self: DBInstance, replica: DBInstance) -> None:
    """A cross-region replica is listed by its ARN; moto removes it by identifier (ValueError)."""
    for reference in (replica.db_instance_arn, replica.db_instance_identifier):
        if reference in self.replicas:
            self.replicas.remove(reference)


_PROMOTE_SETTINGS = ("backup_retention_period", "preferred_backup_window")


# https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_PromoteReadReplica.html
# (InvalidDBInstanceState for an instance that is not a read replica) and
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Promote.html (a promoted replica
# is a standalone instance, no longer linked to its source).
def promote_read_replica(self: RDSBackend, db_kwargs: dict[str, Any]) -> DBInstance:
    """A promoted replica is a standalone writer: no source on either side, promotable once."""
    database = self.describe_db_instances(db_kwargs["db_instance_identifier"])[0]
    if not database.is_replica:
        raise RDSClientError("InvalidDBInstanceState", "DB Instance is not a read replica.")
    source = _find(self, database.source_db_instance_identifier)
    if source is not None:
        source.remove_replica(database)
    database.is_replica = False
    database.source_db_instance_identifier = None
    database.replicas = []
    database.update(**{key: db_kwargs[key] for key in _PROMOTE_SETTINGS if db_kwargs.get(key) is not None})
    # AWS passes through `modifying` and `backing-up` (minutes); the emulator answers settled at once.
    database.status = "available"
    return database


_modify_db_instance = RDSBackend.modify_db_instance


# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_RenameInstance.html: renaming an instance
# keeps its read replicas (and a replica its source); only the endpoint's name changes.
def modify_db_instance_keeping_links(self: RDSBackend, db_instance_identifier: str, db_kwargs: dict[str, Any]) -> Any:
    """A rename (`NewDBInstanceIdentifier`) keeps the replica links on both sides."""
    if not db_kwargs.get("new_db_instance_identifier"):
        return _modify_db_instance(self, db_instance_identifier, db_kwargs)
    database = self.describe_db_instances(db_instance_identifier)[0]
    source = _find(self, database.source_db_instance_identifier) if database.is_replica else None
    old_reference = _reference(source, database) if source is not None else None
    replicas = [replica for replica in (_find(self, r) for r in database.replicas) if replica is not None]
    result = _modify_db_instance(self, db_instance_identifier, db_kwargs)
    if source is not None and old_reference in source.replicas:
        source.replicas[source.replicas.index(old_reference)] = _reference(source, database)
    database.replicas = [_reference(database, replica) for replica in replicas]
    for replica in replicas:
        cross_region = replica.region != database.region
        replica.source_db_instance_identifier = (
            database.db_instance_arn if cross_region else database.db_instance_identifier
        )
    return result


# https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstanceReadReplica.html
# (DBParameterGroupName): "Specifying a parameter group for this operation is only supported for MySQL DB
# instances for cross-Region read replicas, ... for Db2 DB instances, and for Oracle DB instances."
_CROSS_REGION_PARAMETER_GROUP_ENGINES = ("mysql", "oracle", "db2")
_cloudformation = threading.local()  # `active`: CloudFormation's RDS provider is creating the instance


def refusing_cross_region_parameter_group(create: Any) -> Any:
    """Wrap `RDSBackend.create_db_instance_read_replica`: a cross-region replica of any other engine
    (PostgreSQL here) that names a DB parameter group is refused, as RDS refuses it; one that names
    none gets the engine's default group, not the source's."""

    def create_replica(self: RDSBackend, db_kwargs: dict[str, Any]) -> DBInstance:
        source_id = db_kwargs["source_db_instance_identifier"]
        if getattr(_cloudformation, "active", False) and self.arn_regex.match(source_id):
            # CloudFormation's provider creates without the group, then modifies and reboots onto it.
            group = db_kwargs.pop("db_parameter_group_name", None)
            created: DBInstance = create(self, db_kwargs)
            created.db_parameter_group_name = group
            return created
        if db_kwargs.get("db_parameter_group_name") and self.arn_regex.match(source_id):
            source = _find(self, source_id)
            cross_region = source_id.split(":")[3] != self.region_name
            engine = str(getattr(source, "engine", "") or "")
            if cross_region and not engine.startswith(_CROSS_REGION_PARAMETER_GROUP_ENGINES):
                raise RDSClientError(
                    "InvalidParameterCombination",
                    f"A DB parameter group cannot be specified for a cross-Region read replica of a {engine} "
                    "DB instance: modify the replica after it is created.",
                )
        replica: DBInstance = create(self, db_kwargs)
        if self.arn_regex.match(source_id) and not db_kwargs.get("db_parameter_group_name"):
            # Same page: without DBParameterGroupName a cross-Region replica gets "the default
            # DBParameterGroup for the specified DB engine" (moto copied the source's group).
            replica.db_parameter_group_name = None
        return replica

    return create_replica


def _apply_replica_region() -> None:
    global _create_from_cloudformation
    _create_from_cloudformation = DBInstance.create_from_cloudformation_json  # keep earlier wrappers
    RDSBackend.create_db_instance_read_replica = create_replica_in_its_own_region  # type: ignore[method-assign]
    DBInstance.create_from_cloudformation_json = staticmethod(create_db_instance_with_named_subnet_group)  # type: ignore[method-assign]


def _apply_parameter_group_refusal() -> None:
    RDSBackend.create_db_instance_read_replica = refusing_cross_region_parameter_group(  # type: ignore[method-assign]
        RDSBackend.create_db_instance_read_replica
    )


def _apply_promotion() -> None:
    DBInstance.remove_replica = remove_replica  # type: ignore[method-assign]
    RDSBackend.promote_read_replica = promote_read_replica  # type: ignore[method-assign]


def _apply_rename() -> None:
    RDSBackend.modify_db_instance = modify_db_instance_keeping_links  # type: ignore[method-assign]


PATCHES = [
    Patch(
        "rds",
        "cross-region-replica-subnet-group",
        "a cross-region replica's DBSubnetGroupName is looked up in the source region (DBSubnetGroupNotFoundFault)",
        _apply_replica_region,
    ),
    Patch(
        "rds",
        "cross-region-replica-parameter-group",
        "a cross-region PostgreSQL replica takes a parameter group (AWS: InvalidParameterCombination), "
        "else copies the source's",
        _apply_parameter_group_refusal,
    ),
    Patch(
        "rds",
        "promote-read-replica",
        "PromoteReadReplica keeps the source links, accepts a non-replica; AWS: InvalidDBInstanceState",
        _apply_promotion,
    ),
    Patch(
        "rds",
        "rename-keeps-replica-links",
        "NewDBInstanceIdentifier leaves the source's replica list and the replicas' source pointing at the old name",
        _apply_rename,
    ),
]

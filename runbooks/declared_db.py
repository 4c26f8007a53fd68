"""The DB instance a deployed stack declares, as RDS API arguments (DR-1, BAK-8, ACC-3, ENC-3).

A DB instance that a runbook creates in place of a stack's instance (the failback's new
primary) gets the stack's physical id, so the next `cdk deploy` sees no change and never
applies the template's settings to it: the runbook must. The template is the deployed one
(CloudFormation `GetTemplate`), its references resolved against the same stack's
resources and the outputs it reads, so nothing here restates what the stack declares.

A cross-region PostgreSQL replica takes no `DBParameterGroupName` on create (RDS accepts it
there only for MySQL, Oracle and Db2, API_CreateDBInstanceReadReplica): the group is set by
`ModifyDBInstance` after the create, with a reboot, as CloudFormation's own RDS provider does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Template property -> (CreateDBInstanceReadReplica argument or None, ModifyDBInstance argument,
# DescribeDBInstances field that reads it back); most have the property's own name in all three.
_SAME = (
    "DeletionProtection",
    "PerformanceInsightsKMSKeyId",
    "PerformanceInsightsRetentionPeriod",
    "MonitoringInterval",
    "MonitoringRoleArn",
    "CACertificateIdentifier",
    "MaxAllocatedStorage",
    "CopyTagsToSnapshot",
)
SETTINGS: dict[str, tuple[str | None, str, str]] = {
    **{name: (name, name, name) for name in _SAME},
    "EnablePerformanceInsights": (
        "EnablePerformanceInsights", "EnablePerformanceInsights", "PerformanceInsightsEnabled"
    ),
    "EnableCloudwatchLogsExports": (
        "EnableCloudwatchLogsExports", "CloudwatchLogsExportConfiguration", "EnabledCloudwatchLogsExports"
    ),
    "EnableIAMDatabaseAuthentication": (
        "EnableIAMDatabaseAuthentication", "EnableIAMDatabaseAuthentication", "IAMDatabaseAuthenticationEnabled"
    ),
    "PreferredMaintenanceWindow": (None, "PreferredMaintenanceWindow", "PreferredMaintenanceWindow"),
    "DBParameterGroupName": (None, "DBParameterGroupName", "DBParameterGroups"),
}  # fmt: skip
# Placement and size: create only (changing them later is a separate, disruptive change).
CREATE_ONLY = {
    "DBInstanceClass": "DBInstanceClass",
    "DBSubnetGroupName": "DBSubnetGroupName",
    "VPCSecurityGroups": "VpcSecurityGroupIds",
    "Port": "Port",
    "StorageType": "StorageType",
    "PubliclyAccessible": "PubliclyAccessible",
    "AutoMinorVersionUpgrade": "AutoMinorVersionUpgrade",
    "MultiAZ": "MultiAZ",
}
# Tagged at promotion: the backup plans select a writer, never a replica (BAK-1..BAK-5).
PROMOTION_TAGS = ("backup-tier",)


class DeclarationError(LookupError):
    """The stack, its DB instance, or a value it references cannot be read."""


@dataclass(frozen=True)
class DeclaredInstance:
    stack_name: str
    logical_id: str
    properties: dict[str, Any]  # resolved: literal values only
    unresolved: tuple[str, ...] = ()  # create-only arguments whose reference did not resolve

    def create_arguments(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        for prop, name in CREATE_ONLY.items():
            if prop in self.properties:
                arguments[name] = int(self.properties[prop]) if prop == "Port" else self.properties[prop]
        for prop, (create, _, _) in SETTINGS.items():
            if create is not None and prop in self.properties:
                arguments[create] = self.properties[prop]
        tags = [t for t in self.properties.get("Tags", []) if t["Key"] not in PROMOTION_TAGS]
        if tags:
            arguments["Tags"] = tags
        return arguments

    def modifications(self, described: dict[str, Any]) -> dict[str, Any]:
        """ModifyDBInstance arguments for every declared setting the instance does not have yet."""
        changes: dict[str, Any] = {}
        for prop, (_, modify, field) in SETTINGS.items():
            if prop not in self.properties:
                continue
            wanted = self.properties[prop]
            if prop == "EnableCloudwatchLogsExports":
                missing = sorted(set(wanted) - set(described.get(field) or []))
                if missing:
                    changes[modify] = {"EnableLogTypes": missing}
            elif prop == "DBParameterGroupName":
                if parameter_group(described) != wanted:
                    changes[modify] = wanted
            elif described.get(field) != wanted:
                changes[modify] = wanted
        return changes

    @property
    def parameter_group(self) -> str | None:
        value = self.properties.get("DBParameterGroupName")
        return str(value) if value else None


def parameter_group(described: dict[str, Any]) -> str | None:
    groups = described.get("DBParameterGroups") or []
    return str(groups[0]["DBParameterGroupName"]) if groups else None


def needs_reboot(described: dict[str, Any]) -> bool:
    groups = described.get("DBParameterGroups") or []
    return bool(groups) and groups[0].get("ParameterApplyStatus") == "pending-reboot"


def read_declared_instance(
    cloudformation: Any, stack_name: str, identifier: str, *, account: str, region: str
) -> DeclaredInstance:
    """The AWS::RDS::DBInstance named `identifier` in the deployed template of `stack_name`."""
    try:
        body = cloudformation.get_template(StackName=stack_name, TemplateStage="Original")["TemplateBody"]
    except Exception as error:
        raise DeclarationError(f"cannot read the template of {stack_name}: {type(error).__name__}: {error}") from error
    template: dict[str, Any] = json.loads(body) if isinstance(body, str) else dict(body)
    resources: dict[str, Any] = template.get("Resources", {})
    found = [
        (logical, resource)
        for logical, resource in resources.items()
        if resource.get("Type") == "AWS::RDS::DBInstance"
        and resource.get("Properties", {}).get("DBInstanceIdentifier") == identifier
    ]
    if len(found) != 1:
        raise DeclarationError(f"{stack_name} declares no single AWS::RDS::DBInstance named {identifier}")
    logical_id, resource = found[0]
    resolver = _Resolver(cloudformation, stack_name, resources, account=account, region=region)
    properties: dict[str, Any] = {}
    unresolved: list[str] = []
    for prop, value in resource.get("Properties", {}).items():
        if prop in (*SETTINGS, "Tags"):
            properties[prop] = resolver.resolve(value)
        elif prop in CREATE_ONLY:
            try:
                properties[prop] = resolver.resolve(value)
            except DeclarationError:
                unresolved.append(CREATE_ONLY[prop])  # the caller takes it from the instance it replaces
    return DeclaredInstance(stack_name, logical_id, properties, tuple(unresolved))


class _Resolver:
    """Ref, Fn::GetAtt (Arn of a role, GroupId of a security group), Fn::GetStackOutput, Fn::ImportValue."""

    def __init__(self, cloudformation: Any, stack: str, resources: dict[str, Any], *, account: str, region: str):
        self.cloudformation = cloudformation
        self.stack = stack
        self.resources = resources
        self.account = account
        self.region = region
        self._physical: dict[str, str] | None = None

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self.physical(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            return self._get_att(*value["Fn::GetAtt"])
        if set(value) == {"Fn::GetStackOutput"}:
            return self._stack_output(value["Fn::GetStackOutput"])
        if set(value) == {"Fn::ImportValue"}:
            return self._export(str(value["Fn::ImportValue"]))
        return {key: self.resolve(item) for key, item in value.items()}

    def physical(self, logical_id: str) -> str:
        if self._physical is None:
            pages = self.cloudformation.get_paginator("list_stack_resources").paginate(StackName=self.stack)
            self._physical = {
                r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
                for page in pages
                for r in page["StackResourceSummaries"]
            }
        if not self._physical.get(logical_id):
            raise DeclarationError(f"{self.stack} has no physical resource for {logical_id}")
        return self._physical[logical_id]

    def _get_att(self, logical_id: str, attribute: str) -> str:
        kind = self.resources.get(logical_id, {}).get("Type")
        physical = self.physical(logical_id)
        if kind == "AWS::IAM::Role" and attribute == "Arn":
            path = self.resources[logical_id].get("Properties", {}).get("Path", "/")
            return f"arn:aws:iam::{self.account}:role{path}{physical}"
        if kind == "AWS::EC2::SecurityGroup" and attribute == "GroupId":
            return physical
        raise DeclarationError(f"{self.stack}: cannot resolve Fn::GetAtt {logical_id}.{attribute} ({kind})")

    def _stack_output(self, reference: dict[str, Any]) -> str:
        if reference.get("Region", self.region) != self.region:
            raise DeclarationError(f"{self.stack}: an output of another region ({reference})")
        stacks = self.cloudformation.describe_stacks(StackName=reference["StackName"])["Stacks"]
        for output in stacks[0].get("Outputs", []):
            if output["OutputKey"] == reference["OutputName"]:
                return str(output["OutputValue"])
        raise DeclarationError(f"{reference['StackName']} has no output {reference['OutputName']}")

    def _export(self, name: str) -> str:
        for page in self.cloudformation.get_paginator("list_exports").paginate():
            for export in page.get("Exports", []):
                if export["Name"] == name:
                    return str(export["Value"])
        raise DeclarationError(f"no CloudFormation export named {name}")

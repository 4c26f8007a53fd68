"""EC2: a launch template version launches instances whatever way its user data was given, and a
security group's egress is what its template says.

moto asserts that a version's `UserData` is its own Base64 wrapper; a version created through
`CreateLaunchTemplateVersion` (the release, OPS-7) or from a template keeps the plain Base64
string, and the next Auto Scaling launch from it fails (HTTP 500). EC2 stores the Base64 text
either way and launches from it:
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RequestLaunchTemplateData.html (UserData).

moto's CloudFormation creates every VPC security group with EC2's default allow-all egress rule and
ignores the template's `SecurityGroupEgress`, and has no model for `AWS::EC2::SecurityGroupEgress`:
a group the template restricts (the web tier's, ACC-1) would keep egress to 0.0.0.0/0. CloudFormation
removes the default rule when the template specifies one or more egress rules, and adds each
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ec2-securitygroup.html,
`SecurityGroupEgress`); a stand-alone `AWS::EC2::SecurityGroupEgress` adds one rule to its `GroupId`
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ec2-securitygroupegress.html).
"""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.core.types import Base64EncodedString
from moto.ec2.models import ec2_backends
from moto.ec2.models.launch_templates import LaunchTemplateVersion
from moto.ec2.models.security_groups import SecurityGroup

from tooling.emulator.cfn_models import register_models
from tooling.emulator.patch import Patch

_user_data: Any = LaunchTemplateVersion.user_data


def user_data_as_stored(self: LaunchTemplateVersion) -> Base64EncodedString | None:
    value = self.data.get("UserData")
    if isinstance(value, str):
        return Base64EncodedString(value)
    result: Base64EncodedString | None = _user_data.fget(self)
    return result


def _apply_user_data() -> None:
    LaunchTemplateVersion.user_data = property(user_data_as_stored)  # type: ignore[method-assign,assignment]


def _egress_arguments(rule: dict[str, Any]) -> dict[str, Any]:
    """One template egress rule as moto's `authorize_security_group_egress` arguments."""
    ip_ranges: list[dict[str, Any]] = []
    if "CidrIp" in rule:
        ip_ranges.append({"CidrIp": rule["CidrIp"], "Description": rule.get("Description")})
    if "CidrIpv6" in rule:
        ip_ranges.append({"CidrIpv6": rule["CidrIpv6"], "Description": rule.get("Description")})
    groups = [{"GroupId": rule["DestinationSecurityGroupId"]}] if "DestinationSecurityGroupId" in rule else []
    lists = [{"PrefixListId": rule["DestinationPrefixListId"]}] if "DestinationPrefixListId" in rule else []
    return {
        "ip_protocol": str(rule["IpProtocol"]),
        "from_port": rule.get("FromPort"),
        "to_port": rule.get("ToPort"),
        "ip_ranges": ip_ranges,
        "source_groups": groups,
        "prefix_list_ids": lists,
    }


_create_group: Any = SecurityGroup.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def create_group_with_template_egress(
    cls: type[SecurityGroup],
    /,
    resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> SecurityGroup:
    group: SecurityGroup = _create_group(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    egress = cloudformation_json["Properties"].get("SecurityGroupEgress") or []
    if egress:
        group.egress_rules.clear()  # the default rule goes once the template names any egress
        backend = ec2_backends[account_id][region_name]
        for rule in egress:
            backend.authorize_security_group_egress(group.id, vpc_id=group.vpc_id, **_egress_arguments(rule))
    return group


class SecurityGroupEgressModel(CloudFormationModel):
    """`AWS::EC2::SecurityGroupEgress`: one egress rule added to `GroupId`, removed with the resource."""

    def __init__(self, group_id: str, rule_id: str) -> None:
        self.group_id = group_id
        self.rule_id = rule_id

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::EC2::SecurityGroupEgress"

    @property
    def physical_resource_id(self) -> str:
        return self.rule_id

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> SecurityGroupEgressModel:
        properties = cloudformation_json["Properties"]
        backend = ec2_backends[account_id][region_name]
        added, _ = backend.authorize_security_group_egress(properties["GroupId"], **_egress_arguments(properties))
        return cls(str(properties["GroupId"]), str(added[0].id))

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        properties = cloudformation_json["Properties"]
        backend = ec2_backends[account_id][region_name]
        if backend.get_security_group_by_name_or_id(properties["GroupId"], None) is not None:
            backend.revoke_security_group_egress(properties["GroupId"], **_egress_arguments(properties))


def _apply_template_egress() -> None:
    SecurityGroup.create_from_cloudformation_json = classmethod(create_group_with_template_egress)  # type: ignore[method-assign,assignment]
    register_models(SecurityGroupEgressModel)


PATCHES = [
    Patch(
        "ec2",
        "launch-template-user-data",
        "a launch template version's plain Base64 UserData fails every later launch (AssertionError, HTTP 500)",
        _apply_user_data,
    ),
    Patch(
        "ec2",
        "cloudformation-security-group-egress",
        "a template's SecurityGroupEgress (and AWS::EC2::SecurityGroupEgress) ignored: groups keep allow-all egress",
        _apply_template_egress,
    ),
]

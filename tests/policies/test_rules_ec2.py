"""Tests of policies/rules/ec2.py (EC2 and VPC rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from typing import Any

import pytest

from policies.rules import ec2
from tests.policies.rulekit import NA, C, N, check, res, stack

LT_OK = {
    "LaunchTemplateData": {
        "MetadataOptions": {"HttpTokens": "required"},
        "BlockDeviceMappings": [{"Ebs": {"Encrypted": True, "KmsKeyId": {"Ref": "Key"}}}],
    }
}


def test_acc2_no_ssh_ingress() -> None:
    ok = res(
        "Sg",
        "AWS::EC2::SecurityGroup",
        {"SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}]},
    )
    ssh = res(
        "Sg",
        "AWS::EC2::SecurityGroup",
        {"SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "10.0.0.0/8"}]},
    )
    everything = res("In", "AWS::EC2::SecurityGroupIngress", {"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"})
    wide = res("In", "AWS::EC2::SecurityGroupIngress", {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 1024})
    assert check(ec2.no_ssh_ingress, ok) is C
    assert [check(ec2.no_ssh_ingress, r) for r in (ssh, everything, wide)] == [N, N, N]


def test_acc2_no_key_pair_and_imdsv2() -> None:
    assert check(ec2.no_key_pair, res("Lt", "AWS::EC2::LaunchTemplate", LT_OK)) is C
    keyed = res("Lt", "AWS::EC2::LaunchTemplate", {"LaunchTemplateData": {"KeyName": "ops"}})
    assert check(ec2.no_key_pair, keyed) is N
    assert check(ec2.no_key_pair, res("K", "AWS::EC2::KeyPair", {"KeyName": "x"})) is N
    assert check(ec2.imdsv2, res("Lt", "AWS::EC2::LaunchTemplate", LT_OK)) is C
    assert check(ec2.imdsv2, keyed) is N


def test_enc1_ebs_encrypted_with_customer_key() -> None:
    assert check(ec2.ebs_encrypted, res("Lt", "AWS::EC2::LaunchTemplate", LT_OK)) is C
    aws_key = {
        "LaunchTemplateData": {"BlockDeviceMappings": [{"Ebs": {"Encrypted": True, "KmsKeyId": "alias/aws/ebs"}}]}
    }
    assert check(ec2.ebs_encrypted, res("Lt", "AWS::EC2::LaunchTemplate", aws_key)) is N
    assert check(ec2.ebs_encrypted, res("Lt", "AWS::EC2::LaunchTemplate", {"LaunchTemplateData": {}})) is N
    assert check(ec2.ebs_encrypted, res("V", "AWS::EC2::Volume", {"Encrypted": False})) is N


def test_host1_standalone_instance_fails() -> None:
    assert check(ec2.no_standalone_instance, res("I", "AWS::EC2::Instance")) is N


def _vpc(nats: int, azs: int = 3) -> list:  # type: ignore[type-arg]
    subnets = [
        res(f"S{i}", "AWS::EC2::Subnet", {"VpcId": {"Ref": "Vpc"}, "AvailabilityZone": f"ap-southeast-2{'abc'[i]}"})
        for i in range(azs)
    ]
    return [res("Vpc", "AWS::EC2::VPC"), *subnets, *[res(f"N{i}", "AWS::EC2::NatGateway") for i in range(nats)]]


def test_host4_nat_per_az_in_production_only() -> None:
    good, bad = stack(*_vpc(3)), stack(*_vpc(1))
    assert check(ec2.nat_per_az, good.resources["Vpc"], good) is C
    assert check(ec2.nat_per_az, bad.resources["Vpc"], bad) is N
    dev = stack(*_vpc(1), name="au-development")
    assert check(ec2.nat_per_az, dev.resources["Vpc"], dev) is NA


def test_acc3_flow_logs() -> None:
    with_log = stack(res("Vpc", "AWS::EC2::VPC"), res("F", "AWS::EC2::FlowLog", {"ResourceId": {"Ref": "Vpc"}}))
    assert check(ec2.vpc_flow_logs, with_log.resources["Vpc"], with_log) is C
    assert check(ec2.vpc_flow_logs, res("Vpc", "AWS::EC2::VPC")) is N


def test_acc2_no_ssh_ingress_names_the_source() -> None:
    """ACC2-NoSshIngress: the finding names the opening and where it admits from."""
    ssh = res("In", "AWS::EC2::SecurityGroupIngress", {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22})
    assert ec2.no_ssh_ingress.check(ssh, stack(ssh)).detail == "ingress tcp 22-22 from ?"
    sourced = res(
        "In",
        "AWS::EC2::SecurityGroupIngress",
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "10.0.0.0/8"},
    )
    assert ec2.no_ssh_ingress.check(sourced, stack(sourced)).detail == "ingress tcp 22-22 from 10.0.0.0/8"


def test_acc2_imdsv2_names_the_default() -> None:
    """ACC2-Imdsv2: without MetadataOptions the instance takes the IMDSv1-allowing default."""
    bare = res("I", "AWS::EC2::Instance", {})
    assert ec2.imdsv2.check(bare, stack(bare)).detail == "HttpTokens=optional (default)"
    assert check(ec2.imdsv2, res("I", "AWS::EC2::Instance", {"MetadataOptions": {"HttpTokens": "optional"}})) is N


def test_enc1_ebs_encrypted_ignores_instance_store_mappings() -> None:
    """ENC1-EbsEncrypted: an instance-store mapping has no Ebs block and holds nothing to encrypt with KMS."""
    data = {
        "BlockDeviceMappings": [
            {"DeviceName": "/dev/sdb", "VirtualName": "ephemeral0"},
            {"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": True, "KmsKeyId": {"Ref": "Key"}}},
        ]
    }
    assert check(ec2.ebs_encrypted, res("Lt", "AWS::EC2::LaunchTemplate", {"LaunchTemplateData": data})) is C


@pytest.mark.parametrize(
    ("nats", "azs", "expected"),
    [
        pytest.param(3, 3, C, id="HOST4-NatPerAz-one-per-az"),
        pytest.param(2, 3, N, id="HOST4-NatPerAz-one-below"),
        pytest.param(2, 2, C, id="HOST4-NatPerAz-two-azs-two-nats"),
    ],
)
def test_host4_nat_per_az_boundary(nats: int, azs: int, expected: object) -> None:
    view = stack(*_vpc(nats, azs))
    assert check(ec2.nat_per_az, view.resources["Vpc"], view) is expected


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        pytest.param(res("Lt", "AWS::EC2::LaunchTemplate", LT_OK), C, id="ACC2-NoKeyPair-launch-template-without-key"),
        pytest.param(
            res("Lt", "AWS::EC2::LaunchTemplate", {"LaunchTemplateData": {"KeyName": "ops"}}),
            N,
            id="ACC2-NoKeyPair-launch-template-key",
        ),
        pytest.param(res("I", "AWS::EC2::Instance", {"KeyName": "ops"}), N, id="ACC2-NoKeyPair-instance-key"),
        pytest.param(res("K", "AWS::EC2::KeyPair", {"KeyName": "x"}), N, id="ACC2-NoKeyPair-key-pair-resource"),
    ],
)
def test_acc2_no_key_pair(resource: Any, expected: object) -> None:
    assert check(ec2.no_key_pair, resource) is expected


def test_host1_no_standalone_instance() -> None:
    """HOST1-NoStandaloneInstance: every instance is part of an Auto Scaling group, so any instance fails."""
    assert check(ec2.no_standalone_instance, res("I", "AWS::EC2::Instance", {})) is N


@pytest.mark.parametrize(
    ("flow_log_target", "expected"),
    [
        pytest.param({"Ref": "Vpc"}, C, id="ACC3-VpcFlowLogs-flow-log-on-this-vpc"),
        pytest.param({"Ref": "OtherVpc"}, N, id="ACC3-VpcFlowLogs-flow-log-on-another-vpc"),
    ],
)
def test_acc3_vpc_flow_logs(flow_log_target: Any, expected: object) -> None:
    vpc = res("Vpc", "AWS::EC2::VPC")
    view = stack(vpc, res("F", "AWS::EC2::FlowLog", {"ResourceId": flow_log_target, "TrafficType": "ALL"}))
    assert check(ec2.vpc_flow_logs, vpc, view) is expected


def _server(*egress: dict[str, Any], standalone: dict[str, Any] | None = None, interface: bool = True) -> Any:
    """A launch template whose one security group has `egress` inline (and `standalone` as its own resource)."""
    group_ref = {"Fn::GetAtt": ["AppSg", "GroupId"]}
    data: dict[str, Any] = (
        {"NetworkInterfaces": [{"DeviceIndex": 0, "Groups": [group_ref]}]}
        if interface
        else {"SecurityGroupIds": [group_ref]}
    )
    resources = [
        res("Lt", "AWS::EC2::LaunchTemplate", {"LaunchTemplateData": data}),
        res("AppSg", "AWS::EC2::SecurityGroup", {"SecurityGroupEgress": list(egress)}),
    ]
    if standalone is not None:
        resources.append(res("Out", "AWS::EC2::SecurityGroupEgress", {"GroupId": group_ref, **standalone}))
    view = stack(*resources)
    return view.resources["Lt"], view


ENDPOINTS = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "DestinationSecurityGroupId": "sg-endpoints"}
S3_LIST = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "DestinationPrefixListId": {"Ref": "S3List"}}


@pytest.mark.parametrize("interface", [True, False])
def test_acc1_instance_egress_to_named_destinations_passes(interface: bool) -> None:
    vendor = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "203.0.113.0/24"}
    lt, view = _server(ENDPOINTS, vendor, standalone=S3_LIST, interface=interface)
    assert check(ec2.instance_egress_restricted, lt, view) is C


@pytest.mark.parametrize(
    ("inline", "standalone"),
    [
        pytest.param(
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"},
            None,
            id="ACC1-InstanceEgressRestricted-https-anywhere",
        ),
        pytest.param({"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}, None, id="ACC1-InstanceEgressRestricted-all-traffic"),
        pytest.param(
            ENDPOINTS,
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIpv6": "::/0"},
            id="ACC1-InstanceEgressRestricted-ipv6-anywhere-standalone",
        ),
    ],
)
def test_acc1_instance_egress_open_to_the_internet_fails(
    inline: dict[str, Any], standalone: dict[str, Any] | None
) -> None:
    lt, view = _server(inline, standalone=standalone)
    assert check(ec2.instance_egress_restricted, lt, view) is N


def test_acc1_instance_egress_fails_when_the_group_cannot_be_read() -> None:
    no_group = res("Lt", "AWS::EC2::LaunchTemplate", {"LaunchTemplateData": {}})
    assert check(ec2.instance_egress_restricted, no_group) is N  # the default group allows everything
    imported = res("Lt", "AWS::EC2::LaunchTemplate", {"LaunchTemplateData": {"SecurityGroupIds": ["sg-0123"]}})
    assert check(ec2.instance_egress_restricted, imported) is N

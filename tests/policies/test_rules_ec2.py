"""Tests of policies/rules/ec2.py (EC2 and VPC rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from policies.rules import ec2
from tests.policies.rulekit import NA, C, N, check, res, stack

LT_OK = {
    "LaunchTemplateData": {
        "MetadataOptions": {"HttpTokens": "required"},
        "BlockDeviceMappings": [{"Ebs": {"Encrypted": True, "KmsKeyId": {"Ref": "Key"}}}],
    }
}


def test_no_ssh_ingress() -> None:
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


def test_no_key_pair_and_imdsv2() -> None:
    assert check(ec2.no_key_pair, res("Lt", "AWS::EC2::LaunchTemplate", LT_OK)) is C
    keyed = res("Lt", "AWS::EC2::LaunchTemplate", {"LaunchTemplateData": {"KeyName": "ops"}})
    assert check(ec2.no_key_pair, keyed) is N
    assert check(ec2.no_key_pair, res("K", "AWS::EC2::KeyPair", {"KeyName": "x"})) is N
    assert check(ec2.imdsv2, res("Lt", "AWS::EC2::LaunchTemplate", LT_OK)) is C
    assert check(ec2.imdsv2, keyed) is N


def test_ebs_encrypted_with_customer_key() -> None:
    assert check(ec2.ebs_encrypted, res("Lt", "AWS::EC2::LaunchTemplate", LT_OK)) is C
    aws_key = {
        "LaunchTemplateData": {"BlockDeviceMappings": [{"Ebs": {"Encrypted": True, "KmsKeyId": "alias/aws/ebs"}}]}
    }
    assert check(ec2.ebs_encrypted, res("Lt", "AWS::EC2::LaunchTemplate", aws_key)) is N
    assert check(ec2.ebs_encrypted, res("Lt", "AWS::EC2::LaunchTemplate", {"LaunchTemplateData": {}})) is N
    assert check(ec2.ebs_encrypted, res("V", "AWS::EC2::Volume", {"Encrypted": False})) is N


def test_standalone_instance_fails() -> None:
    assert check(ec2.no_standalone_instance, res("I", "AWS::EC2::Instance")) is N


def _vpc(nats: int, azs: int = 3) -> list:  # type: ignore[type-arg]
    subnets = [
        res(f"S{i}", "AWS::EC2::Subnet", {"VpcId": {"Ref": "Vpc"}, "AvailabilityZone": f"ap-southeast-2{'abc'[i]}"})
        for i in range(azs)
    ]
    return [res("Vpc", "AWS::EC2::VPC"), *subnets, *[res(f"N{i}", "AWS::EC2::NatGateway") for i in range(nats)]]


def test_nat_per_az_in_production_only() -> None:
    good, bad = stack(*_vpc(3)), stack(*_vpc(1))
    assert check(ec2.nat_per_az, good.resources["Vpc"], good) is C
    assert check(ec2.nat_per_az, bad.resources["Vpc"], bad) is N
    dev = stack(*_vpc(1), name="au-development")
    assert check(ec2.nat_per_az, dev.resources["Vpc"], dev) is NA


def test_flow_logs() -> None:
    with_log = stack(res("Vpc", "AWS::EC2::VPC"), res("F", "AWS::EC2::FlowLog", {"ResourceId": {"Ref": "Vpc"}}))
    assert check(ec2.vpc_flow_logs, with_log.resources["Vpc"], with_log) is C
    assert check(ec2.vpc_flow_logs, res("Vpc", "AWS::EC2::VPC")) is N

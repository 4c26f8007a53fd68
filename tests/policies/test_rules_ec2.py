"""EC2/VPC/ASG/ELB rules: compliant and non-compliant cases (ACC-2, ENC-1, HOST-1, HOST-4, ACC-3, DR-1)."""

from __future__ import annotations

from policies.rules import autoscaling, ec2, elbv2
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


def _asg_stack(**asg: object) -> tuple:  # type: ignore[type-arg]
    props = {"MinSize": "2", "VPCZoneIdentifier": ["a", "b"], "TargetGroupARNs": [{"Ref": "Tg"}], **asg}
    view = stack(
        res("Asg", "AWS::AutoScaling::AutoScalingGroup", props),
        res("Alb", "AWS::ElasticLoadBalancingV2::LoadBalancer", {"Type": "application"}),
        res(
            "P",
            "AWS::AutoScaling::ScalingPolicy",
            {"AutoScalingGroupName": {"Ref": "Asg"}, "PolicyType": "TargetTrackingScaling"},
        ),
    )
    return view.resources["Asg"], view


def test_asg_rules() -> None:
    asg, view = _asg_stack()
    for r in (
        autoscaling.asg_capacity,
        autoscaling.asg_target_tracking,
        autoscaling.asg_behind_alb,
        autoscaling.asg_multi_az,
    ):
        assert check(r, asg, view) is C, r.id
    assert check(autoscaling.asg_capacity, *_asg_stack(MinSize="1")) is N
    assert check(autoscaling.asg_multi_az, *_asg_stack(VPCZoneIdentifier=["a"])) is N
    assert check(autoscaling.asg_behind_alb, *_asg_stack(TargetGroupARNs=[])) is N
    lonely = res("Asg", "AWS::AutoScaling::AutoScalingGroup", {"MinSize": "2"})
    assert check(autoscaling.asg_target_tracking, lonely) is N


def test_alb_listener_and_logs() -> None:
    https = res(
        "L",
        "AWS::ElasticLoadBalancingV2::Listener",
        {"Protocol": "HTTPS", "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"},
    )
    redirect = res(
        "L",
        "AWS::ElasticLoadBalancingV2::Listener",
        {"Protocol": "HTTP", "DefaultActions": [{"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS"}}]},
    )
    plain = res(
        "L", "AWS::ElasticLoadBalancingV2::Listener", {"Protocol": "HTTP", "DefaultActions": [{"Type": "forward"}]}
    )
    old_tls = res(
        "L", "AWS::ElasticLoadBalancingV2::Listener", {"Protocol": "HTTPS", "SslPolicy": "ELBSecurityPolicy-2016-08"}
    )
    assert [check(elbv2.alb_https_only, r) for r in (https, redirect, plain, old_tls)] == [C, C, N, N]
    logged = res(
        "A",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {"LoadBalancerAttributes": [{"Key": "access_logs.s3.enabled", "Value": "true"}]},
    )
    assert check(elbv2.alb_access_logs, logged) is C
    assert check(elbv2.alb_access_logs, res("A", "AWS::ElasticLoadBalancingV2::LoadBalancer")) is N

"""EC2 and VPC rules: no SSH, IMDSv2, encrypted volumes, NAT per AZ, flow logs, DR region, instance egress
(ACC-2, ENC-1, HOST-1, HOST-4, ACC-3, DR-1, ACC-1)."""

from __future__ import annotations

from typing import Any

from policies.rules.cfn import as_list, is_customer_key, is_true, ref_id
from policies.rules.model import Resource, Result, StackView, fail, na, ok, rule

_INGRESS_TYPES = ("AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress")


def _opens_port(entry: dict[str, Any], port: int) -> bool:
    protocol = str(entry.get("IpProtocol", "")).lower()
    if protocol in ("-1", "all"):
        return True
    if protocol not in ("tcp", "6"):
        return False
    try:
        low, high = int(entry.get("FromPort", 0)), int(entry.get("ToPort", 65535))
    except (TypeError, ValueError):
        return True  # a port range we cannot read is treated as open
    return low <= port <= high


@rule(
    "ACC2-NoSshIngress",
    "ACC-2",
    _INGRESS_TYPES,
    "ACC-2: no human access to servers except over the audited SSM channel, so no port 22 ingress; this security "
    "group admits port 22.",
    "Seed 001: no human access to servers for releases; access only over an audited encrypted channel.",
)
def no_ssh_ingress(resource: Resource, stack: StackView) -> Result:
    entries = (
        as_list(resource.prop("SecurityGroupIngress"))
        if resource.type == "AWS::EC2::SecurityGroup"
        else [dict(resource.properties)]
    )
    for entry in entries:
        if isinstance(entry, dict) and _opens_port(entry, 22):
            source = entry.get("CidrIp") or entry.get("CidrIpv6") or entry.get("SourceSecurityGroupId") or "?"
            return fail(
                f"ingress {entry.get('IpProtocol')} {entry.get('FromPort')}-{entry.get('ToPort')} from {source}"
            )
    return ok(f"{len(entries)} ingress rule(s), none on port 22")


def _launch_data(resource: Resource) -> dict[str, Any]:
    if resource.type == "AWS::EC2::LaunchTemplate":
        return dict(resource.prop("LaunchTemplateData") or {})
    return dict(resource.properties)


@rule(
    "ACC2-NoKeyPair",
    "ACC-2",
    ("AWS::EC2::LaunchTemplate", "AWS::EC2::Instance", "AWS::EC2::KeyPair"),
    "ACC-2: servers have no SSH keys; this launch template / instance names a key pair.",
    "Seed 001: server access only through an audited channel (SSM Session Manager), never SSH keys.",
)
def no_key_pair(resource: Resource, stack: StackView) -> Result:
    if resource.type == "AWS::EC2::KeyPair":
        return fail("defines an EC2 key pair")
    key = _launch_data(resource).get("KeyName")
    return fail(f"KeyName={key!r}") if key else ok("no key pair")


@rule(
    "ACC2-Imdsv2",
    "ACC-2",
    ("AWS::EC2::LaunchTemplate", "AWS::EC2::Instance"),
    "ACC-2: IMDSv2 is required on every server; this launch template / instance allows IMDSv1.",
    "Seed 001: server credentials are only reachable through the hardened metadata service.",
)
def imdsv2(resource: Resource, stack: StackView) -> Result:
    tokens = (_launch_data(resource).get("MetadataOptions") or {}).get("HttpTokens")
    return ok("HttpTokens=required") if tokens == "required" else fail(f"HttpTokens={tokens or 'optional (default)'}")


@rule(
    "ENC1-EbsEncrypted",
    "ENC-1",
    ("AWS::EC2::LaunchTemplate", "AWS::EC2::Instance", "AWS::EC2::Volume"),
    "ENC-1: EBS volumes are encrypted with a customer-managed KMS key; this volume is unencrypted, uses the "
    "AWS-managed key, or leaves the root volume to the AMI default.",
    "Seeds 001/004: data at rest, EBS volumes and snapshots encrypted with KMS.",
)
def ebs_encrypted(resource: Resource, stack: StackView) -> Result:
    if resource.type == "AWS::EC2::Volume":
        volumes: list[Any] = [dict(resource.properties)]
    else:
        mappings = as_list(_launch_data(resource).get("BlockDeviceMappings"))
        volumes = [m.get("Ebs") for m in mappings if isinstance(m, dict) and m.get("Ebs")]
        if not volumes:
            return fail("no block device mappings: the root volume's encryption falls back to the AMI default")
    for volume in volumes:
        if not is_true(volume.get("Encrypted")):
            return fail("an EBS volume has Encrypted unset/false")
        key = volume.get("KmsKeyId")
        if not is_customer_key(key):
            return fail(f"an EBS volume uses the AWS-managed key (KmsKeyId={key!r})")
    return ok(f"{len(volumes)} volume(s) encrypted with a customer-managed key")


@rule(
    "HOST1-NoStandaloneInstance",
    "HOST-1",
    ("AWS::EC2::Instance",),
    "HOST-1: the web tier is an Auto Scaling group behind an ALB; this is a standalone EC2 instance.",
    "Seeds 000/002: scale horizontally with load balancing and auto scaling.",
)
def no_standalone_instance(resource: Resource, stack: StackView) -> Result:
    return fail("standalone AWS::EC2::Instance outside an Auto Scaling group")


@rule(
    "HOST4-NatPerAz",
    "HOST-4",
    ("AWS::EC2::VPC",),
    "HOST-4: production survives an AZ failure, so it has a NAT gateway in every AZ; this production VPC has fewer "
    "NAT gateways than AZs.",
    "Seeds 000/003: resilient to component failure with automatic shift to another data centre.",
)
def nat_per_az(resource: Resource, stack: StackView) -> Result:
    if not stack.is_production:
        return na("non-production VPC")
    zones = {
        str(s.prop("AvailabilityZone"))
        for s in stack.of_type("AWS::EC2::Subnet")
        if ref_id(s.prop("VpcId")) == resource.logical_id
    }
    nats = sum(1 for _ in stack.of_type("AWS::EC2::NatGateway"))
    if nats < len(zones):
        return fail(f"{nats} NAT gateway(s) for {len(zones)} AZs")
    return ok(f"{nats} NAT gateways over {len(zones)} AZs")


@rule(
    "ACC3-VpcFlowLogs",
    "ACC-3",
    ("AWS::EC2::VPC",),
    "ACC-3: every access is audited, so VPC flow logs are on; this VPC has no flow log.",
    "Seeds 001/003: every access and change audited.",
)
def vpc_flow_logs(resource: Resource, stack: StackView) -> Result:
    for log in stack.of_type("AWS::EC2::FlowLog"):
        if ref_id(log.prop("ResourceId")) == resource.logical_id:
            return ok(f"flow log {log.logical_id} ({log.prop('TrafficType')})")
    return fail("no AWS::EC2::FlowLog for this VPC")


RULES = [
    no_ssh_ingress,
    no_key_pair,
    imdsv2,
    ebs_encrypted,
    no_standalone_instance,
    nat_per_az,
    vpc_flow_logs,
]


_OPEN_NETWORKS = ("0.0.0.0/0", "::/0")


def _launch_security_groups(resource: Resource) -> list[Any]:
    data = _launch_data(resource)
    groups = list(as_list(data.get("SecurityGroupIds"))) + list(as_list(data.get("SecurityGroups")))
    for interface in as_list(data.get("NetworkInterfaces")):
        if isinstance(interface, dict):
            groups.extend(as_list(interface.get("Groups")))
    return groups


def _egress_of(group_id: str, group: Resource, stack: StackView) -> list[dict[str, Any]]:
    """The group's inline egress and the stand-alone `SecurityGroupEgress` resources of its stack."""
    entries = [dict(e) for e in as_list(group.prop("SecurityGroupEgress")) if isinstance(e, dict)]
    for standalone in stack.of_type("AWS::EC2::SecurityGroupEgress"):
        if ref_id(standalone.prop("GroupId")) == group_id:
            entries.append(dict(standalone.properties))
    return entries


def _destination(entry: dict[str, Any]) -> str:
    for key in ("CidrIp", "CidrIpv6", "DestinationPrefixListId", "DestinationSecurityGroupId"):
        if key in entry:
            value = entry[key]
            return value if isinstance(value, str) else f"{key} (a reference)"
    return "?"


@rule(
    "ACC1-InstanceEgressRestricted",
    "ACC-1",
    ("AWS::EC2::LaunchTemplate", "AWS::EC2::Instance"),
    "ACC-1: least privilege on the network too: a server reaches the VPC's endpoints, S3 through its gateway "
    "endpoint, the data tier and allow-listed third-party networks only; this server's security group allows "
    "egress to the whole internet.",
    "Seed 004 via ACC-1: web instances can read every tenant's objects, so nothing may carry them out of the VPC "
    "except to named destinations.",
)
def instance_egress_restricted(resource: Resource, stack: StackView) -> Result:
    groups = _launch_security_groups(resource)
    if not groups:
        return fail("no security group named: the VPC's default group allows all egress")
    destinations = 0
    for value in groups:
        group = stack.get(value)
        if group is None or group.type != "AWS::EC2::SecurityGroup":
            return fail(f"security group {value!r} is not in this stack: its egress cannot be checked")
        for entry in _egress_of(group.logical_id, group, stack):
            destination = _destination(entry)
            if destination in _OPEN_NETWORKS:
                return fail(f"{group.logical_id} allows {entry.get('IpProtocol')} egress to {destination}")
            destinations += 1
    return ok(f"{destinations} named egress destination(s), none open to the internet")

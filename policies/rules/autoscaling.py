"""Auto Scaling rules: the web tier scales horizontally over >= 2 AZs behind an ALB (HOST-1, HOST-4)."""

from __future__ import annotations

from config.policy import WEB_MIN_AVAILABILITY_ZONES, WEB_MIN_INSTANCES
from policies.rules.cfn import as_list, ref_id
from policies.rules.model import Resource, Result, StackView, fail, ok, rule

ASG = ("AWS::AutoScaling::AutoScalingGroup",)


@rule(
    "HOST1-AsgCapacity",
    "HOST-1",
    ASG,
    "HOST-1: the web tier runs at least 2 instances; this Auto Scaling group allows fewer.",
    "Seeds 000/002: horizontal scaling on EC2 with auto scaling.",
)
def asg_capacity(resource: Resource, stack: StackView) -> Result:
    try:
        minimum = int(resource.prop("MinSize", default=0))
    except (TypeError, ValueError):
        return fail(f"MinSize={resource.prop('MinSize')!r} is not a number")
    return ok(f"MinSize={minimum}") if minimum >= WEB_MIN_INSTANCES else fail(f"MinSize={minimum}")


@rule(
    "HOST1-AsgTargetTracking",
    "HOST-1",
    ASG,
    "HOST-1: the web tier scales on load with target tracking; this Auto Scaling group has no target-tracking "
    "scaling policy.",
    "Seeds 000/002: scale horizontally with demand.",
)
def asg_target_tracking(resource: Resource, stack: StackView) -> Result:
    policies = [
        p
        for p in stack.of_type("AWS::AutoScaling::ScalingPolicy")
        if ref_id(p.prop("AutoScalingGroupName")) == resource.logical_id
        and p.prop("PolicyType") == "TargetTrackingScaling"
    ]
    return ok(f"{len(policies)} target-tracking policy(ies)") if policies else fail("no TargetTrackingScaling policy")


@rule(
    "HOST1-AsgBehindAlb",
    "HOST-1",
    ASG,
    "HOST-1: the web tier sits behind an Application Load Balancer; this Auto Scaling group is registered with no "
    "target group.",
    "Seeds 000/002: load balancing in front of the web tier.",
)
def asg_behind_alb(resource: Resource, stack: StackView) -> Result:
    groups = as_list(resource.prop("TargetGroupARNs"))
    if not groups:
        return fail("TargetGroupARNs is empty")
    albs = [
        lb
        for _, lb in stack.in_region("AWS::ElasticLoadBalancingV2::LoadBalancer")
        if lb.prop("Type", default="application") == "application"
    ]
    return (
        ok(f"{len(groups)} target group(s), {len(albs)} ALB(s)")
        if albs
        else fail("no Application Load Balancer in this region")
    )


@rule(
    "HOST4-AsgMultiAz",
    "HOST-4",
    ASG,
    "HOST-4: the web tier survives an AZ failure, so its Auto Scaling group spans >= 2 AZs; this one spans fewer.",
    "Seeds 000/003: automatic shift to another data centre.",
)
def asg_multi_az(resource: Resource, stack: StackView) -> Result:
    subnets = as_list(resource.prop("VPCZoneIdentifier"))
    zones = as_list(resource.prop("AvailabilityZones"))
    spread = max(len(subnets), len(zones))
    return ok(f"{spread} subnets/AZs") if spread >= WEB_MIN_AVAILABILITY_ZONES else fail(f"{spread} subnet(s)/AZ(s)")


RULES = [asg_capacity, asg_target_tracking, asg_behind_alb, asg_multi_az]

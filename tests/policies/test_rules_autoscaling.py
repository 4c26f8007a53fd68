"""Tests of policies/rules/autoscaling.py (Auto Scaling rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from typing import Any

import pytest

from config.policy import WEB_MIN_INSTANCES
from policies.rules import autoscaling
from tests.policies.rulekit import C, N, check, res, stack


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


def test_host1_host4_asg_rules() -> None:
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


@pytest.mark.parametrize(
    ("asg", "expected"),
    [
        pytest.param({"MinSize": str(WEB_MIN_INSTANCES)}, C, id="HOST1-AsgCapacity-exactly-the-minimum"),
        pytest.param({"MinSize": str(WEB_MIN_INSTANCES - 1)}, N, id="HOST1-AsgCapacity-one-below"),
        pytest.param({"MinSize": None}, N, id="HOST1-AsgCapacity-no-min-size"),
        pytest.param({"MinSize": "two"}, N, id="HOST1-AsgCapacity-not-a-number"),
    ],
)
def test_host1_asg_capacity(asg: dict[str, Any], expected: object) -> None:
    assert check(autoscaling.asg_capacity, *_asg_stack(**asg)) is expected


def test_host1_asg_target_tracking_needs_a_target_tracking_policy_on_this_group() -> None:
    """HOST1-AsgTargetTracking: a step policy on this group, or a target-tracking policy on another, is not enough."""
    asg, view = _asg_stack()
    step = res("P", "AWS::AutoScaling::ScalingPolicy", {"AutoScalingGroupName": {"Ref": "Asg"}, "PolicyType": "Step"})
    other = res(
        "P",
        "AWS::AutoScaling::ScalingPolicy",
        {"AutoScalingGroupName": {"Ref": "Other"}, "PolicyType": "TargetTrackingScaling"},
    )
    assert check(autoscaling.asg_target_tracking, asg, view) is C
    assert check(autoscaling.asg_target_tracking, asg, stack(asg, step)) is N
    assert check(autoscaling.asg_target_tracking, asg, stack(asg, other)) is N


@pytest.mark.parametrize(
    ("asg", "expected"),
    [
        pytest.param({"VPCZoneIdentifier": ["a", "b"]}, C, id="HOST4-AsgMultiAz-two-subnets"),
        pytest.param({"VPCZoneIdentifier": None, "AvailabilityZones": ["a", "b"]}, C, id="HOST4-AsgMultiAz-two-azs"),
        pytest.param({"VPCZoneIdentifier": ["a"]}, N, id="HOST4-AsgMultiAz-one-subnet"),
        pytest.param({"VPCZoneIdentifier": None, "AvailabilityZones": ["a"]}, N, id="HOST4-AsgMultiAz-one-az"),
    ],
)
def test_host4_asg_multi_az(asg: dict[str, Any], expected: object) -> None:
    assert check(autoscaling.asg_multi_az, *_asg_stack(**asg)) is expected


@pytest.mark.parametrize(
    ("lb_type", "groups", "expected"),
    [
        pytest.param("application", [{"Ref": "Tg"}], C, id="HOST1-AsgBehindAlb-alb-and-target-group"),
        pytest.param("network", [{"Ref": "Tg"}], N, id="HOST1-AsgBehindAlb-network-load-balancer-only"),
        pytest.param("application", [], N, id="HOST1-AsgBehindAlb-no-target-group"),
    ],
)
def test_host1_asg_behind_alb(lb_type: str, groups: list[Any], expected: object) -> None:
    asg = res("Asg", "AWS::AutoScaling::AutoScalingGroup", {"TargetGroupARNs": groups})
    view = stack(asg, res("Lb", "AWS::ElasticLoadBalancingV2::LoadBalancer", {"Type": lb_type}))
    assert check(autoscaling.asg_behind_alb, asg, view) is expected


def test_host1_asg_capacity_unset_min_size_reads_as_zero() -> None:
    asg = res("Asg", "AWS::AutoScaling::AutoScalingGroup", {})
    assert autoscaling.asg_capacity.check(asg, stack(asg)).detail == "MinSize=0"

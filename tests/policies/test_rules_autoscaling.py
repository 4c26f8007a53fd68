"""Tests of policies/rules/autoscaling.py (Auto Scaling rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

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

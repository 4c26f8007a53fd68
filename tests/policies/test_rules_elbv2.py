"""Tests of policies/rules/elbv2.py (Load balancer rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from policies.rules import elbv2
from tests.policies.rulekit import C, N, check, res


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

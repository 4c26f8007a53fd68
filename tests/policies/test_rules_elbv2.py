"""Tests of policies/rules/elbv2.py (Load balancer rules): compliant and non-compliant cases per rule."""

from __future__ import annotations

from typing import Any

import pytest

from policies.rules import elbv2
from tests.policies.rulekit import NA, C, N, check, res, stack

REDIRECT = {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS"}}


def test_enc3_acc3_alb_listener_and_logs() -> None:
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


@pytest.mark.parametrize(
    ("listener", "expected"),
    [
        pytest.param(
            {"Protocol": "HTTP", "DefaultActions": [REDIRECT]}, C, id="ENC3-AlbHttpsOnly-http-redirects-to-https"
        ),
        pytest.param({"Protocol": "HTTP"}, N, id="ENC3-AlbHttpsOnly-http-without-actions"),
        pytest.param(
            {"Protocol": "HTTP", "DefaultActions": [REDIRECT, {"Type": "forward"}]},
            N,
            id="ENC3-AlbHttpsOnly-http-also-forwards",
        ),
        pytest.param(
            {"Protocol": "HTTPS", "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"}, C, id="ENC3-AlbHttpsOnly-tls12"
        ),
        pytest.param({"Protocol": "TLS", "SslPolicy": "ELBSecurityPolicy-2016-08"}, N, id="ENC3-AlbHttpsOnly-old-tls"),
        pytest.param({"Protocol": "TCP"}, NA, id="ENC3-AlbHttpsOnly-other-protocol"),
    ],
)
def test_enc3_alb_https_only(listener: dict[str, Any], expected: object) -> None:
    assert check(elbv2.alb_https_only, res("L", "AWS::ElasticLoadBalancingV2::Listener", listener)) is expected


def test_enc3_alb_https_only_names_the_default_policy() -> None:
    listener = res("L", "AWS::ElasticLoadBalancingV2::Listener", {"Protocol": "HTTPS"})
    assert elbv2.alb_https_only.check(listener, stack(listener)).detail == "SslPolicy=default allows TLS below 1.2"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("true", C, id="ACC3-AlbAccessLogs-enabled"),
        pytest.param("false", N, id="ACC3-AlbAccessLogs-disabled"),
        pytest.param(None, N, id="ACC3-AlbAccessLogs-attribute-missing"),
    ],
)
def test_acc3_alb_access_logs(value: str | None, expected: object) -> None:
    attributes = [] if value is None else [{"Key": "access_logs.s3.enabled", "Value": value}]
    alb = res("A", "AWS::ElasticLoadBalancingV2::LoadBalancer", {"LoadBalancerAttributes": attributes})
    assert check(elbv2.alb_access_logs, alb) is expected

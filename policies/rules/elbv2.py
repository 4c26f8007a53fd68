"""Load balancer rules: HTTPS only with TLS 1.2+, access logs (ENC-3, ACC-3)."""

from __future__ import annotations

from policies.rules.cfn import as_list, is_true
from policies.rules.model import Resource, Result, StackView, fail, na, ok, rule

# ELB security policies that negotiate TLS 1.2 or later only.
TLS12_POLICY_MARKERS = ("TLS13", "TLS-1-2", "FS-1-2", "TLS12", "PQ-TLS")


def _redirects_to_https(action: object) -> bool:
    if not isinstance(action, dict) or action.get("Type") != "redirect":
        return False
    config = action.get("RedirectConfig") or {}
    return str(config.get("Protocol", "")).upper() == "HTTPS"


@rule(
    "ENC3-AlbHttpsOnly",
    "ENC-3",
    ("AWS::ElasticLoadBalancingV2::Listener",),
    "ENC-3: connections to the app use SSL/TLS 1.2+; this listener serves plain HTTP (without redirecting to "
    "HTTPS) or allows TLS below 1.2.",
    "Seeds 001/004: encrypted connections, SSL to the application.",
)
def alb_https_only(resource: Resource, stack: StackView) -> Result:
    protocol = str(resource.prop("Protocol", default="")).upper()
    if protocol == "HTTP":
        actions = as_list(resource.prop("DefaultActions"))
        if actions and all(_redirects_to_https(a) for a in actions):
            return ok("HTTP listener only redirects to HTTPS")
        return fail("HTTP listener serves traffic instead of redirecting to HTTPS")
    if protocol in ("HTTPS", "TLS"):
        policy = str(resource.prop("SslPolicy", default=""))
        if not any(marker in policy for marker in TLS12_POLICY_MARKERS):
            return fail(f"SslPolicy={policy or 'default'} allows TLS below 1.2")
        return ok(f"{protocol} with {policy}")
    return na(f"protocol {protocol}")


@rule(
    "ACC3-AlbAccessLogs",
    "ACC-3",
    ("AWS::ElasticLoadBalancingV2::LoadBalancer",),
    "ACC-3: every access is audited, so ALB access logs are on; this load balancer has access logging off.",
    "Seeds 001/003: every access audited, audit records kept.",
)
def alb_access_logs(resource: Resource, stack: StackView) -> Result:
    attributes = {
        str(a.get("Key")): a.get("Value")
        for a in as_list(resource.prop("LoadBalancerAttributes"))
        if isinstance(a, dict)
    }
    if not is_true(attributes.get("access_logs.s3.enabled")):
        return fail("access_logs.s3.enabled is not true")
    return ok("access logs on")


RULES = [alb_https_only, alb_access_logs]

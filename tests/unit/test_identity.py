"""IdentityStack (ENC-4, BAK-8): the user pool that owns end-user passwords, built in a bare app."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cognito as cognito
from aws_cdk.assertions import Template

from config import PlatformConfig
from policies.rules import cognito as cognito_rules
from policies.rules.model import Compliance, Resource
from stacks.identity import IdentityStack
from tests.policies.rulekit import stack as view_of


@pytest.fixture(scope="module")
def identity(platform_config: PlatformConfig) -> Template:
    app = cdk.App()
    return Template.from_stack(IdentityStack(app, "Identity", deployment=platform_config.get("au-production")))


def _pool(template: Template) -> Resource:
    ((logical_id, raw),) = template.find_resources("AWS::Cognito::UserPool").items()
    return Resource.from_template(logical_id, raw)


def test_password_policy_encodes_enc4(identity: Template) -> None:
    identity.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "UserPoolName": "au-production-users",
            "Policies": {
                "PasswordPolicy": {
                    "MinimumLength": 8,
                    "RequireUppercase": True,
                    "RequireLowercase": True,
                    "RequireNumbers": True,
                    "RequireSymbols": True,
                    "TemporaryPasswordValidityDays": 3,
                }
            },
            "MfaConfiguration": "OPTIONAL",
            "DeletionProtection": "ACTIVE",
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
        },
    )


def test_user_pool_is_retained(identity: Template) -> None:
    (pool,) = identity.find_resources("AWS::Cognito::UserPool").values()
    assert pool["DeletionPolicy"] == "Retain"  # deletion protection refuses a rollback's delete
    assert pool["UpdateReplacePolicy"] == "Retain"


def test_enc4_rule_passes_the_pool_and_fails_a_weaker_one(identity: Template) -> None:
    pool = _pool(identity)
    view = view_of(pool)
    assert cognito_rules.user_pool_password_policy.check(pool, view).status is Compliance.COMPLIANT
    app = cdk.App()
    weak_stack = cdk.Stack(app, "Weak")
    cognito.UserPool(
        weak_stack,
        "Weak",
        password_policy=cognito.PasswordPolicy(min_length=12, require_symbols=False),
    )
    weak = _pool(Template.from_stack(weak_stack))
    result = cognito_rules.user_pool_password_policy.check(weak, view_of(weak))
    assert result.status is Compliance.NON_COMPLIANT
    assert "RequireSymbols" in result.detail


def test_identity_stack_passes_every_pack(platform_config: PlatformConfig, tmp_path: object) -> None:
    """All five packs (DataSecurity included) run on the stack; a finding raises ValidationFailed."""
    from policies.registration import FAIL_ON_FINDINGS, register_policy_packs
    from tests.conftest import CDK_JSON_CONTEXT

    app = cdk.App(outdir=str(tmp_path), context=CDK_JSON_CONTEXT, post_cli_context=FAIL_ON_FINDINGS)
    IdentityStack(app, "Identity", deployment=platform_config.get("au-production"))
    register_policy_packs(app)
    app.synth()


def test_user_email_goes_through_ses_in_the_pools_region_from_the_deployments_domain(identity: Template) -> None:
    """Issue 17 item 12: not Cognito's default sender (about 50 e-mails a day per account)."""
    email = _pool(identity).prop("EmailConfiguration")
    assert email["EmailSendingAccount"] == "DEVELOPER"
    assert email["From"] == "saas-platform <no-reply@au.saas.example.com>"
    source = json.dumps(email["SourceArn"])  # arn:<partition>:ses:<the pool's region>:<account>:identity/<domain>
    assert ":ses:ap-southeast-2:111111111111:identity/au.saas.example.com" in source


def test_the_dns_stack_verifies_the_sending_domain_with_easy_dkim(platform_config: PlatformConfig) -> None:
    from stacks.dns import DnsStack

    def built(stack_class: type, deployment: str, **extra: str) -> Template:
        return Template.from_stack(stack_class(cdk.App(), "S", deployment=platform_config.get(deployment), **extra))

    production = built(DnsStack, "au-production", role="primary")
    production.has_resource_properties("AWS::SES::EmailIdentity", {"EmailIdentity": "au.saas.example.com"})
    dkim = production.find_resources("AWS::Route53::RecordSet", {"Properties": {"Type": "CNAME"}})
    assert len(dkim) == 3
    built(DnsStack, "au-development", role="primary").resource_count_is("AWS::SES::EmailIdentity", 0)
    built(IdentityStack, "au-development").has_resource_properties(  # Cognito's sender in development
        "AWS::Cognito::UserPool", {"EmailConfiguration": {"EmailSendingAccount": "COGNITO_DEFAULT"}}
    )

"""Identity rules: the user pool's password policy encodes ENC-4 (>= 8 chars, upper, lower, digit, symbol)."""

from __future__ import annotations

from config.policy import PASSWORD_MIN_LENGTH
from policies.rules.cfn import is_true
from policies.rules.model import Resource, Result, StackView, fail, ok, rule


@rule(
    "ENC4-UserPoolPasswordPolicy",
    "ENC-4",
    ("AWS::Cognito::UserPool",),
    "ENC-4: user passwords are >= 8 characters with upper, lower, digit and symbol; this user pool's password "
    "policy is weaker. (While the app has no user pool, the IdP rule is enforced outside these templates.)",
    "Seeds 001/003/004: password strength promised to customers.",
)
def user_pool_password_policy(resource: Resource, stack: StackView) -> Result:
    policy = resource.prop("Policies", "PasswordPolicy", default={}) or {}
    missing = [
        k
        for k in ("RequireUppercase", "RequireLowercase", "RequireNumbers", "RequireSymbols")
        if not is_true(policy.get(k))
    ]
    if int(policy.get("MinimumLength", 0)) < PASSWORD_MIN_LENGTH:
        missing.insert(0, f"MinimumLength>={PASSWORD_MIN_LENGTH}")
    return fail(f"missing {', '.join(missing)}") if missing else ok("strong password policy")


RULES = [user_pool_password_policy]

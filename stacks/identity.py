"""IdentityStack: the Amazon Cognito user pool that owns end users' passwords (ENC-4, BAK-8).

ENC-4 promises that staff cannot see user passwords, that passwords are hashed, and
that they have >= 8 characters with upper case, lower case, a digit and a symbol.
Cognito owns the passwords: the platform never receives or stores them (the app
signs users in through the pool's hosted endpoints / SRP), Cognito stores only a
salted, slow hash (the seeds' "bcrypt-hashed" is met by the identity provider's
hashing, which no operator can read or export), and the pool's password policy
encodes the rule, checked at synth by `DataSecurity-ENC4-UserPoolPasswordPolicy`.

- password policy: minimum length 8, upper, lower, digit, symbol; temporary
  passwords valid 3 days;
- MFA optional (TOTP), users may enrol; account recovery by verified e-mail only;
- no self sign-up (tenants' users are invited), e-mail as the sign-in name,
  case-insensitive;
- deletion protection on and RETAIN (BAK-8): deleting the pool would delete every
  user's credentials;
- e-mail through Amazon SES in the pool's region, from `no-reply@<domain>` (config
  `user_email`; the Dns stack verifies the domain with Easy DKIM). Cognito's own sender
  (about 50 messages a day per account) is allowed in development only.

One pool per deployment, in the primary region, `<deployment>-users`.
"""

from __future__ import annotations

from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from config import Deployment
from policies.acknowledgments import acknowledge
from stacks.base import PlatformStack

PASSWORD_MIN_LENGTH: Final = 8
TEMPORARY_PASSWORD_DAYS: Final = 3


def _sender(deployment: Deployment) -> cognito.UserPoolEmail:
    """SES from the deployment's domain (verified by the Dns stack, same region as the pool), or, in
    development only (config/load.py), Cognito's own sender and its limit of about 50 e-mails a day."""
    from_address = deployment.user_email_from
    if from_address is None:
        return cognito.UserPoolEmail.with_cognito()
    return cognito.UserPoolEmail.with_ses(
        from_email=from_address, from_name=deployment.service, ses_verified_domain=deployment.domain_name
    )


class IdentityStack(PlatformStack):
    def __init__(self, scope: Construct, id: str, *, deployment: Deployment, role: str = "primary") -> None:
        super().__init__(
            scope,
            id,
            deployment=deployment,
            role=role,
            summary="Cognito user pool owning end-user passwords: >= 8 chars, upper, lower, digit, symbol (ENC-4)",
        )
        self.user_pool = cognito.UserPool(
            self,
            "Users",
            user_pool_name=f"{deployment.name}-users",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=PASSWORD_MIN_LENGTH,
                require_uppercase=True,
                require_lowercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=cdk.Duration.days(TEMPORARY_PASSWORD_DAYS),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            email=_sender(deployment),
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.user_pool,
            ["AwsSolutions-COG2"],
            "MFA is optional for end users (ENC-4 promises password strength, not MFA); tenants' "
            "administrators enrol TOTP. Compensating controls: no self sign-up (invited users only), a "
            "password policy of >= 8 characters with all four classes, e-mail-only account recovery.",
        )
        acknowledge(
            self.user_pool,
            ["AwsSolutions-COG8"],
            "Cognito threat protection (advanced security) needs the Plus feature plan, a cost decision "
            "left to each deployment. Compensating controls: invited users only, strong password policy, "
            "optional TOTP MFA, CloudTrail records every Cognito administrative call.",
        )
        cdk.CfnOutput(self, "UserPoolId", value=self.user_pool.user_pool_id)
        cdk.CfnOutput(self, "UserPoolArn", value=self.user_pool.user_pool_arn)

"""SES: the domain identity the Dns stack creates for the user pool's e-mail (issue 17 item 12).

moto 5.2.5 has no CloudFormation model for `AWS::SES::EmailIdentity`, so a template whose DKIM
records read `Fn::GetAtt [identity, DkimDNSTokenName1]` fails to create ("references undefined
resource"). AWS creates the identity and returns Easy DKIM's three tokens as
`DkimDNSTokenName1..3` (`<token>._domainkey.<domain>`) and `DkimDNSTokenValue1..3`
(`<token>.dkim.amazonses.com`):
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ses-emailidentity.html
The model below creates the identity in moto's SES backend and answers those attributes; it
adds nothing else (moto's SES itself reports a domain identity verified at once; AWS verifies it once DNS answers).
"""

from __future__ import annotations

import hashlib
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.ses.models import ses_backends

from tooling.emulator.cfn_models import register_models
from tooling.emulator.patch import Patch

_ATTRIBUTES = tuple(f"DkimDNSToken{kind}{n}" for kind in ("Name", "Value") for n in (1, 2, 3))


class EmailIdentityModel(CloudFormationModel):
    def __init__(self, account_id: str, region: str, identity: str) -> None:
        self.account_id = account_id
        self.region = region
        self.identity = identity
        digest = hashlib.sha256(f"{account_id}/{region}/{identity}".encode()).hexdigest()
        self.tokens = [digest[i * 20 : (i + 1) * 20] for i in range(3)]

    @staticmethod
    def cloudformation_name_type() -> str:
        return "EmailIdentity"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SES::EmailIdentity"

    @property
    def physical_resource_id(self) -> str:
        return self.identity

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in _ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name not in _ATTRIBUTES:
            raise KeyError(attribute_name)
        token = self.tokens[int(attribute_name[-1]) - 1]
        if "Name" in attribute_name:
            return f"{token}._domainkey.{self.identity}"
        return f"{token}.dkim.amazonses.com"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> EmailIdentityModel:
        identity = str(cloudformation_json["Properties"]["EmailIdentity"])
        ses_backends[account_id][region_name].create_email_identity_v2(identity, None, None, None)
        return cls(account_id, region_name, identity)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        identities = ses_backends[account_id][region_name].email_identities
        identities.pop(str(cloudformation_json["Properties"]["EmailIdentity"]), None)


def _apply_email_identity_model() -> None:
    register_models(EmailIdentityModel)


PATCHES = [
    Patch(
        "ses",
        "cloudformation-email-identity",
        "no AWS::SES::EmailIdentity in CloudFormation: its DKIM token attributes fail the Dns stack",
        _apply_email_identity_model,
    ),
]

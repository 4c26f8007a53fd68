"""DnsStack: the deployment's public hosted zone (primary region; Route 53 is global)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_ses as ses
from constructs import Construct

from config import Deployment
from stacks.base import PlatformStack


class DnsStack(PlatformStack):
    """The public zone for `deployment.domain_name`; certificates validate against it and
    the web tier's alias record lives in it. Delegate the domain to the name servers in
    the `NameServers` output. The zone is retained: deleting it would break delegation."""

    def __init__(self, scope: Construct, id: str, *, deployment: Deployment, role: str) -> None:
        super().__init__(
            scope,
            id,
            deployment=deployment,
            role=role,
            summary=f"public hosted zone {deployment.domain_name}",
        )
        self.zone = route53.PublicHostedZone(
            self,
            "Zone",
            zone_name=deployment.domain_name,
            comment=f"{deployment.name}: application domain",
        )
        self.zone.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        if deployment.user_email_from is not None:
            # The user pool sends through SES in this (the primary) region, in the jurisdiction (HOST-2);
            # Easy DKIM's three CNAMEs go into the zone, so the domain verifies once it is delegated.
            self.mail_identity = ses.EmailIdentity(
                self, "MailIdentity", identity=ses.Identity.public_hosted_zone(self.zone)
            )
        cdk.CfnOutput(self, "HostedZoneId", value=self.zone.hosted_zone_id)
        cdk.CfnOutput(self, "NameServers", value=cdk.Fn.join(",", self.zone.hosted_zone_name_servers or []))

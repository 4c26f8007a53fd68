"""Outside-in probing that pages (OPS-2): a CloudWatch Synthetics canary per region.

Route 53 health checks publish their metrics only in us-east-1, so an alarm on them
would live outside the AU and UK jurisdictions (HOST-2). Paging instead comes from a
canary in the deployment's own region: AWS runs it outside our VPC, it requests the
public name and this region's load balancer (by the ALB's own name, with the domain
as TLS server name and Host header) over the internet like a user, and an alarm on
its `SuccessPercent` publishes to this region's Sev1 topic. The DR region's canary
probes the public name too, so a primary region that is down (and cannot page) is
still seen from the DR region. The Route 53 health checks stay: the failover switch
is one, and the ALB checks show each region's health in the Route 53 console.

Artifacts (the step log of each run) go to the region's ALB-log bucket under
`canary/`: operational records of the same class as the load balancer's logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_synthetics as synthetics
from constructs import Construct

from patterns.alerting import severity_alarm
from patterns.iam import ManagedPolicyRole
from patterns.nag_findings import iam5_resource_finding
from policies.acknowledgments import acknowledge

# syn-nodejs-puppeteer-13.0: Lambda Node.js 22.x. Synthetics refuses to create a canary on a deprecated
# runtime (9.1 ran Node.js 20); the preflight checks this one's DeprecationDate in both regions.
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Library_nodejs_puppeteer.html
RUNTIME: Final = synthetics.Runtime.SYNTHETICS_NODEJS_PUPPETEER_13_0
ARTIFACT_PREFIX: Final = "canary"
INTERVAL_MINUTES: Final = 5

# Each target: {"name", "host", "servername", "path"}; a non-2xx answer or a TLS error fails the step.
# The User-Agent header is set explicitly: the web ACL's AWSManagedRulesCommonRuleSet blocks requests
# without one (NoUserAgent_HEADER). 13.0 still loads the library as 'Synthetics' (13.1 renames it).
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Library_function_Nodejs.html
SCRIPT: Final = """
const synthetics = require('Synthetics');

const USER_AGENT = [synthetics.getCanaryUserAgentString(), 'outside-probe'].filter(Boolean).join(' ');

exports.handler = async function () {
  for (const target of JSON.parse(process.env.TARGETS)) {
    await synthetics.executeHttpStep(target.name, {
      hostname: target.host,
      servername: target.servername,
      method: 'GET',
      path: target.path,
      port: 443,
      protocol: 'https:',
      headers: { Host: target.servername, 'User-Agent': USER_AGENT },
    });
  }
};
"""


@dataclass(frozen=True)
class OutsideProbeProps:
    canary_name: str  # at most 21 characters: [0-9a-z_-]
    domain_name: str
    load_balancer_dns_name: str
    health_check_path: str
    artifacts_bucket: s3.IBucket
    alarm_topics: Mapping[int, sns.ITopic]


class OutsideProbe(Construct):
    def __init__(self, scope: Construct, id: str, *, props: OutsideProbeProps) -> None:
        super().__init__(scope, id)
        if len(props.canary_name) > 21:
            raise ValueError(f"canary name {props.canary_name!r}: at most 21 characters")
        stack = cdk.Stack.of(self)
        targets = [
            {"name": "public-name", "host": props.domain_name, "path": props.health_check_path},
            {"name": "this-region-alb", "host": props.load_balancer_dns_name, "path": props.health_check_path},
        ]
        self.role = self._role(props, stack)
        self.canary = synthetics.Canary(
            self,
            "Canary",
            canary_name=props.canary_name,
            runtime=RUNTIME,
            test=synthetics.Test.custom(code=synthetics.Code.from_inline(SCRIPT), handler="index.handler"),
            schedule=synthetics.Schedule.rate(cdk.Duration.minutes(INTERVAL_MINUTES)),
            environment_variables={
                "TARGETS": stack.to_json_string([{**target, "servername": props.domain_name} for target in targets])
            },
            artifacts_bucket_location=synthetics.ArtifactsBucketLocation(
                bucket=props.artifacts_bucket, prefix=ARTIFACT_PREFIX
            ),
            role=self.role,
            start_after_creation=True,
            success_retention_period=cdk.Duration.days(7),
            failure_retention_period=cdk.Duration.days(31),
        )
        self.alarm = severity_alarm(
            self,
            "DownFromOutside",
            topics=props.alarm_topics,
            severity=1,
            summary=f"{props.domain_name} or this region's load balancer failed outside-in probes",
            metric=self.canary.metric_success_percent(period=cdk.Duration.minutes(INTERVAL_MINUTES)),
            threshold=100,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )

    def _role(self, props: OutsideProbeProps, stack: cdk.Stack) -> ManagedPolicyRole:
        role = ManagedPolicyRole(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Synthetics canary {props.canary_name}: probes, writes its artifacts and metrics",
        )
        artifacts = props.artifacts_bucket.arn_for_objects(f"{ARTIFACT_PREFIX}/*")
        logs = f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:/aws/lambda/cwsyn-*"
        role.add_to_principal_policy(
            iam.PolicyStatement(sid="Artifacts", actions=["s3:PutObject"], resources=[artifacts])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ArtifactsBucket",
                actions=["s3:GetBucketLocation"],
                resources=[props.artifacts_bucket.bucket_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="CanaryLogs",
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[logs],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="CanaryMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": "CloudWatchSynthetics"}},
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(sid="CanaryBucketDiscovery", actions=["s3:ListAllMyBuckets"], resources=["*"])
        )
        acknowledge(
            role.grants_policy,
            [
                iam5_resource_finding(stack, artifacts),
                iam5_resource_finding(stack, logs),
                "AwsSolutions-IAM5[Resource::*]",
            ],
            "What a Synthetics canary needs: its artifacts under canary/ only, the log groups Synthetics names "
            "cwsyn-*, and PutMetricData / ListAllMyBuckets, which have no resource type. Compensating controls: "
            "no read of any object, no other bucket, assumed only by the Lambda service for this canary.",
        )
        return role

"""WebStack and DnsStack: HOST-1, HOST-4, HOST-5, ENC-1, ENC-3, ACC-2, ACC-3, ACC-5, OPS-2, BAK-7."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from tests.assertions import assert_a_bucket_policy_denies_plain_http
from tests.conftest import Stages, TemplateOf, au_production_stack

web = au_production_stack("primary", "Web")


def _one(template: Template, type_: str) -> Mapping[str, Any]:
    found = template.find_resources(type_)
    assert len(found) == 1, f"expected one {type_}, found {len(found)}"
    return next(iter(found.values()))


def _text(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def test_launch_template_requires_imdsv2_encrypted_gp3_and_no_key_pair(web: Template) -> None:
    web.has_resource_properties(
        "AWS::EC2::LaunchTemplate",
        {
            "LaunchTemplateData": {
                "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 1},
                "BlockDeviceMappings": [
                    {
                        "DeviceName": "/dev/xvda",
                        "Ebs": {
                            "Encrypted": True,
                            "VolumeType": "gp3",
                            "KmsKeyId": Match.any_value(),
                        },
                    }
                ],
                "Monitoring": {"Enabled": True},
                "IamInstanceProfile": Match.any_value(),
                "UserData": Match.any_value(),
            }
        },
    )
    data = _one(web, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    assert "CustomerKey" in _text(data["BlockDeviceMappings"][0]["Ebs"]["KmsKeyId"])
    assert "KeyName" not in data
    assert "NetworkInterfaces" not in data or all(
        not nic.get("AssociatePublicIpAddress") for nic in data["NetworkInterfaces"]
    )
    user_data = _text(data["UserData"])
    assert "amazon-ssm-agent" in user_data
    assert "/srv/app/placeholder/health" in user_data  # the first boot before any release (OPS-7)


def test_web_tier_is_stateless_and_not_backed_up(web: Template) -> None:
    """BAK-2: the web tier holds no data (rebuilt from its launch template), so no plan selects it:
    tagged backup-tier=stateless, and every volume is deleted with its instance."""
    data = _one(web, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    specs = data["TagSpecifications"]
    assert {spec["ResourceType"] for spec in specs} == {"instance", "volume"}
    for spec in specs:
        tags = {tag["Key"]: tag["Value"] for tag in spec["Tags"]}
        assert tags["backup-tier"] == "stateless"
        assert tags["PatchGroup"] == "au-production-web"
    assert data["BlockDeviceMappings"]
    assert all(m["Ebs"]["DeleteOnTermination"] is True for m in data["BlockDeviceMappings"])
    web.has_resource_properties(
        "AWS::AutoScaling::AutoScalingGroup",
        {"Tags": Match.array_with([{"Key": "backup-tier", "Value": "stateless", "PropagateAtLaunch": True}])},
    )


def test_asg_spans_three_private_subnets_with_elb_health_checks_and_rolling_updates(web: Template) -> None:
    web.has_resource(
        "AWS::AutoScaling::AutoScalingGroup",
        {
            "Properties": {
                "MinSize": "2",
                "MaxSize": "12",
                "HealthCheckType": "ELB",
                "Cooldown": "300",
                "VPCZoneIdentifier": Match.any_value(),
                "NotificationConfigurations": Match.any_value(),
            },
            "UpdatePolicy": {
                "AutoScalingRollingUpdate": Match.object_like({"MaxBatchSize": 1, "MinInstancesInService": 2})
            },
        },
    )
    group = _one(web, "AWS::AutoScaling::AutoScalingGroup")["Properties"]
    assert len(group["VPCZoneIdentifier"]) == 3
    assert "Private" in _text(group["VPCZoneIdentifier"]) or "private" in _text(group["VPCZoneIdentifier"])
    events = {event for config in group["NotificationConfigurations"] for event in config["NotificationTypes"]}
    assert {"autoscaling:EC2_INSTANCE_LAUNCH_ERROR", "autoscaling:EC2_INSTANCE_TERMINATE_ERROR"} <= events


def test_target_tracking_on_cpu_and_on_requests_per_target(web: Template) -> None:
    web.has_resource_properties(
        "AWS::AutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingConfiguration": {
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
                "TargetValue": 55,
            },
        },
    )
    web.has_resource_properties(
        "AWS::AutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingConfiguration": {
                "PredefinedMetricSpecification": Match.object_like(
                    {"PredefinedMetricType": "ALBRequestCountPerTarget"}
                ),
                "TargetValue": 800,
            },
        },
    )


def test_alb_is_internet_facing_over_three_public_subnets_with_hardening(web: Template) -> None:
    web.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {
            "Scheme": "internet-facing",
            "LoadBalancerAttributes": Match.array_with(
                [
                    {"Key": "deletion_protection.enabled", "Value": "true"},
                    {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.bucket", "Value": {"Ref": Match.string_like_regexp("AlbLogsBucket")}},
                ]
            ),
        },
    )
    assert len(_one(web, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]["Subnets"]) == 3


def test_https_listener_uses_tls12_plus_policy_and_acm_certificate(web: Template) -> None:
    web.has_resource_properties(
        "AWS::CertificateManager::Certificate",
        {"DomainName": "au.saas.example.com", "ValidationMethod": "DNS"},
    )
    web.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 443,
            "Protocol": "HTTPS",
            "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "Certificates": [{"CertificateArn": {"Ref": Match.string_like_regexp("Certificate")}}],
            "DefaultActions": [Match.object_like({"Type": "forward"})],
        },
    )


def test_port_80_only_redirects_to_https(web: Template) -> None:
    web.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 80,
            "Protocol": "HTTP",
            "DefaultActions": [
                {
                    "Type": "redirect",
                    "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
                }
            ],
        },
    )
    for listener in web.find_resources("AWS::ElasticLoadBalancingV2::Listener").values():
        props = listener["Properties"]
        if props["Protocol"] == "HTTP":
            assert all(action["Type"] == "redirect" for action in props["DefaultActions"])
    assert not web.find_resources("AWS::ElasticLoadBalancingV2::ListenerRule")


def test_waf_has_managed_rules_and_rate_limit_and_protects_the_alb(web: Template) -> None:
    acl = _one(web, "AWS::WAFv2::WebACL")["Properties"]
    assert acl["Scope"] == "REGIONAL"
    groups = {
        rule["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for rule in acl["Rules"]
        if "ManagedRuleGroupStatement" in rule["Statement"]
    }
    assert groups == {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesSQLiRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    }
    rate = [rule for rule in acl["Rules"] if "RateBasedStatement" in rule["Statement"]]
    assert len(rate) == 1
    assert rate[0]["Action"] == {"Block": {}}
    web.has_resource_properties(
        "AWS::WAFv2::WebACLAssociation",
        {
            "ResourceArn": {"Ref": Match.string_like_regexp("WebTierAlb")},
            "WebACLArn": {"Fn::GetAtt": [Match.string_like_regexp("WafWebAcl"), "Arn"]},
        },
    )


def test_waf_logs_to_an_encrypted_retained_aws_waf_logs_group(web: Template) -> None:
    web.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {
                "LogGroupName": "aws-waf-logs-au-production-primary",
                "KmsKeyId": Match.any_value(),
                "RetentionInDays": 365,
            },
            "DeletionPolicy": "RetainExceptOnCreate",
        },
    )
    waf_group = [g for g in web.find_resources("AWS::Logs::LogGroup").values() if "waf" in _text(g)]
    assert "LogsKey" in _text(waf_group[0]["Properties"]["KmsKeyId"])
    web.has_resource_properties(
        "AWS::WAFv2::LoggingConfiguration",
        {"LogDestinationConfigs": [Match.any_value()], "RedactedFields": Match.any_value()},
    )


def test_alarms_carry_severity_and_publish_to_that_severity_topic(web: Template) -> None:
    alarms = web.find_resources("AWS::CloudWatch::Alarm")
    metrics = {alarm["Properties"]["MetricName"] for alarm in alarms.values()}
    assert {"HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "UnHealthyHostCount"} <= metrics
    assert {"TargetResponseTime", "HealthyHostCount"} <= metrics
    for alarm in alarms.values():
        props = alarm["Properties"]
        severity = props["AlarmDescription"][:4]
        assert severity in {"Sev1", "Sev2", "Sev3", "Sev4"}, props["AlarmDescription"]
        assert len(props["AlarmActions"]) == 1
        assert f"{severity}Topic" in _text(props["AlarmActions"])


@pytest.mark.parametrize(("role", "stack_id"), [("primary", "Web"), ("dr", "StandbyWeb")])
def test_each_regions_certificate_pages_sev2_when_it_is_not_renewed(
    au_production: Stages, template_of: TemplateOf, role: str, stack_id: str
) -> None:
    """Issue 17 item 8: the DR certificate renews through the CNAME the primary's certificate made;
    the alarm on its own DaysToExpiry, in its own region, shows when renewal stops."""
    template = template_of(au_production, role, stack_id)
    [(certificate_id, _)] = template.find_resources("AWS::CertificateManager::Certificate").items()
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": f"au-production-{role}-certificate-expiry",
            "Namespace": "AWS/CertificateManager",
            "MetricName": "DaysToExpiry",
            "Dimensions": [{"Name": "CertificateArn", "Value": {"Ref": certificate_id}}],
            "Statistic": "Minimum",
            "Period": 86400,
            "Threshold": 45,  # ACM renews from 60 days before expiry
            "ComparisonOperator": "LessThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmDescription": Match.string_like_regexp("^Sev2: the ACM certificate of au.saas.example.com"),
        },
    )
    [alarm] = template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"AlarmName": f"au-production-{role}-certificate-expiry"}}
    ).values()
    assert "Sev2Topic" in _text(alarm["Properties"]["AlarmActions"])  # the region's own Sev2 topic


def test_only_the_alb_admits_the_internet_and_only_on_443_and_80(web: Template) -> None:
    open_ports: list[int] = []
    for group in web.find_resources("AWS::EC2::SecurityGroup").values():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            if rule.get("CidrIp") == "0.0.0.0/0" or rule.get("CidrIpv6") == "::/0":
                assert "ALB" in group["Properties"]["GroupDescription"]
                open_ports.append(rule["FromPort"])
                assert rule["FromPort"] == rule["ToPort"]
    assert sorted(open_ports) == [80, 443]
    for rule in web.find_resources("AWS::EC2::SecurityGroupIngress").values():
        assert "CidrIp" not in rule["Properties"]
    web.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {
            "FromPort": 8080,
            "ToPort": 8080,
            "GroupId": {"Fn::GetAtt": [Match.string_like_regexp("AppSecurityGroup"), "GroupId"]},
            "SourceSecurityGroupId": {"Fn::GetAtt": [Match.string_like_regexp("AlbSecurityGroup"), "GroupId"]},
        },
    )


def test_app_reaches_postgres_and_redis_security_groups(web: Template) -> None:
    targets = [
        _text(rule["Properties"]["GroupId"])
        for rule in web.find_resources(
            "AWS::EC2::SecurityGroupIngress",
            {
                "Properties": {
                    "SourceSecurityGroupId": {"Fn::GetAtt": [Match.string_like_regexp("AppSecurityGroup"), "GroupId"]}
                }
            },
        ).values()
    ]
    for store in ("PostgresSecurityGroup", "RedisSecurityGroup"):
        assert sum(store in target for target in targets) == 1, store


def test_no_port_22_and_no_key_pairs_anywhere(au_production: Stages, template_of: TemplateOf) -> None:
    for role, stage in au_production.items():
        for stack in stage.stacks:
            template = template_of(au_production, role, stack.node.id)
            assert not template.find_resources("AWS::EC2::KeyPair")
            for type_ in ("AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"):
                for resource in template.find_resources(type_).values():
                    props = resource["Properties"]
                    rules = props.get("SecurityGroupIngress", [props]) if type_.endswith("Group") else [props]
                    for rule in rules:
                        low, high = rule.get("FromPort"), rule.get("ToPort")
                        if low is not None and high is not None:
                            assert not low <= 22 <= high, f"{stack.node.id}: port 22 open"
                        assert rule.get("IpProtocol") != "-1" or rule.get("CidrIp") is None
            for template_data in template.find_resources("AWS::EC2::LaunchTemplate").values():
                assert "KeyName" not in template_data["Properties"]["LaunchTemplateData"]


def _instance_role_statements(web: Template) -> list[dict[str, Any]]:
    roles = web.find_resources(
        "AWS::IAM::Role",
        {
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Statement": [Match.object_like({"Principal": {"Service": "ec2.amazonaws.com"}})]
                }
            }
        },
    )
    assert len(roles) == 1
    (role_id,) = roles
    policies = [
        policy
        for policy in web.find_resources("AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_id} in policy["Properties"].get("Roles", [])
    ]
    assert len(policies) == 1
    return list(policies[0]["Properties"]["PolicyDocument"]["Statement"])


def test_instance_role_has_ssm_agent_rights_in_a_customer_managed_policy(web: Template) -> None:
    statements = _instance_role_statements(web)
    actions = {
        action for s in statements for action in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert {"ssmmessages:CreateControlChannel", "ec2messages:GetMessages", "ssm:UpdateInstanceInformation"} <= actions
    web.resource_count_is("AWS::IAM::Policy", 0)
    for role in web.find_resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]


def test_instance_role_never_reaches_backups_or_the_backup_key(web: Template) -> None:
    """ACC-5: archival backups are not reachable from public-facing servers."""
    statements = _instance_role_statements(web)
    text = _text(statements).lower()
    assert "backup" not in text
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert "*" not in actions
        assert not any(
            action.startswith(("backup:", "backup-storage:", "iam:", "kms:Create", "s3:PutBucket"))
            for action in actions
        )


def test_instance_role_s3_access_is_the_tenant_prefix_of_the_content_bucket(
    au_production: Stages, web: Template, template_of: TemplateOf
) -> None:
    data = template_of(au_production, "primary", "Data")
    names = [
        bucket["Properties"].get("BucketName")
        for bucket in data.find_resources("AWS::S3::Bucket").values()
        if "content" in str(bucket["Properties"].get("BucketName", ""))
    ]
    assert len(names) == 1, "the data tier's content bucket has a deterministic name"
    # The release artifacts are the instances' other S3 read (tests/unit/test_releases.py).
    statements = [s for s in _instance_role_statements(web) if s.get("Sid") != "ReadReleasedArtifactsOnly"]
    s3_resources = [
        resource
        for statement in statements
        if any(
            str(action).startswith("s3:")
            for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
        )
        for resource in (statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]])
    ]
    assert s3_resources
    for resource in map(_text, s3_resources):
        assert names[0] in resource
        tail = resource.rstrip('"]}')
        assert tail.endswith((f"{names[0]}/tenants/*", names[0])), resource


def test_alb_log_bucket_is_sse_s3_versioned_tls_only_archived_and_retained(web: Template) -> None:
    web.has_resource(
        "AWS::S3::Bucket",
        {
            "Properties": {
                "BucketName": "au-production-primary-alb-logs-111111111111",
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
                "VersioningConfiguration": {"Status": "Enabled"},
                "LoggingConfiguration": {"LogFilePrefix": "alb-logs/", "DestinationBucketName": Match.any_value()},
                "LifecycleConfiguration": {
                    "Rules": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 30}],
                                    "ExpirationInDays": 2555,
                                }
                            )
                        ]
                    )
                },
            },
            "DeletionPolicy": "Retain",
        },
    )
    assert_a_bucket_policy_denies_plain_http(web)


def test_dns_zone_alias_record_and_external_health_check(
    au_production: Stages, web: Template, template_of: TemplateOf
) -> None:
    dns = template_of(au_production, "primary", "Dns")
    dns.has_resource(
        "AWS::Route53::HostedZone",
        {"Properties": {"Name": "au.saas.example.com."}, "DeletionPolicy": "RetainExceptOnCreate"},
    )
    web.has_resource_properties(
        "AWS::Route53::RecordSet", {"Name": "au.saas.example.com.", "Type": "A", "AliasTarget": Match.any_value()}
    )
    # OPS-2: probed from outside through this region's ALB name (tests/unit/test_standby.py: both regions).
    web.has_resource_properties(
        "AWS::Route53::HealthCheck",
        {
            "HealthCheckConfig": Match.object_like(
                {
                    "Type": "HTTPS",
                    "FullyQualifiedDomainName": {"Fn::GetAtt": [Match.string_like_regexp("WebTierAlb"), "DNSName"]},
                    "ResourcePath": "/health",
                    "RequestInterval": 30,
                    "FailureThreshold": 3,
                }
            ),
            "HealthCheckTags": Match.array_with([{"Key": "Name", "Value": "au-production-primary-alb"}]),
        },
    )


def test_development_sizing_and_the_web_tier_only_in_the_primary_region(
    au_development: Stages, template_of: TemplateOf
) -> None:
    web = template_of(au_development, "primary", "Web")
    web.has_resource_properties("AWS::AutoScaling::AutoScalingGroup", {"MinSize": "2", "MaxSize": "3"})
    web.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {"LoadBalancerAttributes": Match.array_with([{"Key": "deletion_protection.enabled", "Value": "true"}])},
    )
    assert au_development["dr"].node.try_find_child("Web") is None
    stack = au_development["primary"].node.find_child("Web")
    assert isinstance(stack, cdk.Stack)
    assert stack.termination_protection is False


def _app_egress(template: Template) -> list[dict[str, Any]]:
    (group,) = template.find_resources(
        "AWS::EC2::SecurityGroup", {"Properties": {"GroupDescription": Match.string_like_regexp("web instances")}}
    ).values()
    standalone = template.find_resources(
        "AWS::EC2::SecurityGroupEgress",
        {"Properties": {"GroupId": {"Fn::GetAtt": [Match.string_like_regexp("AppSecurityGroup"), "GroupId"]}}},
    )
    return [*group["Properties"]["SecurityGroupEgress"], *(r["Properties"] for r in standalone.values())]


@pytest.mark.parametrize(("role", "stack_id"), [("primary", "Web"), ("dr", "StandbyWeb")])
def test_instances_reach_only_the_vpc_endpoints_s3_and_the_data_tier(
    au_production: Stages, template_of: TemplateOf, role: str, stack_id: str
) -> None:
    """Issue 18 item 6 (ACC-1): no egress to the internet; S3 through its gateway endpoint's AWS-managed prefix
    list, whose id is an SSM-typed parameter of this stack (tooling/region_facts.py writes it)."""
    template = template_of(au_production, role, stack_id)
    egress = _app_egress(template)
    assert not [e for e in egress if e.get("CidrIp") == "0.0.0.0/0" or e.get("CidrIpv6") == "::/0"]
    assert all("CidrIp" not in e for e in egress)  # the shipped config allow-lists no third-party API
    (endpoints,) = [e for e in egress if e.get("Description") == "HTTPS to the VPC's AWS interface endpoints"]
    assert (endpoints["FromPort"], endpoints["ToPort"]) == (443, 443)
    assert "NetworkEndpointSecurityGroup" in _text(endpoints["DestinationSecurityGroupId"])
    (s3,) = [e for e in egress if "DestinationPrefixListId" in e]
    assert (s3["FromPort"], s3["ToPort"]) == (443, 443)
    parameter = template.to_json()["Parameters"][s3["DestinationPrefixListId"]["Ref"]]
    assert parameter == {
        "Type": "AWS::SSM::Parameter::Value<String>",
        "Default": f"/au-production-{role}/network/s3-prefix-list-id",
    }
    data_ports = sorted(e["FromPort"] for e in egress if "DestinationSecurityGroupId" in e and e is not endpoints)
    assert data_ports == [5433, 6380]  # PostgreSQL (or its replica) and Redis


def test_an_allow_listed_third_party_api_is_the_only_other_destination() -> None:
    """`web_egress.allow` in config becomes one egress rule per entry, port and network as configured."""
    from aws_cdk import aws_certificatemanager as acm
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3
    from aws_cdk import aws_sns as sns

    from config import EgressRule
    from patterns.web_tier import WebEgress, WebTier, WebTierProps

    stack = cdk.Stack(cdk.App(), "Egress", env=cdk.Environment(account="111111111111", region="ap-southeast-2"))
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    vendor = EgressRule(cidr="203.0.113.0/24", port=8443, reason="payment provider's API")
    WebTier(
        stack,
        "Web",
        props=WebTierProps(
            name_prefix="t",
            vpc=vpc,
            certificate=acm.Certificate.from_certificate_arn(
                stack, "Cert", "arn:aws:acm:ap-southeast-2:111111111111:certificate/x"
            ),
            access_log_bucket=s3.Bucket.from_bucket_name(stack, "Logs", "logs"),
            volume_key=kms.Key(stack, "Key"),
            instance_type="t3.small",
            min_capacity=2,
            max_capacity=4,
            cpu_target_percent=60,
            requests_per_target_per_minute=1000,
            deletion_protection=True,
            patch_group="p",
            alarm_topics={severity: sns.Topic(stack, f"Sev{severity}") for severity in (1, 2, 3, 4)},
            egress=WebEgress(
                endpoint_security_group_id="sg-endpoints", s3_prefix_list_id="pl-s3", third_party=(vendor,)
            ),
        ),
    )
    egress = _app_egress(Template.from_stack(stack))
    assert {
        (e.get("CidrIp") or e.get("DestinationPrefixListId") or e.get("DestinationSecurityGroupId"), e["FromPort"])
        for e in egress
    } == {
        ("sg-endpoints", 443),
        ("pl-s3", 443),
        ("203.0.113.0/24", 8443),
    }
    (third_party,) = [e for e in egress if e.get("CidrIp")]
    assert third_party["Description"] == "payment provider's API" and third_party["ToPort"] == 8443

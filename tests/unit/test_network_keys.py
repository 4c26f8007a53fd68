"""KeysStack and NetworkStack: ENC-1, ENC-2, ACC-3, BAK-7, HOST-4."""

from __future__ import annotations

from aws_cdk.assertions import Match

from tests.conftest import Stages, TemplateOf


def test_one_rotating_retained_key_per_data_class(au_production: Stages, template_of: TemplateOf) -> None:
    keys = template_of(au_production, "primary", "Keys")
    keys.resource_count_is("AWS::KMS::Key", 5)
    keys.all_resources("AWS::KMS::Key", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
    keys.all_resources_properties("AWS::KMS::Key", {"EnableKeyRotation": True, "PendingWindowInDays": 30})
    for data_class in ("customer", "system", "logs", "backup", "codebase"):
        keys.has_resource_properties("AWS::KMS::Alias", {"AliasName": f"alias/au-production/{data_class}"})
        keys.has_resource_properties(
            "AWS::KMS::Key",
            {"Tags": Match.array_with([{"Key": "data-classification", "Value": data_class}])},
        )


def test_logs_key_admits_cloudwatch_logs_of_its_own_region_only(au_production: Stages, template_of: TemplateOf) -> None:
    keys = template_of(au_production, "primary", "Keys")
    keys.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Principal": {"Service": "logs.ap-southeast-2.amazonaws.com"},
                                "Condition": {"ArnLike": Match.any_value()},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_production_vpc_spans_three_pinned_azs_with_a_nat_each(au_production: Stages, template_of: TemplateOf) -> None:
    network = template_of(au_production, "primary", "Network")
    network.resource_count_is("AWS::EC2::NatGateway", 3)
    network.resource_count_is("AWS::EC2::Subnet", 9)
    for zone in ("ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"):
        network.has_resource_properties("AWS::EC2::Subnet", {"AvailabilityZone": zone})
    network.all_resources_properties("AWS::EC2::Subnet", {"MapPublicIpOnLaunch": False})


def test_development_uses_a_single_nat(au_development: Stages, template_of: TemplateOf) -> None:
    template_of(au_development, "primary", "Network").resource_count_is("AWS::EC2::NatGateway", 1)


def test_flow_logs_capture_all_traffic_into_encrypted_retained_log_group(
    au_production: Stages, template_of: TemplateOf
) -> None:
    network = template_of(au_production, "primary", "Network")
    network.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "ALL", "ResourceType": "VPC"})
    network.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {"KmsKeyId": Match.any_value(), "RetentionInDays": 365},
            "DeletionPolicy": "RetainExceptOnCreate",
        },
    )
    network.resource_count_is("AWS::IAM::Policy", 0)


def test_private_endpoints_and_closed_default_security_group(au_production: Stages, template_of: TemplateOf) -> None:
    network = template_of(au_production, "primary", "Network")
    network.resource_count_is("AWS::EC2::VPCEndpoint", 7)
    for service in ("ssm", "ssmmessages", "ec2messages", "kms", "secretsmanager", "logs"):
        network.has_resource_properties(
            "AWS::EC2::VPCEndpoint",
            {"ServiceName": f"com.amazonaws.ap-southeast-2.{service}", "PrivateDnsEnabled": True},
        )
    network.resource_count_is("Custom::VpcRestrictDefaultSG", 1)


def test_default_sg_provider_logs_to_a_managed_encrypted_group(au_production: Stages, template_of: TemplateOf) -> None:
    network = template_of(au_production, "primary", "Network")
    network.has_resource_properties(
        "AWS::Lambda::Function",
        {"LoggingConfig": {"LogGroup": {"Ref": Match.string_like_regexp("RestrictDefaultSgLogs")}}},
    )
    network.all_resources_properties("AWS::Logs::LogGroup", {"KmsKeyId": Match.any_value(), "RetentionInDays": 365})


def test_no_ingress_from_the_internet_in_the_network_stack(au_production: Stages, template_of: TemplateOf) -> None:
    network = template_of(au_production, "primary", "Network")
    for group in network.find_resources("AWS::EC2::SecurityGroup").values():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            assert rule.get("CidrIp") != "0.0.0.0/0"


def test_dr_stage_is_in_the_dr_region_of_the_same_jurisdiction(au_production: Stages) -> None:
    assert au_production["primary"].region == "ap-southeast-2"
    assert au_production["dr"].region == "ap-southeast-4"
    for stage in au_production.values():
        for stack in stage.stacks:
            assert stack.termination_protection is True
            assert stack.tags.tag_values()["jurisdiction"] == "au"

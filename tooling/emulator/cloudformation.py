"""CloudFormation: what the CDK CLI's deploy needs that moto 5.2.5's CloudFormation lacks or gets wrong.

| patch                          | why                                                                     |
|--------------------------------|-------------------------------------------------------------------------|
| update-termination-protection  | UpdateTerminationProtection is "not implemented" (the CLI calls it)     |
| kms-key-tags                   | AWS::KMS::Key Tags passed as Key/Value to a TagKey/TagValue service      |
| get-stack-output               | Fn::GetStackOutput (weak cross-stack references) left unresolved         |
| change-set-outputs             | a stack deployed by change set gets no outputs                           |
| not-modelled-outputs           | an output of a type moto skips fails the stack: NOT_MODELLED ARN instead |
| parameter-group-ref            | Ref to a DBParameterGroup resolves to the model object, not its name     |
| get-att-extra                  | GetAtt DbiResourceId, HealthCheckId, TargetGroupFullName, ALB            |
|                                | LoadBalancerFullName / CanonicalHostedZoneID unsupported or unresolved  |
| listener-certificate           | an HTTPS listener with an unresolved (ACM) certificate fails             |
| change-sets-per-stack          | change sets found by name across stacks; delete of a missing one is 500  |
| ssm-parameter-on-update        | an update looks the AMI parameter up by its resolved value               |
| bucket-and-db-settings         | S3 versioning / public access block and RDS DeletionProtection dropped   |

Emulator-only: the templates are the same for AWS and for moto; this file only
teaches the emulator `UpdateTerminationProtection`, which the CDK CLI calls for
every stack with termination protection (all production stacks, BAK-8). moto
5.2.5 answers it with "not implemented", which fails the deploy. It also fixes
moto's CloudFormation handler for `AWS::KMS::Key`, which passes the template's
`Tags` (Key/Value) to a tagging service that expects TagKey/TagValue and fails
the stack with KeyError 'TagKey'. And it resolves `Fn::GetStackOutput`, the
intrinsic that CDK's recommended weak cross-stack references
(`@aws-cdk/core:defaultCrossStackReferences: weak` in cdk.json) synthesize and
that moto passes through unresolved; for that, a stack created or updated through
a change set (how the CDK CLI deploys) must also get its outputs, which moto's
change-set execution does not refresh. An output that refers to a resource type
moto accepts but does not model (AWS Backup, WAF, ...) reads as a NOT_MODELLED ARN.
Finally, a `Ref` to an `AWS::RDS::DBParameterGroup` resolves to moto's model object
instead of the group name, which fails the DB instance that uses it, and
`Fn::GetAtt` of a DB instance's `DbiResourceId` or a Route 53 health check's
`HealthCheckId` is not supported, and an HTTPS listener whose certificate moto
does not resolve (ACM) fails: it gets an emulator-issued certificate instead.
Change sets: moto finds them by name across all stacks (every CDK stack uses
`cdk-deploy-change-set`) and answers a delete of a missing one with a 500 that
the CLI retries forever; here they are found per stack. On a stack update moto
looks up an SSM-typed parameter (the AMI) by its already-resolved value and fails.
Properties moto's CloudFormation handlers drop and our e2e test checks through
boto3 are applied as the real service would: S3 `VersioningConfiguration` and
`PublicAccessBlockConfiguration`, RDS `DeletionProtection`.

The AWS behaviour each fix follows: UpdateTerminationProtection
(https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_UpdateTerminationProtection.html);
`Fn::GetStackOutput`, resolved to the named stack's output in the named region
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-getstackoutput.html);
outputs after ExecuteChangeSet as after CreateStack/UpdateStack
(https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ExecuteChangeSet.html);
change sets are a stack's own (a name is unique per stack, DescribeChangeSet of a missing one is
`ChangeSetNotFound`: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeChangeSet.html);
`Ref` of `AWS::RDS::DBParameterGroup` is the group's name and `Fn::GetAtt` `DbiResourceId`, `HealthCheckId`,
`TargetGroupFullName`, `LoadBalancerFullName`, `CanonicalHostedZoneID` as their resource references document
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-rds-dbinstance.html#aws-resource-rds-dbinstance-return-values
and the pages of the other types); `AWS::SSM::Parameter::Value<...>` parameters resolved on every update
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-ssm-parameters.html);
`VersioningConfiguration`, `PublicAccessBlockConfiguration` and `DeletionProtection` applied as declared
(aws-resource-s3-bucket.html, aws-resource-rds-dbinstance.html). Where moto does not model a type (ACM,
AWS Backup, WAF) an output or certificate is a NOT_MODELLED ARN-shaped placeholder, never a real value.
"""

from __future__ import annotations

from typing import Any

from moto.acm.models import acm_backends
from moto.cloudformation import models as cloudformation_models
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult, EmptyResult
from moto.elbv2.models import ELBv2Backend, FakeLoadBalancer, FakeTargetGroup
from moto.kms.models import Key
from moto.rds.models import DBInstance, DBParameterGroup
from moto.route53.models import HealthCheck
from moto.s3.models import FakeBucket, s3_backends
from moto.ssm.models import ssm_backends

from tooling import summary
from tooling.emulator.patch import Patch


def update_termination_protection(self: CloudFormationResponse) -> ActionResult:
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    stack.enable_termination_protection = bool(self._get_bool_param("EnableTerminationProtection"))
    return ActionResult({"StackId": stack.stack_id})


_create_key_from_cloudformation = Key.create_from_cloudformation_json


def create_key_from_cloudformation(
    resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
) -> Key:
    properties = dict(cloudformation_json["Properties"])
    properties["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in properties.get("Tags", [])]
    fixed = {**cloudformation_json, "Properties": properties}
    return _create_key_from_cloudformation(resource_name, fixed, account_id, region_name, **kwargs)


_clean_json = parsing.clean_json


def clean_json_with_stack_outputs(resource_json: Any, resources_map: Any) -> Any:
    """moto's intrinsic resolver plus `Fn::GetStackOutput` (StackName, OutputName, Region)."""
    if isinstance(resource_json, dict) and "Fn::GetStackOutput" in resource_json:
        spec = _clean_json(resource_json["Fn::GetStackOutput"], resources_map)
        region = spec.get("Region") or resources_map._region_name
        backend = cloudformation_models.cloudformation_backends[resources_map._account_id][region]
        stack = backend.get_stack(spec["StackName"])
        for output in stack.output_map.values():
            if output is not None and output.key == spec["OutputName"]:
                return output.value
        raise ValidationError(spec["StackName"], f"stack {spec['StackName']} has no output {spec['OutputName']}")
    return _clean_json(resource_json, resources_map)


_apply_change_set = cloudformation_models.ChangeSet.apply


def apply_change_set_with_outputs(self: Any) -> None:
    _apply_change_set(self)
    self.stack.template = self.template
    self.stack._parse_template()
    self.stack.output_map = self.stack._create_output_map()


# ARN-shaped, because such values end up in IAM policies that moto validates.
NOT_MODELLED = summary.NOT_MODELLED
_get_output = parsing.OutputMap.__getitem__


def get_output_or_placeholder(self: Any, key: str) -> Any:
    try:
        output = _get_output(self, key)
    except (ValidationError, AttributeError):  # a type or attribute moto does not model
        output = None
    if output is None and "Condition" not in (self._output_json_map.get(key) or {}):
        resources = self._resource_map
        value = f"arn:aws:emulator:{resources._region_name}:{resources._account_id}:{NOT_MODELLED}/{key}"
        output = parsing.Output(key=key, value=value, description="")
    return output


def parameter_group_physical_id(self: DBParameterGroup) -> str:
    return str(self.name)


_DB_ATTRIBUTES = {"DbiResourceId": "dbi_resource_id"}
_db_has_attribute = DBInstance.has_cfn_attr
_db_get_attribute = DBInstance.get_cfn_attribute


def db_has_attribute(cls: Any, attribute: str) -> bool:
    return attribute in _DB_ATTRIBUTES or bool(_db_has_attribute(attribute))


def db_get_attribute(self: DBInstance, attribute: str) -> Any:
    if attribute in _DB_ATTRIBUTES:
        return getattr(self, _DB_ATTRIBUTES[attribute])
    return _db_get_attribute(self, attribute)


def health_check_attribute(self: HealthCheck, attribute: str) -> Any:
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    if attribute == "HealthCheckId":
        return self.id
    raise UnformattedGetAttTemplateException()


def target_group_has_attribute(cls: Any, attribute: str) -> bool:
    return attribute in ("TargetGroupFullName", "TargetGroupArn", "TargetGroupName")


def target_group_attribute(self: FakeTargetGroup, attribute: str) -> Any:
    """`targetgroup/<name>/<id>`, the CloudWatch dimension value, as AWS returns it."""
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    if attribute == "TargetGroupFullName":
        return self.arn.split(":")[-1]
    if attribute == "TargetGroupArn":
        return self.arn
    if attribute == "TargetGroupName":
        return self.name
    raise UnformattedGetAttTemplateException()


_load_balancer_attribute = FakeLoadBalancer.get_cfn_attribute


def load_balancer_attribute(self: FakeLoadBalancer, attribute: str) -> Any:
    """`app/<name>/<id>` (the CloudWatch dimension) and the zone id that moto shows in DescribeLoadBalancers."""
    if attribute == "LoadBalancerFullName":
        return self.arn.split(":loadbalancer/", 1)[-1]
    if attribute == "CanonicalHostedZoneID":
        return self.canonical_hosted_zone_id
    return _load_balancer_attribute(self, attribute)


def certificates_with_placeholder_arn(self: ELBv2Backend, certificates: list[dict[str, Any]]) -> Any:
    """A listener certificate that moto could not resolve becomes an emulator-issued one."""
    for certificate in certificates or []:
        if not certificate.get("CertificateArn"):
            acm = acm_backends[self.account_id][self.region_name]
            certificate["CertificateArn"] = acm.request_certificate(
                domain_name="emulator.invalid", idempotency_token="emulator-listener", subject_alt_names=[], tags=[]
            )
    return certificates


def _change_set_id(response: CloudFormationResponse) -> str | None:
    name = response._get_param("ChangeSetName")
    stack_name = response._get_param("StackName")
    change_sets = response.cloudformation_backend.change_sets
    if name in change_sets:
        return str(name)
    for change_set_id, change_set in change_sets.items():
        if change_set.change_set_name == name and stack_name in (None, change_set.stack_name, change_set.stack_id):
            return str(change_set_id)
    return None


def delete_change_set(self: CloudFormationResponse) -> EmptyResult:
    change_set_id = _change_set_id(self)
    if change_set_id is not None:
        del self.cloudformation_backend.change_sets[change_set_id]
    return EmptyResult()


class ChangeSetNotFoundError(CloudFormationError):
    code = "ChangeSetNotFound"  # what the CLI waits for after deleting a change set


def describe_change_set(self: CloudFormationResponse) -> ActionResult:
    change_set_id = _change_set_id(self)
    if change_set_id is None:
        raise ChangeSetNotFoundError(f"ChangeSet [{self._get_param('ChangeSetName')}] does not exist")
    return ActionResult(self.cloudformation_backend.change_sets[change_set_id])


def execute_change_set(self: CloudFormationResponse) -> EmptyResult:
    change_set_id = _change_set_id(self)
    if change_set_id is None:
        raise ChangeSetNotFoundError(f"ChangeSet [{self._get_param('ChangeSetName')}] does not exist")
    self.cloudformation_backend.execute_change_set(change_set_name=change_set_id)
    return EmptyResult()


_parse_ssm_parameter = parsing.ResourceMap.parse_ssm_parameter


def parse_ssm_parameter_once(self: Any, value: str, value_type: str) -> Any:
    store = ssm_backends[self._account_id][self._region_name]
    if store.get_parameter(value) is None:
        return value  # resolved on create; an update passes the previous value
    return _parse_ssm_parameter(self, value, value_type)


_create_bucket = FakeBucket.create_from_cloudformation_json
_create_db_instance = DBInstance.create_from_cloudformation_json


def create_bucket_with_settings(
    resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
) -> FakeBucket:
    bucket = _create_bucket(resource_name, cloudformation_json, account_id, region_name, **kwargs)
    properties = cloudformation_json.get("Properties", {})
    backend = s3_backends[account_id]["aws"]
    if status := properties.get("VersioningConfiguration", {}).get("Status"):
        backend.put_bucket_versioning(bucket.name, status)
    if block := properties.get("PublicAccessBlockConfiguration"):
        backend.put_public_access_block(bucket.name, block)
    return bucket


def create_db_instance_with_protection(
    resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
) -> DBInstance:
    database = _create_db_instance(resource_name, cloudformation_json, account_id, region_name, **kwargs)
    properties = cloudformation_json.get("Properties", {})
    database.deletion_protection = bool(properties.get("DeletionProtection", False))
    return database


def _apply_update_termination_protection() -> None:
    CloudFormationResponse.update_termination_protection = update_termination_protection  # type: ignore[attr-defined]


def _apply_kms_key_tags() -> None:
    Key.create_from_cloudformation_json = staticmethod(create_key_from_cloudformation)  # type: ignore[method-assign]


def _apply_get_stack_output() -> None:
    # clean_json recurses through the module attribute, so nested intrinsics resolve too.
    parsing.clean_json = clean_json_with_stack_outputs


def _apply_change_set_outputs() -> None:
    cloudformation_models.ChangeSet.apply = apply_change_set_with_outputs  # type: ignore[method-assign]


def _apply_not_modelled_outputs() -> None:
    parsing.OutputMap.__getitem__ = get_output_or_placeholder  # type: ignore[method-assign]


def _apply_parameter_group_ref() -> None:
    DBParameterGroup.physical_resource_id = property(parameter_group_physical_id)  # type: ignore[attr-defined]


def _apply_get_att_extra() -> None:
    HealthCheck.get_cfn_attribute = health_check_attribute  # type: ignore[attr-defined]
    DBInstance.has_cfn_attr = classmethod(db_has_attribute)  # type: ignore[method-assign,assignment]
    DBInstance.get_cfn_attribute = db_get_attribute  # type: ignore[method-assign,assignment]
    FakeTargetGroup.has_cfn_attr = classmethod(target_group_has_attribute)  # type: ignore[method-assign,assignment]
    FakeTargetGroup.get_cfn_attribute = target_group_attribute  # type: ignore[attr-defined]
    FakeLoadBalancer.get_cfn_attribute = load_balancer_attribute  # type: ignore[method-assign,assignment]


def _apply_listener_certificate() -> None:
    ELBv2Backend.convert_and_validate_certificates = certificates_with_placeholder_arn  # type: ignore[method-assign]


def _apply_change_sets_per_stack() -> None:
    CloudFormationResponse.delete_change_set = delete_change_set  # type: ignore[method-assign]
    CloudFormationResponse.describe_change_set = describe_change_set  # type: ignore[method-assign]
    CloudFormationResponse.execute_change_set = execute_change_set  # type: ignore[method-assign]


def _apply_ssm_parameter_on_update() -> None:
    parsing.ResourceMap.parse_ssm_parameter = parse_ssm_parameter_once  # type: ignore[method-assign]


def _apply_bucket_and_db_settings() -> None:
    FakeBucket.create_from_cloudformation_json = staticmethod(create_bucket_with_settings)  # type: ignore[method-assign]
    DBInstance.create_from_cloudformation_json = staticmethod(create_db_instance_with_protection)  # type: ignore[method-assign]


_CFN = "cloudformation"
PATCHES = [
    Patch(_CFN, "update-termination-protection", "not implemented in moto", _apply_update_termination_protection),
    Patch(_CFN, "kms-key-tags", "Key/Value tags fail with KeyError 'TagKey'", _apply_kms_key_tags),
    Patch(_CFN, "get-stack-output", "Fn::GetStackOutput left unresolved", _apply_get_stack_output),
    Patch(_CFN, "change-set-outputs", "change-set execution leaves outputs stale", _apply_change_set_outputs),
    Patch(_CFN, "not-modelled-outputs", "outputs of skipped types fail", _apply_not_modelled_outputs),
    Patch(_CFN, "parameter-group-ref", "Ref gives the model, not the name", _apply_parameter_group_ref),
    Patch(
        _CFN,
        "get-att-extra",
        "GetAtt of DbiResourceId, HealthCheckId, TG/ALB FullName, ALB zone id",
        _apply_get_att_extra,
    ),
    Patch(_CFN, "listener-certificate", "unresolved ACM certificate fails", _apply_listener_certificate),
    Patch(_CFN, "change-sets-per-stack", "change sets matched across stacks", _apply_change_sets_per_stack),
    Patch(_CFN, "ssm-parameter-on-update", "SSM lookup by resolved value", _apply_ssm_parameter_on_update),
    # Before tooling.emulator: its S3 and RDS CloudFormation fixes wrap these.
    Patch(_CFN, "bucket-and-db-settings", "template settings dropped", _apply_bucket_and_db_settings),
]

"""Secrets Manager: `AWS::SecretsManager::Secret` (with `ReplicaRegions`) and `StopReplicationToReplica`."""

from __future__ import annotations

import json
import uuid
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.secretsmanager.models import FakeSecret, ReplicaSecret, secretsmanager_backends
from moto.secretsmanager.responses import SecretsManagerResponse

from tooling.emulator.cfn_models import register_models
from tooling.emulator.patch import Patch


def _secret_string(properties: dict[str, Any], backend: Any) -> str | None:
    if properties.get("SecretString") is not None:
        return str(properties["SecretString"])
    generate = properties.get("GenerateSecretString")
    if generate is None:
        return None
    password = backend.get_random_password(
        password_length=int(generate.get("PasswordLength", 32)),
        exclude_characters=generate.get("ExcludeCharacters", ""),
        exclude_numbers=bool(generate.get("ExcludeNumbers", False)),
        exclude_punctuation=bool(generate.get("ExcludePunctuation", False)),
        exclude_uppercase=bool(generate.get("ExcludeUppercase", False)),
        exclude_lowercase=bool(generate.get("ExcludeLowercase", False)),
        include_space=bool(generate.get("IncludeSpace", False)),
        require_each_included_type=bool(generate.get("RequireEachIncludedType", True)),
    )
    value = json.loads(password)["RandomPassword"] if password.startswith("{") else password
    if generate.get("SecretStringTemplate") and generate.get("GenerateStringKey"):
        document = json.loads(generate["SecretStringTemplate"])
        document[generate["GenerateStringKey"]] = value
        return json.dumps(document)
    return str(value)


class CloudFormationSecret(CloudFormationModel):
    """`AWS::SecretsManager::Secret`, which moto's CloudFormation skips; Ref is the ARN, as on AWS."""

    def __init__(self, arn: str, name: str, region_name: str) -> None:
        self.arn = arn
        self.name = name
        self.region_name = region_name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::Secret"

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @classmethod
    def has_cfn_attr(cls, attribute: str) -> bool:
        return attribute == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name == "Id":
            return self.arn
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> CloudFormationSecret:
        properties = cloudformation_json.get("Properties", {})
        backend = secretsmanager_backends[account_id][region_name]
        name = properties.get("Name") or resource_name
        if name in backend.secrets:  # an update of an unchanged name: keep the secret and its versions
            return cls(backend.secrets[name].arn, name, region_name)
        replicas = [
            {"Region": r["Region"], "KmsKeyId": r.get("KmsKeyId", "")} for r in properties.get("ReplicaRegions", [])
        ]
        backend.create_secret(
            name=name,
            secret_string=_secret_string(properties, backend),
            secret_binary=None,
            description=properties.get("Description"),
            tags=properties.get("Tags") or None,
            kms_key_id=properties.get("KmsKeyId"),
            client_request_token=str(uuid.uuid4()),
            replica_regions=replicas,
            force_overwrite=False,
        )
        return cls(backend.secrets[name].arn, name, region_name)

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource: Any, new_resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> CloudFormationSecret:
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str
    ) -> None:
        backend = secretsmanager_backends[account_id][region_name]
        if resource_name in backend.secrets:
            backend.delete_secret(resource_name, recovery_window_in_days=None, force_delete_without_recovery=True)


def stop_replication_to_replica(backend: Any, secret_id: str) -> str:
    """Called in the replica's region: the replica becomes a standalone secret of that region."""
    from moto.secretsmanager.exceptions import InvalidParameterException

    replica = backend.describe_secret(secret_id)
    if not isinstance(replica, ReplicaSecret):
        raise InvalidParameterException("This secret is not a replica: it is a standalone (primary) secret.")
    source: FakeSecret = replica.source
    source.replicas = [r for r in source.replicas if r.region != replica.region]
    dict.pop(backend.secrets, replica.arn)
    version_id = source.default_version_id or str(uuid.uuid4())
    version = source.versions.get(version_id, {})
    standalone = FakeSecret(
        account_id=backend.account_id,
        region_name=backend.region_name,
        secret_id=source.name,
        secret_version=dict(version),
        version_id=version_id,
        secret_string=version.get("secret_string") or source.secret_string,
        description=source.description,
        tags=source.tags,
        kms_key_id=replica.config.get("KmsKeyId"),
        version_stages=["AWSCURRENT"],
        created_date=source.created_date,
    )
    standalone.versions = {key: dict(value) for key, value in source.versions.items()}
    backend.secrets[standalone.name] = standalone
    return str(standalone.arn)


def _stop_replication_response(self: SecretsManagerResponse) -> str:
    arn = stop_replication_to_replica(self.backend, self._get_param("SecretId"))
    return json.dumps({"ARN": arn})


def _apply_cloudformation() -> None:
    register_models(CloudFormationSecret)


def _apply_stop_replication() -> None:
    SecretsManagerResponse.stop_replication_to_replica = _stop_replication_response  # type: ignore[attr-defined]


PATCHES = [
    Patch(
        "secretsmanager",
        "cloudformation-secret",
        "AWS::SecretsManager::Secret (GenerateSecretString, ReplicaRegions) is skipped by moto's CloudFormation",
        _apply_cloudformation,
    ),
    Patch(
        "secretsmanager",
        "stop-replication-to-replica",
        "StopReplicationToReplica is not implemented; AWS makes the replica a standalone secret of its region",
        _apply_stop_replication,
    ),
]

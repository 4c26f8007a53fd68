"""KeysStack: the deployment's customer-managed keys in one region (ENC-1, ENC-2)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from config import Deployment
from config.topology import PRIMARY, FailoverTopology
from patterns.keys import DataClassKeyRing, KeyRingProps
from stacks.base import PlatformStack


class KeysStack(PlatformStack):
    def __init__(self, scope: Construct, id: str, *, deployment: Deployment, role: str) -> None:
        super().__init__(
            scope,
            id,
            deployment=deployment,
            role=role,
            summary="customer-managed KMS keys, one per data class (ENC-2)",
        )
        self.key_ring = DataClassKeyRing(self, "KeyRing", props=KeyRingProps(alias_prefix=deployment.name))
        for data_class, key in self.key_ring.keys.items():
            cdk.CfnOutput(self, f"{data_class.capitalize()}KeyArn", value=key.key_arn)
        if role == PRIMARY:
            # Read by the Data stack's hosted rotation as an SSM-typed parameter (patterns/encrypted_postgres.py).
            ssm.StringParameter(
                self,
                "RotationKeyArn",
                parameter_name=FailoverTopology.of(deployment).rotation_key_parameter(),
                description=f"{self.name_prefix}: the system key that encrypts the database credentials",
                string_value=self.key_ring.system.key_arn,
            )

"""The master secret's rotation and password across a failback (DR-2, ENC-2), pinned with botocore
Stubbers against the Secrets Manager and RDS API contracts: moto cannot run a rotation function."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from runbooks import master_secret

SECRET = "au-production-primary-postgres/master"
LAMBDA = "arn:aws:lambda:ap-southeast-2:111111111111:function:au-production-primary-postgres-rotation"
RULES = {"AutomaticallyAfterDays": 30}


@pytest.fixture
def secrets() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "secretsmanager", region_name="ap-southeast-2", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def described(*, enabled: bool, stages: dict[str, list[str]] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"Name": SECRET, "RotationEnabled": enabled, "RotationLambdaARN": LAMBDA}
    found["RotationRules"] = RULES
    found["VersionIdsToStages"] = stages or {"v" * 32: ["AWSCURRENT"]}
    return found


def test_pause_turns_rotation_off_and_drops_a_stale_pending_label(secrets: tuple[Any, Stubber]) -> None:
    client, stub = secrets
    current, pending = "c" * 32, "p" * 32
    stages = {current: ["AWSCURRENT"], pending: ["AWSPENDING"]}
    stub.add_response("describe_secret", described(enabled=True, stages=stages), {"SecretId": SECRET})
    stub.add_response("cancel_rotate_secret", {"Name": SECRET}, {"SecretId": SECRET})
    stub.add_response(
        "update_secret_version_stage",
        {"Name": SECRET},
        {"SecretId": SECRET, "VersionStage": "AWSPENDING", "RemoveFromVersionId": pending},
    )
    detail = master_secret.pause_rotation(client, SECRET)
    assert detail["was_enabled"] is True
    assert detail["rotation_lambda_arn"] == LAMBDA and detail["rotation_rules"] == RULES
    assert detail["removed_pending_from"] == pending


def test_pause_of_a_paused_secret_changes_nothing(secrets: tuple[Any, Stubber]) -> None:
    client, stub = secrets
    both = {"c" * 32: ["AWSCURRENT", "AWSPENDING"]}  # a finished rotation: AWSPENDING beside AWSCURRENT is fine
    stub.add_response("describe_secret", described(enabled=False, stages=both), {"SecretId": SECRET})
    detail = master_secret.pause_rotation(client, SECRET)
    assert detail["was_enabled"] is False and "removed_pending_from" not in detail


def test_resume_restores_the_recorded_function_and_schedule_without_rotating(secrets: tuple[Any, Stubber]) -> None:
    client, stub = secrets
    paused = {"was_enabled": True, "rotation_lambda_arn": LAMBDA, "rotation_rules": RULES}
    stub.add_response("describe_secret", described(enabled=False), {"SecretId": SECRET})
    expected = {"SecretId": SECRET, "RotateImmediately": False, "RotationLambdaARN": LAMBDA, "RotationRules": RULES}
    stub.add_response("rotate_secret", {"Name": SECRET}, expected)
    assert master_secret.resume_rotation(client, SECRET, paused) is not None


@pytest.mark.parametrize("paused", [None, {"was_enabled": False}])
def test_resume_leaves_a_rotation_that_was_off_alone(secrets: tuple[Any, Stubber], paused: Any) -> None:
    client, _ = secrets
    assert master_secret.resume_rotation(client, SECRET, paused) is None  # no call at all


def test_resume_is_idempotent_once_rotation_is_on(secrets: tuple[Any, Stubber]) -> None:
    client, stub = secrets
    stub.add_response("describe_secret", described(enabled=True), {"SecretId": SECRET})
    assert master_secret.resume_rotation(client, SECRET, {"was_enabled": True}) is None


def test_reset_gives_the_writer_the_current_password() -> None:
    kwargs: dict[str, Any] = {"aws_access_key_id": "x", "aws_secret_access_key": "x", "region_name": "ap-southeast-2"}
    secrets, rds = boto3.client("secretsmanager", **kwargs), boto3.client("rds", **kwargs)
    value = json.dumps({"username": "app", "password": "current-1A!", "host": "h"})
    with Stubber(secrets) as secret_stub, Stubber(rds) as rds_stub:
        secret_stub.add_response(
            "get_secret_value", {"SecretString": value}, {"SecretId": SECRET, "VersionStage": "AWSCURRENT"}
        )
        db = "au-production-primary-postgres"
        expected = {"DBInstanceIdentifier": db, "MasterUserPassword": "current-1A!", "ApplyImmediately": True}
        rds_stub.add_response("modify_db_instance", {}, expected)
        detail = master_secret.reset_master_password(rds, secrets, secret_id=SECRET, db_instance_id=db)
    assert "current-1A!" not in json.dumps(detail)  # the audit log never holds the password


def test_reset_refuses_a_secret_without_a_password(secrets: tuple[Any, Stubber]) -> None:
    client, stub = secrets
    stub.add_response("get_secret_value", {"SecretString": '{"username": "app"}'})
    with pytest.raises(ValueError, match="password"):
        master_secret.reset_master_password(object(), client, secret_id=SECRET, db_instance_id="db")

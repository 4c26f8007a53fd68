"""The database master secret across a failover and a failback (DR-1, DR-2, ENC-2).

A rotation changes the database password and the secret together (setSecret, then finishSecret),
so it must not run while the writer moves between regions: in the region that is not serving it
would change a password nobody uses, or fail halfway and leave `AWSPENDING` on a version of its
own. The failover pauses the rotation of the promoted DR secret; the failback pauses the primary
secret's rotation before it fences the old primary, sets the new primary writer's password to
the primary secret's current value once it is promoted (the DR-era password it inherited from
the DR writer is the one the replicated secret is about to overwrite), and turns the rotation
back on at the end with the schedule it had.

Secrets Manager: `CancelRotateSecret` turns automatic rotation off; "to turn on automatic rotation
again, call RotateSecret"; a cancelled rotation "can leave the VersionStage labels in an
unexpected state. You might need to remove the staging label AWSPENDING from the partially created
version" (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CancelRotateSecret.html).
`RotateSecret` with `RotateImmediately=false` keeps the current value and only tests the rotation
function (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html).
RDS: `ModifyDBInstance` `MasterUserPassword` resets the master password
(https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html).
"""

from __future__ import annotations

import json
from typing import Any

PENDING = "AWSPENDING"
CURRENT = "AWSCURRENT"


def pause_rotation(secretsmanager: Any, secret_id: str) -> dict[str, Any]:
    """Turn off the secret's rotation (if on) and drop an `AWSPENDING` label that a failed or
    cancelled rotation left on a version other than the current one; idempotent. The returned
    detail holds what `resume_rotation` needs to restore the schedule."""
    secret = secretsmanager.describe_secret(SecretId=secret_id)
    enabled = bool(secret.get("RotationEnabled"))
    if enabled:
        secretsmanager.cancel_rotate_secret(SecretId=secret_id)
    detail: dict[str, Any] = {"secret": secret_id, "was_enabled": enabled, "paused": True}
    if secret.get("RotationLambdaARN"):
        detail["rotation_lambda_arn"] = secret["RotationLambdaARN"]
    if secret.get("RotationRules"):
        detail["rotation_rules"] = secret["RotationRules"]
    stale = _stale_pending_version(secret)
    if stale is not None:
        secretsmanager.update_secret_version_stage(SecretId=secret_id, VersionStage=PENDING, RemoveFromVersionId=stale)
        detail["removed_pending_from"] = stale
    return detail


def _stale_pending_version(secret: dict[str, Any]) -> str | None:
    for version, stages in (secret.get("VersionIdsToStages") or {}).items():
        if PENDING in stages and CURRENT not in stages:
            return str(version)
    return None


def current_password(secretsmanager: Any, secret_id: str) -> str:
    value = secretsmanager.get_secret_value(SecretId=secret_id, VersionStage=CURRENT)
    try:
        password = json.loads(value["SecretString"])["password"]
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{secret_id}: AWSCURRENT is not a JSON object with a `password` field") from error
    return str(password)


def reset_master_password(rds: Any, secretsmanager: Any, *, secret_id: str, db_instance_id: str) -> dict[str, Any]:
    """Give the writer the secret's current password. The password itself is never logged."""
    password = current_password(secretsmanager, secret_id)
    rds.modify_db_instance(DBInstanceIdentifier=db_instance_id, MasterUserPassword=password, ApplyImmediately=True)
    return {"db": db_instance_id, "password_from": f"{secret_id} ({CURRENT})"}


def resume_rotation(secretsmanager: Any, secret_id: str, paused: dict[str, Any] | None) -> dict[str, Any] | None:
    """Turn the rotation paused by `pause_rotation` back on with its recorded function and schedule.
    None when there is nothing to resume (it was off, or is on again)."""
    if not paused or not paused.get("was_enabled"):
        return None
    if secretsmanager.describe_secret(SecretId=secret_id).get("RotationEnabled"):
        return None
    arguments: dict[str, Any] = {"SecretId": secret_id, "RotateImmediately": False}
    if paused.get("rotation_lambda_arn"):
        arguments["RotationLambdaARN"] = paused["rotation_lambda_arn"]
    if paused.get("rotation_rules"):
        arguments["RotationRules"] = paused["rotation_rules"]
    secretsmanager.rotate_secret(**arguments)
    return {"secret": secret_id, "resumed": True, **{k: v for k, v in arguments.items() if k != "SecretId"}}

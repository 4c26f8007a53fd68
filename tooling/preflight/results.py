"""The vocabulary of every preflight check: results, options, the client factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

ClientFactory = Callable[[str, str], Any]  # (service, region) -> boto3 client
NameServerLookup = Callable[[str], set[str]]
AWS_ERRORS: Final = (ClientError, BotoCoreError)
DEFAULT_BOOTSTRAP_VERSION: Final = 6


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class CheckResult:
    check: str
    scope: str  # a region, or "global"
    status: Status
    message: str
    remedy: str = ""


@dataclass(frozen=True)
class PreflightOptions:
    """What the checks expect; defaults come from the synthesized assembly (`from_assembly`)."""

    required_bootstrap_version: int = DEFAULT_BOOTSTRAP_VERSION
    # Regions where the stacks still create `SSM-SessionManagerRunShell` (then an existing one is a fail).
    session_document_regions: frozenset[str] = frozenset()
    # True inside the deploy job before it bootstraps: a missing/old/admin toolkit is then a warn.
    bootstrap_pending: bool = False
    # Named resources of the assembly: (region, stack name, logical id, type, physical name).
    named_resources: tuple[NamedResource, ...] = ()
    # (region, functions that may run at once: Lambda functions, canaries, hosted rotations) of the assembly.
    lambda_functions: tuple[tuple[str, int], ...] = ()
    profile: str | None = None


@dataclass(frozen=True)
class NamedResource:
    region: str
    stack_name: str
    stage_path: str  # `au-production-primary/Data`, what `cdk import` takes
    logical_id: str
    resource_type: str
    name: str


def error_code(error: Exception) -> str:
    response = getattr(error, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def profile_flag(options: PreflightOptions) -> str:
    return f" --profile {options.profile}" if options.profile else ""

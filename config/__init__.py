"""Deployment configuration: typed model, policy limits and the validating loader."""

from config.load import ConfigError, load_config, parse_config
from config.model import (
    AwsConfig,
    Deployment,
    Environment,
    Jurisdiction,
    MaintenanceWindow,
    PlatformConfig,
    Retention,
    Sizing,
    Standby,
)

__all__ = [
    "AwsConfig",
    "ConfigError",
    "Deployment",
    "Environment",
    "Jurisdiction",
    "MaintenanceWindow",
    "PlatformConfig",
    "Retention",
    "Sizing",
    "Standby",
    "load_config",
    "parse_config",
]

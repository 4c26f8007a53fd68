"""Deployment configuration: typed model, policy limits and the validating loader."""

from config.errors import ConfigError, ConfigErrors, ConfigSyntaxError
from config.load import load_config, parse_config
from config.model import (
    AwsConfig,
    DeliveryPipeline,
    Deployment,
    EgressRule,
    Environment,
    Jurisdiction,
    MaintenanceWindow,
    PlatformConfig,
    RegionSizing,
    Release,
    Retention,
    Sizing,
    Standby,
)

__all__ = [
    "AwsConfig",
    "ConfigError",
    "ConfigErrors",
    "ConfigSyntaxError",
    "DeliveryPipeline",
    "Deployment",
    "EgressRule",
    "Environment",
    "Jurisdiction",
    "MaintenanceWindow",
    "PlatformConfig",
    "RegionSizing",
    "Release",
    "Retention",
    "Sizing",
    "Standby",
    "load_config",
    "parse_config",
]

"""Load and validate the deployment configuration: the one place config is read.

Validation reads the whole file and reports every error at once (`ConfigErrors`), each
naming the field, the value and what is allowed (and the policy clause where one
applies), before any construct is created. A TOML syntax error names the file and line.

Reading is here; the structure (tables, keys, types -> config/model.py objects) is
config/parse.py, the policy checks per concern config/validate/, the error types and
their collector config/errors.py.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from config.errors import ConfigError, ConfigErrors, ConfigSyntaxError, ErrorCollector
from config.model import PlatformConfig
from config.parse import parse_platform
from config.validate.accounts import check_accounts_separate, check_tooling_accounts

DEFAULT_CONFIG_PATH = Path(__file__).with_name("deployments.toml")

_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)$|\(at end of document\)$")


def load_config(path: Path = DEFAULT_CONFIG_PATH) -> PlatformConfig:
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError("config file", str(path), "an existing TOML file") from None
    except tomllib.TOMLDecodeError as error:
        raise _syntax_error(path, error) from None
    return parse_config(raw, source=str(path))


def parse_config(raw: Mapping[str, Any], source: str = "configuration") -> PlatformConfig:
    """Validate a whole configuration; raise `ConfigErrors` listing every error found."""
    errors = ErrorCollector()
    platform = parse_platform(raw, errors)
    check_accounts_separate(platform.deployments, errors)
    check_tooling_accounts(platform.pipelines, platform.deployments, errors)
    if errors.found:
        raise ConfigErrors(errors.found, source)
    return platform


def _syntax_error(path: Path, error: tomllib.TOMLDecodeError) -> ConfigSyntaxError:
    message = str(error)
    match = _TOML_POSITION.search(message)
    reason = message[: match.start()].strip() if match else message
    if match and match.group(1):
        return ConfigSyntaxError(path, int(match.group(1)), int(match.group(2)), reason)
    return ConfigSyntaxError(path, None, None, reason)

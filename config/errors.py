"""The errors of a configuration file, and the collector that gathers every one of them.

Validation never stops at the first error: each part of the loader reports into one
`ErrorCollector`, and `config/load.py` raises `ConfigErrors` with all of them at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A configuration value that is malformed or breaks the policy."""

    def __init__(self, field: str, value: object, allowed: str, clause: str | None = None):
        self.field = field
        self.value = value
        self.allowed = allowed
        self.clause = clause
        prefix = f"[{clause}] " if clause else ""
        super().__init__(f"{prefix}invalid config {field} = {value!r}: allowed {allowed}")


class InstanceClassNotOfferedError(ConfigError):
    """An RDS class the region does not offer for PostgreSQL (cfn-lint's region data, config/offerings.py)."""

    def __init__(self, field: str, value: str, region: str, offered: Sequence[str], deployment: str):
        self.region = region
        self.offered = tuple(offered)
        super().__init__(
            field,
            value,
            f"a PostgreSQL class RDS offers in {region} (the {deployment} database there): {', '.join(offered)}; "
            f'a DR region may have its own: [environments.<env>.region_sizing."{region}"] db_instance_class',
        )


class ConfigErrors(ConfigError):  # noqa: N818 (the plural of ConfigError: every error of a file)
    """Every error of one configuration file, one per line of the message.

    A `ConfigError` (so `except ConfigError` catches it); `field`, `value`, `allowed` and
    `clause` are those of the first error, `errors` holds them all in file order."""

    def __init__(self, errors: Sequence[ConfigError], source: str = "configuration"):
        if not errors:
            raise ValueError("ConfigErrors needs at least one error")
        self.errors = tuple(errors)
        self.source = source
        first = self.errors[0]
        self.field, self.value, self.allowed, self.clause = first.field, first.value, first.allowed, first.clause
        count = f"{len(self.errors)} error" + ("s" if len(self.errors) > 1 else "")
        lines = [f"{count} in {source}:", *(f"  {error}" for error in self.errors)]
        ValueError.__init__(self, "\n".join(lines))


class ConfigSyntaxError(ConfigError):
    """The file cannot be read as TOML: its path, line and column, and why."""

    def __init__(self, path: Path, line: int | None, column: int | None, reason: str):
        self.path, self.line, self.column, self.reason = path, line, column, reason
        where = f"{path}:{line}:{column}" if line is not None else str(path)
        position = f"line {line}, column {column}" if line is not None else "end of file"
        self.field, self.value, self.allowed, self.clause = where, reason, "valid TOML", None
        ValueError.__init__(self, f"{where}: invalid TOML at {position}: {reason}")


class ErrorCollector:
    """Collects every error of a file (once each) instead of stopping at the first."""

    def __init__(self) -> None:
        self.found: list[ConfigError] = []
        self.count = 0  # every error reported, repeats included: "did this part fail?" compares it
        self._seen: set[tuple[str, str, str, str | None]] = set()

    def add(self, field: str, value: object, allowed: str, clause: str | None = None) -> None:
        self.count += 1
        key = (field, repr(value), allowed, clause)
        if key not in self._seen:
            self._seen.add(key)
            self.found.append(ConfigError(field, value, allowed, clause))

    def add_error(self, error: ConfigError) -> None:
        self.count += 1
        key = (error.field, repr(error.value), error.allowed, error.clause)
        if key not in self._seen:
            self._seen.add(key)
            self.found.append(error)

    def table(self, raw: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any] | None:
        value = raw.get(key)
        if not isinstance(value, Mapping):
            self.add(f"{where}.{key}" if where else key, value, "a table")
            return None
        return value

    def only_keys(self, where: str, raw: Mapping[str, Any], allowed: Iterable[str]) -> None:
        names = set(allowed)
        for key in raw:
            if key not in names:
                self.add(f"{where}.{key}" if where else key, key, f"one of: {', '.join(sorted(names))}")

    def string(self, raw: Mapping[str, Any], key: str, where: str) -> str:
        value = raw.get(key)
        if not isinstance(value, str) or not value:
            self.add(f"{where}.{key}", value, "a non-empty string")
            return ""
        return value

"""What the application must provide for DATA-1, DATA-2 and DATA-3: the `TenantDatabase` protocol.

The platform owns the buckets, keys and backups; the application owns its schema. So
the runbooks never write SQL: they call an adapter that the application ships and
names on the command line as `--database-adapter package.module:factory`, where
`factory(deployment_name)` returns an object with these methods. Every method must be
idempotent for the same request reference (a second call changes nothing and returns
the same counts), because a rerun of a runbook calls it again when the earlier call's
outcome was not recorded.
"""

from __future__ import annotations

import argparse
import importlib
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol, cast


@dataclass(frozen=True)
class DatabaseChange:
    """Rows touched per table (removed or anonymised)."""

    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


@dataclass(frozen=True)
class DumpInfo:
    """What an export or dump wrote: its format (e.g. `jsonl`, `pg_dump`) and row count."""

    format: str
    rows: int


class TenantDatabase(Protocol):
    def tenant_exists(self, tenant_id: str) -> bool:
        """True when the tenant has records (or had them: a removed tenant still 'exists' for reruns)."""
        ...

    def person_exists(self, tenant_id: str, person_id: str) -> bool: ...

    def person_object_keys(self, tenant_id: str, person_id: str) -> list[str]:
        """Object keys (under `tenants/<tenant>/`) that hold this person's files."""
        ...

    def delete_tenant(self, tenant_id: str, request_ref: str) -> DatabaseChange:
        """DATA-1 licence data: delete every record of the tenant."""
        ...

    def anonymise_person(self, tenant_id: str, person_id: str, request_ref: str) -> DatabaseChange:
        """DATA-1 personal data (GDPR/CCPA): anonymise one person's records, keep the tenant's."""
        ...

    def export_tenant(self, tenant_id: str, out: BinaryIO) -> DumpInfo:
        """DATA-2: write every record of the tenant to `out` in a documented, portable format."""
        ...

    def anonymised_dump(self, out: BinaryIO) -> DumpInfo:
        """DATA-3: write an anonymised copy of the database (no personal data, no real tenant ids)."""
        ...


def load_adapter(parser: argparse.ArgumentParser, spec: str | None, deployment: str) -> TenantDatabase:
    """Import `module:factory` and call it with the deployment name, or a usage error (exit 2)."""
    if not spec:
        parser.error("--database-adapter is required: module:factory returning a TenantDatabase (runbooks/app_data.py)")
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        parser.error(f"--database-adapter {spec!r} must look like package.module:factory")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        parser.error(f"--database-adapter {spec!r} cannot be loaded: {error}")
    return cast(TenantDatabase, factory(deployment))

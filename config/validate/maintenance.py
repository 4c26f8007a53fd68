"""The announced weekly maintenance window (OPS-5)."""

from __future__ import annotations

import re

from config.errors import ErrorCollector
from config.model import MaintenanceWindow
from config.policy import MAINTENANCE_MAX_HOURS, WEEKDAYS

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def check_maintenance(window: MaintenanceWindow, where: str, errors: ErrorCollector) -> None:
    if window.day not in WEEKDAYS:
        errors.add(f"{where}.day", window.day, f"one of {', '.join(WEEKDAYS)}", "OPS-5")
    if not _HHMM.match(window.start_utc):
        errors.add(f"{where}.start_utc", window.start_utc, "a UTC time HH:MM", "OPS-5")
    if not 1 <= window.duration_hours <= MAINTENANCE_MAX_HOURS:
        errors.add(f"{where}.duration_hours", window.duration_hours, f"1 to {MAINTENANCE_MAX_HOURS} hours", "OPS-5")

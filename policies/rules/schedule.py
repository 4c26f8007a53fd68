"""Schedules: AWS cron/rate expressions (backup plans, restore testing) and the announced maintenance window (OPS-5)."""

from __future__ import annotations

from dataclasses import dataclass

from policies.rules.model import Resource, Result, StackView, fail, ok

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def _expand(field: str, size: int, names: dict[str, int], wildcard: tuple[str, ...] = ("*",)) -> set[int]:
    """`*`, `a`, `a-b` and comma lists of them (numbers, or names such as MON-SAT); anything else: empty."""
    if field in wildcard or field in ("*/1", "0/1"):
        return set(range(size))
    values: set[int] = set()
    for part in field.split(","):
        low, _, high = part.partition("-")
        try:
            first = names[low] if low in names else int(low)
            last = (names[high] if high in names else int(high)) if high else first
        except ValueError:
            return set()
        if not 0 <= first <= last < size:
            return set()
        values.update(range(first, last + 1))
    return values


@dataclass(frozen=True)
class Cron:
    minute: str
    hour: str
    day_of_month: str
    month: str
    day_of_week: str

    @classmethod
    def parse(cls, expression: str) -> Cron | None:
        text = expression.strip()
        if text.startswith("rate(") and text.endswith(")"):
            amount, _, unit = text[5:-1].partition(" ")
            if unit.startswith("hour"):
                return cls("0", "*" if amount == "1" else f"*/{amount}", "*", "*", "?")
            if unit.startswith("day") and amount == "1":
                return cls("0", "0", "*", "*", "?")
            return None
        if not (text.startswith("cron(") and text.endswith(")")):
            return None
        fields = text[5:-1].split()
        return cls(*fields[:5]) if len(fields) == 6 else None

    @property
    def every_day(self) -> bool:
        return self.day_of_month in ("*", "?") and self.day_of_week in ("*", "?") and self.month == "*"

    @property
    def hourly(self) -> bool:
        return self.every_day and self.hour in ("*", "0/1", "*/1")

    def week_hours(self) -> frozenset[tuple[int, int]]:
        """(weekday 0=Mon, hour) of a schedule that runs on the hour on whole weekdays; empty otherwise."""
        if self.minute != "0" or self.month != "*" or self.day_of_month not in ("*", "?"):
            return frozenset()
        hours = _expand(self.hour, 24, {})
        days = _expand(self.day_of_week, 7, {d: i for i, d in enumerate(WEEKDAYS)}, wildcard=("*", "?"))
        return frozenset((d, h) for d in days for h in hours)

    @property
    def twice_daily(self) -> bool:
        if not self.every_day:
            return False
        if self.hour in ("*/12", "0/12"):
            return True
        hours = self.hour.split(",")
        return len(hours) == 2 and all(h.isdigit() for h in hours) and abs(int(hours[0]) - int(hours[1])) == 12

    @property
    def daily(self) -> bool:
        return self.every_day and self.hour.isdigit()

    @property
    def monthly(self) -> bool:
        return self.day_of_month.isdigit() and self.month == "*"


def announced_window(resource: Resource, stack: StackView) -> Result:
    """OPS-5: a resource's PreferredMaintenanceWindow equals the configured one (RDS and Redis share the format)."""
    if stack.deployment is None:
        return fail("no deployment, so no announced window")
    wanted = stack.deployment.maintenance.rds_window
    actual = resource.prop("PreferredMaintenanceWindow")
    return (
        ok(wanted)
        if str(actual).lower() == wanted
        else fail(f"PreferredMaintenanceWindow={actual!r}, announced {wanted}")
    )

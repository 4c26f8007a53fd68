"""The game day's result: checks, per-step timings from the runbooks' audit records, Markdown and JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from runbooks.toolkit import RunResult

TIMED_STATUSES = ("done", "skipped", "failed")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class StepTiming:
    procedure: str
    step: str
    status: str
    duration_s: float


@dataclass
class GameDayReport:
    deployment: str
    server_url: str
    checks: list[Check] = field(default_factory=list)
    steps: list[StepTiming] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # outside the automation: deploy, wall clocks
    calls: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # how the run differs from real time (the shifted clock)

    def check(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(name, bool(ok), detail))
        print(f"check {'PASS' if ok else 'FAIL'}: {name}: {detail}", flush=True)
        return bool(ok)

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"note: {text}", flush=True)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def add_run(self, procedure: str, result: RunResult) -> None:
        """One row per step that ran (done, skipped or failed), with the runner's measured duration."""
        for record in result.records:
            if record.status in TIMED_STATUSES and record.duration_s is not None:
                self.steps.append(StepTiming(procedure, record.step, record.status, float(record.duration_s)))

    def total(self, procedure: str) -> float:
        return round(sum(step.duration_s for step in self.steps if step.procedure == procedure), 1)

    def as_json(self) -> dict[str, Any]:
        procedures = sorted({step.procedure for step in self.steps})
        return {
            "deployment": self.deployment,
            "ok": self.ok,
            "checks": [asdict(check) for check in self.checks],
            "steps": [asdict(step) for step in self.steps],
            "totals_s": {procedure: self.total(procedure) for procedure in procedures},
            "phases_s": self.phases,
            "notes": self.notes,
            "calls": self.calls,
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_json(), indent=2, sort_keys=True) + "\n")

    def markdown(self) -> str:
        lines = ["| procedure | step | status | duration (s) |", "| --- | --- | --- | ---: |"]
        for procedure in dict.fromkeys(step.procedure for step in self.steps):
            rows = [step for step in self.steps if step.procedure == procedure]
            lines += [f"| {procedure} | {s.step} | {s.status} | {s.duration_s:.1f} |" for s in rows]
            if rows:
                lines.append(f"| **{procedure}** | **total** | | **{self.total(procedure):.1f}** |")
        lines += ["", "| outside the automation | duration (s) |", "| --- | ---: |"]
        lines += [f"| {name} | {seconds:.1f} |" for name, seconds in self.phases.items()]
        lines += ["", *(f"Note: {note}" for note in self.notes)] if self.notes else []
        lines += ["", "| check | result | detail |", "| --- | --- | --- |"]
        lines += [f"| {c.name} | {'PASS' if c.ok else 'FAIL'} | {c.detail.replace('|', '/')} |" for c in self.checks]
        return "\n".join(lines)

"""The shared runbook toolkit: audit records, resume, progress lines, exit codes, the OPS-5 window."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from runbooks.toolkit import (
    DERIVED_ID_SUFFIXES,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_STEP_FAILED,
    AuditLog,
    AuditRecord,
    RefusedError,
    Skip,
    Step,
    StepFailedError,
    StepRunner,
    add_common_args,
    check_run_id,
    maintenance_window,
    positive_int,
    resolve_topology,
    run_id_max_length,
    wait_until,
)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _runner(log: Path, clock: Clock, *, execute: bool = True, out: io.StringIO | None = None) -> StepRunner:
    return StepRunner(AuditLog(log), run_id="r1", clause="DR-2", execute=execute, clock=clock, out=out)


def _lines(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_records_carry_clause_run_id_timing_and_progress_lines(tmp_path: Path) -> None:
    clock, out, log = Clock(), io.StringIO(), tmp_path / "a.jsonl"

    def slow(_: dict[str, Any] | None) -> dict[str, Any]:
        clock.t += 41.2
        return {"x": 1}

    steps = [Step("a", "first", lambda _: {}), Step("b", "promote replica", slow, irreversible=True)]
    steps.append(Step("c", "optional", lambda _: Skip("not needed", {"why": "test"})))
    result = _runner(log, clock, out=out).run(steps)
    assert result.outcome == "completed" and result.exit_code == EXIT_OK
    assert out.getvalue().splitlines()[1] == "[2/3] promote replica ... done (41.2 s)"
    records = _lines(log)
    assert [(r["step"], r["status"]) for r in records] == [
        ("a", "done"),
        ("b", "started"),
        ("b", "done"),
        ("c", "skipped"),
        ("procedure", "done"),
    ]
    assert records[2]["duration_s"] == 41.2 and records[2]["clause"] == "DR-2" and records[2]["run_id"] == "r1"
    assert records[3]["detail"] == {"reason": "not needed", "why": "test"}


def test_resume_skips_done_steps_and_hands_the_started_record_to_irreversible_steps(tmp_path: Path) -> None:
    log, seen = tmp_path / "a.jsonl", []
    crash = {"on": True}

    def irreversible(earlier: dict[str, Any] | None) -> dict[str, Any]:
        seen.append(earlier)
        if crash.pop("on", False):
            raise RuntimeError("killed")
        return {}

    steps = [Step("a", "a", lambda _: {"n": len(seen)}), Step("b", "b", irreversible, irreversible=True)]
    first = _runner(log, Clock()).run(steps)
    assert first.exit_code == EXIT_STEP_FAILED and first.failed_step == "b"
    second = _runner(log, Clock()).run(steps)
    assert second.outcome == "completed"
    assert seen[0] is None and seen[1] is not None and seen[1]["status"] == "started"
    assert [r["step"] for r in _lines(log)].count("a") == 1
    before = log.read_text()
    assert _runner(log, Clock()).run(steps).outcome == "already-completed"
    assert log.read_text() == before


def test_dry_run_plans_and_runs_only_check_steps(tmp_path: Path) -> None:
    log, ran = tmp_path / "a.jsonl", []

    def doing(name: str) -> Any:
        def run(_: dict[str, Any] | None) -> dict[str, Any]:
            ran.append(name)
            return {}

        return run

    steps = [
        Step("pre", "pre", doing("pre"), check=True),
        Step("act", "act", doing("act"), plan=lambda: {"would": "act"}),
    ]
    result = _runner(log, Clock(), execute=False).run(steps)
    assert result.outcome == "planned" and ran == ["pre"]
    assert [(r["step"], r["status"], r["dry_run"]) for r in _lines(log)] == [
        ("pre", "done", True),
        ("act", "planned", True),
    ]
    assert AuditLog(log).done("r1", "pre") is None  # dry-run records never count as done


def test_refusal_is_exit_2_and_stops(tmp_path: Path) -> None:
    def refuse(_: dict[str, Any] | None) -> dict[str, Any]:
        raise RefusedError("no")

    result = _runner(tmp_path / "a.jsonl", Clock()).run(
        [Step("pre", "pre", refuse, check=True), Step("x", "x", lambda _: {})]
    )
    assert result.exit_code == EXIT_REFUSED
    assert [(r["step"], r["status"], r["detail"]) for r in _lines(tmp_path / "a.jsonl")] == [
        ("pre", "failed", {"error": "no", "refused": True})
    ]


def test_record_shape_without_timing_is_unchanged() -> None:
    assert set(AuditRecord("r", "s", "done").as_json()) == {
        "run_id",
        "step",
        "status",
        "detail",
        "dry_run",
        "clause",
        "at",
    }


def test_wait_until_times_out_by_the_injected_clock() -> None:
    clock = Clock()

    def sleep(seconds: float) -> None:
        clock.t += seconds

    with pytest.raises(StepFailedError, match="timed out after 60 s waiting for x"):
        wait_until("x", lambda: False, timeout_s=60, poll_s=15, sleep=sleep, clock=clock)
    assert clock.t == 160.0


@pytest.mark.parametrize(
    ("now", "inside"),
    [
        (datetime(2026, 12, 6, 16, 0, tzinfo=UTC), True),  # Sunday 16:00 UTC: the start
        (datetime(2026, 12, 6, 18, 59, tzinfo=UTC), True),
        (datetime(2026, 12, 6, 19, 0, tzinfo=UTC), False),  # the end is exclusive
        (datetime(2026, 12, 6, 15, 59, tzinfo=UTC), False),
        (datetime(2026, 12, 7, 1, 0, tzinfo=UTC), False),
    ],
)
def test_maintenance_window(now: datetime, inside: bool) -> None:
    start, end = maintenance_window(now, "Sun", "16:00", 3)
    assert (start <= now < end) is inside


def test_maintenance_window_crossing_midnight() -> None:
    now = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)  # Monday 00:30, window Sun 23:00 for 3 h
    start, end = maintenance_window(now, "Sun", "23:00", 3)
    assert start == datetime(2026, 12, 6, 23, 0, tzinfo=UTC) and start <= now < end


def test_unknown_deployment_is_a_usage_error_listing_the_allowed_names(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_common_args(parser, procedure="failover")
    args = parser.parse_args(["--deployment", "mars-production"])
    with pytest.raises(SystemExit) as exit_info:
        resolve_topology(parser, args)
    assert exit_info.value.code == EXIT_REFUSED
    assert "allowed: au-production" in capsys.readouterr().err
    assert resolve_topology(parser, parser.parse_args(["--deployment", "au-production"])).dr_region == "ap-southeast-4"


def test_a_failed_poll_is_retried_until_the_deadline_and_the_wait_prints_progress() -> None:
    clock, out = Clock(), io.StringIO()
    answers: Iterator[Exception | bool] = iter([RuntimeError("throttled"), False, RuntimeError("reset"), True])

    def check() -> bool:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def sleep(seconds: float) -> None:
        clock.t += seconds

    wait_until("y", check, timeout_s=600, poll_s=30, sleep=sleep, clock=clock, out=out, progress_every_s=60)
    assert clock.t == 190.0
    lines = out.getvalue().splitlines()
    assert lines == [
        "    waiting for y: 0 s of 600 s; last poll failed: RuntimeError: throttled",
        "    waiting for y: 60 s of 600 s; last poll failed: RuntimeError: reset",
    ]


def test_a_wait_that_only_fails_names_the_last_error() -> None:
    clock = Clock()

    def sleep(seconds: float) -> None:
        clock.t += seconds

    def check() -> bool:
        raise RuntimeError("AccessDenied")

    with pytest.raises(StepFailedError, match=r"timed out after 60 s waiting for z \(last poll failed: .*AccessDenied"):
        wait_until("z", check, timeout_s=60, poll_s=15, sleep=sleep, clock=clock)


@pytest.mark.parametrize("run_id", ["x_1", "x--1", "x-", "-x", "x.1", "", "a" * 25])
def test_run_ids_that_rds_would_refuse_are_refused_naming_the_field(run_id: str) -> None:
    with pytest.raises(RefusedError, match="--run-id") as refused:
        check_run_id(run_id, ["au-production-primary-postgres", "au-production-dr-postgres"])
    assert "at most 24" in str(refused.value)


def test_run_id_length_keeps_derived_identifiers_within_63() -> None:
    ids = ["au-production-primary-postgres"]
    limit = run_id_max_length(ids)
    check_run_id("a" * limit, ids)
    assert all(len(f"{ids[0]}{suffix}{'a' * limit}") <= 63 for suffix in DERIVED_ID_SUFFIXES)


@pytest.mark.parametrize("text", ["0", "-1", "1.5", "x"])
def test_positive_int_refuses_with_the_allowed_values(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="allowed: 1 or more"):
        positive_int(text)
    assert positive_int("3") == 3

"""What every runbook automation shares: the audit log, the step runner and the CLI.

The audit log (JSON lines, one record per step and status) is both the evidence an
auditor reads and the only state a procedure keeps: a rerun with the same run id
looks up what is already `done` and never does it again, so a crashed run is resumed
by running the same command again.

Exit codes (one meaning each, the same for every runbook):

- `EXIT_OK` (0): the plan was printed (dry run), the procedure completed, or it had
  already completed (nothing to do is success: a rerun of a finished procedure in a
  script must not page anybody, so there is deliberately no separate code for it);
- `EXIT_STEP_FAILED` (1): a step failed; the audit log names it; rerun to resume;
- `EXIT_REFUSED` (2): bad arguments or a refused precondition: nothing was changed;
- `EXIT_PENDING` (3): every step that could run ran, but a step is pending (e.g. the fence of
  a primary region that did not answer): the procedure is not complete; rerun with the same
  run id once the cause is gone, and only the pending steps run.
"""

from __future__ import annotations

import argparse
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO, TypeVar

from config import load_config
from config.load import DEFAULT_CONFIG_PATH
from config.topology import FailoverTopology

EXIT_OK = 0
EXIT_STEP_FAILED = 1
EXIT_REFUSED = 2
EXIT_PENDING = 3


class RefusedError(RuntimeError):
    """A precondition does not hold: the procedure stops before changing anything."""


class StepFailedError(RuntimeError):
    """A step could not do its job; rerunning resumes at this step."""


@dataclass(frozen=True)
class Skip:
    """Returned by a step that deliberately did nothing; the reason goes to the audit log.

    A `pending` skip could not be done now but must be done before the procedure is complete:
    the run ends `pending` (not `done`), so a rerun with the same run id runs it again.
    """

    reason: str
    detail: dict[str, Any] = field(default_factory=dict)
    pending: bool = False


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class AuditRecord:
    run_id: str
    step: str
    status: str  # planned | started | done | skipped | failed | pending
    detail: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = True
    clause: str = ""
    at: str = field(default_factory=now_iso)
    started_at: str | None = None
    duration_s: float | None = None

    def as_json(self) -> dict[str, Any]:
        """Timing fields are omitted when unknown so that older record shapes stay byte-identical."""
        data = asdict(self)
        for key in ("started_at", "duration_s"):
            if data[key] is None:
                del data[key]
        return data


RecordT = TypeVar("RecordT", bound=AuditRecord)


class AuditLog:
    """Append-only JSON lines; also each run's state for idempotency."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def records(self, run_id: str) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with self.path.open() as handle:
            for line in handle:
                if line.strip():
                    record = json.loads(line)
                    if record.get("run_id") == run_id:
                        yield record

    def latest(self, run_id: str, step: str, statuses: Sequence[str]) -> dict[str, Any] | None:
        """The last executed (not dry-run) record of `step` with one of `statuses`."""
        found = None
        for record in self.records(run_id):
            if record["step"] == step and record["status"] in statuses and not record["dry_run"]:
                found = record
        return found

    def done(self, run_id: str, step: str) -> dict[str, Any] | None:
        for record in self.records(run_id):
            if record["step"] == step and record["status"] == "done" and not record["dry_run"]:
                return record
        return None

    def append(self, record: RecordT) -> RecordT:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = record.as_json()
        with self.path.open("a") as handle:
            handle.write(json.dumps(data, default=str, sort_keys=True) + "\n")
        return record


class MirroredAuditLog(AuditLog):
    """The local audit log, each record also appended (best effort) to a CloudWatch Logs stream.

    The local file stays the state a rerun reads; the stream (one per run, in the group the
    runbook creates if it is missing) is the durable copy in another place: a rerun whose
    local file lost the run restores the run's records from it (`restore`). A failed write
    to the stream never fails a step: it is counted in `mirror_errors` and printed.
    """

    def __init__(self, path: Path, logs: Any, group: str, *, prefix: str = "", out: TextIO | None = None) -> None:
        super().__init__(path)
        self.logs = logs
        self.group = group
        self.prefix = prefix
        self.out = out
        self.mirror_errors: list[str] = []
        self._streams: set[str] = set()

    def stream(self, run_id: str) -> str:
        return f"{self.prefix}{run_id}"

    def append(self, record: RecordT) -> RecordT:
        super().append(record)
        try:
            self._ensure_stream(self.stream(record.run_id))
            line = json.dumps(record.as_json(), default=str, sort_keys=True)
            event = {"timestamp": int(time.time() * 1000), "message": line}
            self.logs.put_log_events(
                logGroupName=self.group, logStreamName=self.stream(record.run_id), logEvents=[event]
            )
        except Exception as error:  # best effort: the local record is written
            text = f"{type(error).__name__}: {error}"
            self.mirror_errors.append(text)
            if self.out is not None:
                print(
                    f"    audit copy to {self.group} failed (the local log has it): {text}", file=self.out, flush=True
                )
        return record

    def _ensure_stream(self, stream: str) -> None:
        if stream in self._streams:
            return
        calls: list[tuple[Callable[..., Any], dict[str, str]]] = [
            (self.logs.create_log_group, {"logGroupName": self.group}),
            (self.logs.create_log_stream, {"logGroupName": self.group, "logStreamName": stream}),
        ]
        for create, args in calls:
            try:
                create(**args)
            except Exception as error:
                code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
                if code != "ResourceAlreadyExistsException":
                    raise
        self._streams.add(stream)

    def durable_records(self, run_id: str) -> list[dict[str, Any]]:
        """The run's records in the stream, oldest first (empty when there is none or it cannot be read)."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        try:
            while True:
                args: dict[str, Any] = {"logGroupName": self.group, "logStreamName": self.stream(run_id)}
                args.update({"nextToken": token} if token else {"startFromHead": True})
                page = self.logs.get_log_events(**args)
                found += [json.loads(event["message"]) for event in page.get("events", [])]
                if not page.get("events") or page.get("nextForwardToken") in (None, token):
                    return found
                token = page["nextForwardToken"]
        except Exception:
            return found

    def restore(self, run_id: str) -> int:
        """Copy the run's durable records into the local file when it has none; returns how many."""
        if any(True for _ in self.records(run_id)):
            return 0
        records = [r for r in self.durable_records(run_id) if r.get("run_id") == run_id]
        if records:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as handle:
                for record in records:
                    handle.write(json.dumps(record, default=str, sort_keys=True) + "\n")
        return len(records)


# -- the step runner --------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One recorded step.

    `run` does the work (execute mode) and returns the audit detail or a `Skip`;
    `plan` (dry run) may only read and returns what `run` would do. An `irreversible`
    step is recorded `started` before `run` is called, and `run` receives the earlier
    `started` record (or None) so that a rerun waits for the effect instead of
    repeating the call.
    """

    name: str
    title: str
    run: Callable[[dict[str, Any] | None], dict[str, Any] | Skip]
    plan: Callable[[], dict[str, Any]] = dict
    irreversible: bool = False
    check: bool = False  # read-only (preconditions): runs in dry run too, and again on every rerun


@dataclass
class RunResult:
    run_id: str
    outcome: str  # planned | completed | already-completed | failed | refused
    records: list[AuditRecord] = field(default_factory=list)
    failed_step: str | None = None
    pending: list[str] = field(default_factory=list)  # steps skipped for now that must still be done

    @property
    def exit_code(self) -> int:
        if self.outcome == "refused":
            return EXIT_REFUSED
        if self.outcome == "failed":
            return EXIT_STEP_FAILED
        return EXIT_PENDING if self.pending else EXIT_OK

    def summary(self, procedure: str) -> str:
        if self.pending and self.outcome == "completed":
            return (
                f"{procedure} {self.run_id}: NOT COMPLETE: pending {', '.join(self.pending)}; "
                f"rerun with --run-id {self.run_id} once it can be done"
            )
        return f"{procedure} {self.run_id}: {self.outcome}"


class StepRunner:
    """Runs steps in order, prints `[3/9] promote replica ... done (41.2 s)`, records each one."""

    def __init__(
        self,
        audit: AuditLog,
        *,
        run_id: str,
        clause: str,
        execute: bool,
        clock: Callable[[], float] = time.monotonic,
        out: TextIO | None = None,
        final_step: str = "procedure",
    ) -> None:
        self.audit = audit
        self.run_id = run_id
        self.clause = clause
        self.execute = execute
        self.clock = clock
        self.out = out
        self.final_step = final_step
        self.result = RunResult(run_id=run_id, outcome="planned")

    def record(self, step: str, status: str, detail: dict[str, Any], **timing: Any) -> AuditRecord:
        record = AuditRecord(self.run_id, step, status, detail, dry_run=not self.execute, clause=self.clause, **timing)
        self.result.records.append(self.audit.append(record))
        return record

    def already_completed(self) -> bool:
        return self.audit.done(self.run_id, self.final_step) is not None

    def _print(self, text: str) -> None:
        if self.out is not None:
            print(text, file=self.out, flush=True)

    def run(self, steps: Sequence[Step]) -> RunResult:
        if self.already_completed():
            self.result.outcome = "already-completed"
            self._print(f"{self.final_step} {self.run_id}: already completed, nothing to do")
            return self.result
        total = len(steps)
        for index, step in enumerate(steps, start=1):
            prefix = f"[{index}/{total}] {step.title} ..."
            if self.execute and not step.check and self.audit.done(self.run_id, step.name) is not None:
                self._print(f"{prefix} already done")
                continue
            started_at, start = now_iso(), self.clock()
            try:
                if not self.execute and not step.check:
                    self.record(step.name, "planned", step.plan())
                    self._print(f"{prefix} planned")
                    continue
                earlier = self.audit.latest(self.run_id, step.name, ("started",)) if step.irreversible else None
                if step.irreversible and earlier is None:
                    self.record(step.name, "started", {}, started_at=started_at)
                outcome = step.run(earlier)
            except RefusedError as error:
                self._fail(step, str(error), started_at, start, refused=True)
                self._print(f"{prefix} refused: {error}")
                return self.result
            except Exception as error:  # any step error is recorded; rerunning resumes here
                self._fail(step, f"{type(error).__name__}: {error}", started_at, start, refused=False)
                self._print(f"{prefix} failed: {error}")
                return self.result
            duration = round(self.clock() - start, 1)
            if isinstance(outcome, Skip):
                pending = {"pending": True} if outcome.pending else {}
                self.record(
                    step.name,
                    "skipped",
                    {"reason": outcome.reason, **outcome.detail, **pending},
                    started_at=started_at,
                    duration_s=duration,
                )
                if outcome.pending:
                    self.result.pending.append(step.name)
                    self._print(f"{prefix} skipped ({outcome.reason}) — pending ({duration} s)")
                else:
                    self._print(f"{prefix} skipped: {outcome.reason} ({duration} s)")
            else:
                self.record(step.name, "done", outcome, started_at=started_at, duration_s=duration)
                self._print(f"{prefix} done ({duration} s)")
        if self.execute:
            names = [step.name for step in steps]
            if self.result.pending:
                detail = {"steps": names, "pending": self.result.pending, "complete": False}
                self.record(self.final_step, "pending", detail)
                self._print(self.result.summary(self.final_step))
            else:
                self.record(self.final_step, "done", {"steps": names})
            self.result.outcome = "completed"
        return self.result

    def _fail(self, step: Step, error: str, started_at: str, start: float, *, refused: bool) -> None:
        duration = round(self.clock() - start, 1)
        detail: dict[str, Any] = {"error": error}
        if refused:
            detail["refused"] = True
        self.record(step.name, "failed", detail, started_at=started_at, duration_s=duration)
        self.result.outcome = "refused" if refused else "failed"
        self.result.failed_step = step.name


def wait_until(
    what: str,
    check: Callable[[], bool],
    *,
    timeout_s: float,
    poll_s: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    out: TextIO | None = None,
    progress_every_s: float = 60.0,
) -> None:
    """Poll `check` until true; raise StepFailedError after `timeout_s` (by `clock`, so tests need no real time).

    A poll that raises (a throttled or reset describe call) is one failed poll, not a failed
    wait: it is retried until the deadline, and the last error is named if the wait times
    out. A `RefusedError` or `StepFailedError` from `check` is a verdict and ends the wait.
    While it waits it prints a line to `out` at the start and every `progress_every_s`.
    """
    start = clock()
    deadline = start + timeout_s
    last_error: str | None = None
    next_report = start
    while True:
        try:
            if check():
                return
            last_error = None
        except (RefusedError, StepFailedError):
            raise
        except Exception as error:  # one failed poll: retried until the deadline
            last_error = f"{type(error).__name__}: {error}"
        now = clock()
        if now >= deadline:
            tail = f" (last poll failed: {last_error})" if last_error else ""
            raise StepFailedError(f"timed out after {timeout_s:.0f} s waiting for {what}{tail}")
        if out is not None and now >= next_report:
            failed = f"; last poll failed: {last_error}" if last_error else ""
            print(f"    waiting for {what}: {now - start:.0f} s of {timeout_s:.0f} s{failed}", file=out, flush=True)
            next_report = now + progress_every_s
        sleep(poll_s)


# -- run ids ------------------------------------------------------------------------------

RDS_IDENTIFIER_MAX = 63
# The identifiers a procedure derives from a run id: failback renames the old writers to
# `<db instance id>-fenced-<run id>` and `<db instance id>-retired-<run id>`.
DERIVED_ID_SUFFIXES = ("-fenced-", "-retired-")
RUN_ID_ALLOWED = "letters, digits and single hyphens, starting with a letter or digit and not ending with '-'"
_RUN_ID = re.compile(r"^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$")


def run_id_max_length(db_instance_ids: Sequence[str]) -> int:
    """The longest run id whose derived RDS identifiers stay within 63 characters."""
    longest = max((len(i) + len(s) for i in db_instance_ids for s in DERIVED_ID_SUFFIXES), default=0)
    return RDS_IDENTIFIER_MAX - longest


def check_run_id(run_id: str, db_instance_ids: Sequence[str]) -> None:
    """Refuse a run id that cannot go into an RDS identifier (RDS: letters, digits, hyphens; no '--'; <= 63)."""
    limit = run_id_max_length(db_instance_ids)
    if not _RUN_ID.match(run_id):
        raise RefusedError(f"--run-id {run_id!r} is not allowed: use {RUN_ID_ALLOWED} (at most {limit} characters)")
    if len(run_id) > limit:
        raise RefusedError(
            f"--run-id {run_id!r} is {len(run_id)} characters: at most {limit} here, so that identifiers derived "
            f"from it (e.g. {db_instance_ids[0]}{DERIVED_ID_SUFFIXES[0]}<run id>) stay within "
            f"{RDS_IDENTIFIER_MAX} characters"
        )


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (a capacity of 0 or less would leave no web tier)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer (allowed: 1 or more)") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not allowed (allowed: 1 or more)")
    return value


# -- CLI conventions ----------------------------------------------------------------------


def add_deployment_args(
    parser: argparse.ArgumentParser,
    *,
    required: bool = True,
    help: str = "e.g. au-production (see config/deployments.toml)",
) -> None:
    """`--deployment` and `--config`, the arguments every runbook's command line takes."""
    parser.add_argument("--deployment", required=required, default=None, help=help)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH, help="deployments TOML file")


def add_common_args(parser: argparse.ArgumentParser, *, procedure: str) -> None:
    """The deployment arguments and those of a procedure that changes things: audit log, execute, run id."""
    add_deployment_args(parser)
    parser.add_argument(
        "--audit-log", type=Path, default=None, help=f"JSON lines audit log (default: <deployment>-{procedure}.jsonl)"
    )
    parser.add_argument("--execute", action="store_true", help="really change things (default: dry run)")
    parser.add_argument("--run-id", default=None, help="names the run; reuse it to resume (default: a new id)")


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M") + "-" + uuid.uuid4().hex[:6]


def resolve_topology(parser: argparse.ArgumentParser, args: argparse.Namespace) -> FailoverTopology:
    """The deployment's topology, or a usage error (exit 2) that lists the allowed names."""
    try:
        config = load_config(args.config)
    except Exception as error:  # ConfigError or a missing file: a bad argument either way
        parser.error(f"cannot load {args.config}: {error}")
    try:
        deployment = config.get(args.deployment)
    except KeyError as error:
        parser.error(str(error.args[0]))
    return FailoverTopology.of(deployment)


# -- the announced maintenance window (OPS-5) ---------------------------------------------

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def maintenance_window(now: datetime, day: str, start_utc: str, duration_hours: int) -> tuple[datetime, datetime]:
    """The latest window (UTC) that starts at or before `now`: (start, end). `now` is in the window iff now < end."""
    now = now.astimezone(UTC)
    hour, minute = (int(part) for part in start_utc.split(":"))
    days_back = (now.weekday() - WEEKDAYS.index(day)) % 7
    start = (now - timedelta(days=days_back)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    if start > now:
        start -= timedelta(days=7)
    return start, start + timedelta(hours=duration_hours)

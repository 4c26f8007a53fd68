"""runbooks/failback.md matches runbooks/failback.py (issue 16, items 12 and 15): the same steps in the
same order in the step table, the validation and the measured table; rollback commands for what the
automation did before the promotion; no claim that a dry run is harmless at any time."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from config import load_config
from config.topology import FailoverTopology
from runbooks.failback import Failback

PAGE = Path(__file__).resolve().parents[2] / "runbooks" / "failback.md"


def automation_steps() -> list[str]:
    topo = FailoverTopology.of(load_config().get("au-production"))
    none: Any = None
    failback = Failback(topo, dr=none, primary=none, public_answer=none, audit_log=none)
    return [step.name for step in failback.steps()]


def section(text: str, title: str) -> str:
    start = text.index(title)
    following = text.find("\n## ", start + len(title))
    return text[start : following if following != -1 else len(text)]


def test_the_step_table_lists_the_automations_steps_in_order() -> None:
    steps = section(PAGE.read_text(), "## Steps")
    rows = re.findall(r"^\s*\| (\d+) \| ([a-z-]+) \|", steps, flags=re.MULTILINE)
    assert [int(number) for number, _ in rows] == list(range(1, len(rows) + 1))
    assert [name for _, name in rows] == automation_steps()


def test_validation_and_measured_table_count_the_same_steps() -> None:
    text = PAGE.read_text()
    steps = automation_steps()
    assert f"all {len(steps)} steps" in section(text, "## Validation")
    measured = section(text, "## Measured on the local game day")
    rows = re.findall(r"^\| ([a-z-]+) \|", measured, flags=re.MULTILINE)
    assert [row for row in rows if row != "step"] == steps


def test_the_rollback_undoes_each_change_made_before_the_promotion() -> None:
    rollback = section(PAGE.read_text(), "## Rollback")
    commands = " ".join(rollback.replace("\\\n", " ").split())
    assert (
        "delete-db-instance --region ap-southeast-2 --db-instance-identifier ${DEPLOYMENT}-primary-postgres" in commands
    )
    fenced = "--db-instance-identifier ${DEPLOYMENT}-primary-postgres-fenced-${RUN_ID}"
    assert f"{fenced} --new-db-instance-identifier ${{DEPLOYMENT}}-primary-postgres" in commands
    retired = "--db-instance-identifier ${DEPLOYMENT}-dr-postgres-retired-${RUN_ID}"
    assert f"{retired} --new-db-instance-identifier ${{DEPLOYMENT}}-dr-postgres" in commands
    assert "--auto-scaling-group-name ${DEPLOYMENT}-primary-web --min-size 0 --desired-capacity 0" in commands
    assert "--auto-scaling-group-name ${DEPLOYMENT}-dr-web" in commands
    assert "delete-bucket-replication --region ap-southeast-4" in commands
    assert "**new** `--run-id`" in commands  # the rollback is not recorded: a clean run


def test_no_claim_that_a_dry_run_is_harmless_at_any_time() -> None:
    text = PAGE.read_text()
    assert "harmless at any time" not in text
    assert "outside the window unless given" in section(text, "## Steps")

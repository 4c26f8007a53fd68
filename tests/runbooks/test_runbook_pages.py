"""The runbook pages: every runbook clause of docs/POLICY.md (OPS-3, OPS-4, OPS-6, DR-2, DATA-1, DATA-2,
DATA-3, and the runbook half of BAK-9 and OPS-5) has a runbook in the compliance report, and the
runbooks (DATA-1/2/3, OPS-4/5/6, ENC-1/2, BAK-9, DR-2, ACC-4) share one set of sections and link
automation and tests that exist.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policies.report import _runbook_links, load_clauses

REPO = Path(__file__).resolve().parents[2]
PAGES = (
    "data_removal",
    "data_export",
    "anonymised_dataset",
    "incident_response",
    "key_compromise",
    "maintenance",
    "compliance_evidence",
    "recovery_from_scratch",
    "failover",
    "failback",
    "restore_drill",
    "vault_policy_change",
)
SECTIONS = (
    "## Purpose",
    "## Preconditions",
    "## Impact",
    "## Expected duration",
    "## Steps",
    "## Rollback",
    "## Validation",
    "## How the automation is tested",
)


def test_no_runbook_clause_is_without_a_runbook() -> None:
    missing = [c.id for c in load_clauses() if c.kind in ("runbook", "both") and not _runbook_links(c)["runbooks"]]
    assert missing == []


@pytest.mark.parametrize("page", PAGES)
def test_every_page_has_the_sections_in_order(page: str) -> None:
    text = (REPO / "runbooks" / f"{page}.md").read_text()
    positions = [text.find(section) for section in SECTIONS]
    assert -1 not in positions, [s for s, p in zip(SECTIONS, positions, strict=True) if p == -1]
    assert positions == sorted(positions)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_links_automation_and_tests_that_exist(page: str) -> None:
    text = (REPO / "runbooks" / f"{page}.md").read_text()
    paths = set(re.findall(r"`((?:runbooks|patterns|stacks|tests/\w+)/[\w/]+\.py)`", text))
    assert any(not p.startswith("tests/") for p in paths) and any(p.startswith("tests/") for p in paths)
    assert [p for p in sorted(paths) if not (REPO / p).is_file()] == []
    for module in re.findall(r"python -m (runbooks\.\w+)", text):
        assert (REPO / (module.replace(".", "/") + ".py")).is_file(), module

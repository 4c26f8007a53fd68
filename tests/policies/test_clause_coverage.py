"""Rule ids are pinned to POLICY.md: every synth/both clause has a rule, every rule names a real clause."""

from __future__ import annotations

import re
from pathlib import Path

from policies.data_security import DataSecurityChecks
from policies.report import POLICY_FILE, load_clauses
from policies.rules import ALL_RULES

SHARED_POLICY = Path(__file__).resolve().parents[2].parent / "shared" / "POLICY.md"


def test_repo_copy_of_policy_equals_the_shared_spec_when_present() -> None:
    if SHARED_POLICY.exists():  # CI checks out ../shared beside the repo
        assert POLICY_FILE.read_text() == SHARED_POLICY.read_text(), "docs/POLICY.md is out of date"
    assert len(load_clauses()) == 35


def test_every_synth_clause_has_a_rule() -> None:
    covered = {r.clause for r in ALL_RULES}
    required = {c.id for c in load_clauses() if c.kind in ("synth", "both")}
    assert required - covered == set()


def test_every_rule_names_an_existing_clause_in_its_id() -> None:
    clauses = {c.id for c in load_clauses()}
    for r in ALL_RULES:
        assert r.clause in clauses, r.id
        assert re.fullmatch(rf"DataSecurity-{r.clause.replace('-', '')}-[A-Z][A-Za-z0-9]+", r.id), r.id
        assert r.info.startswith(f"{r.clause}:"), r.id


def test_pack_name_is_the_rule_prefix() -> None:
    assert DataSecurityChecks.__name__ == "DataSecurityChecks"
    assert {r.id.split("-")[0] for r in ALL_RULES} == {"DataSecurity"}


def test_every_rule_has_its_test_module_naming_it() -> None:
    """`grep BAK5-CopyToDrRegion tests/` finds the proof: each rule module has tests/policies/test_rules_<module>.py,
    and that module names each of its rules by suffix (in a test case id)."""
    here = Path(__file__).resolve().parent
    unnamed = []
    for r in ALL_RULES:
        module = r.check.__module__.rsplit(".", 1)[-1]
        tests = here / f"test_rules_{module}.py"
        if not tests.exists() or r.suffix not in tests.read_text():
            unnamed.append(f"{r.suffix} ({tests.name})")
    assert unnamed == []

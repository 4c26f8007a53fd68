"""The auditor's report: every clause of POLICY.md, the rules that check it, what they found.

`write_report(outdir, config)` runs after every synth (app.py), successful or not, and
writes `<outdir>/compliance/compliance-report.md` and `compliance-report.json`:

- per clause: promise, control, kind (synth / runbook / both), the DataSecurity rules
  that check it, the resources checked per stack and region (pass / fail /
  acknowledged / not applicable) with every failure and its detail;
- every acknowledgment in the app (all packs) with its reason and where it was made;
- for runbook clauses, the runbook under `runbooks/` and its tests under
  `tests/runbooks/`, or "no runbook yet";
- the DataSecurity findings count next to the count in CDK's validation report, so a
  reader can see the two agree;
- the known exceptions (`policies.coverage.KNOWN_EXCEPTIONS`): run-time resources that no
  template holds, under their clause and in a section of their own, with the reason.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config import PlatformConfig
from policies.coverage import KNOWN_EXCEPTIONS, NOT_CHECKED_AT_SYNTH
from policies.engine import Evaluation, evaluate, load_assembly
from policies.rules import ALL_RULES
from policies.rules.model import PACK_NAME, Compliance

REPO = Path(__file__).resolve().parent.parent
POLICY_FILE = REPO / "docs" / "POLICY.md"
REPORT_DIR = "compliance"
SCHEMA_VERSION = 1
_RESULTS = ("PASS", "FAIL", "ACKNOWLEDGED", "N/A")
_DISABLED = "DISABLED for this synth (results below are what it would report)"
_ROW = re.compile(r"^\|\s*([A-Z]+-\d+)\s*\|(.*)\|(.*)\|\s*(synth|runbook|both)\s*\|\s*$")


@dataclass(frozen=True)
class Clause:
    id: str
    commitment: str
    control: str
    kind: str


def parse_clauses(text: str) -> list[Clause]:
    clauses = []
    for line in text.splitlines():
        match = _ROW.match(line.strip())
        if match:
            clause_id, commitment, control, kind = (g.strip() for g in match.groups())
            clauses.append(Clause(clause_id, commitment, control, kind))
    return clauses


def load_clauses(path: Path = POLICY_FILE) -> list[Clause]:
    return parse_clauses(path.read_text())


def acknowledgments(outdir: Path) -> list[dict[str, str]]:
    """Every `Validations.acknowledge` in the assembly: construct path, finding id, reason."""
    found = []
    for metadata_file in sorted(Path(outdir).rglob("*.metadata.json")):
        for path, entries in json.loads(metadata_file.read_text()).items():
            for entry in entries:
                if entry.get("type") == "aws:cdk:acknowledged-rules":
                    for rule_id, reason in (entry.get("data") or {}).items():
                        found.append(
                            {
                                "path": path.lstrip("/"),
                                "id": re.sub(r"^annotation::", "", rule_id, flags=re.I),
                                "reason": str(reason),
                            }
                        )
    return found


def validation_findings(outdir: Path) -> dict[str, list[dict[str, str]]]:
    """Unacknowledged findings per plugin, from CDK's validation-report.json."""
    report_file = Path(outdir) / "validation-report.json"
    found: dict[str, list[dict[str, str]]] = defaultdict(list)
    if not report_file.exists():
        return found
    for plugin in json.loads(report_file.read_text()).get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", violation.get("violatingResources", [])):
                found[plugin["pluginName"]].append(
                    {
                        "rule": violation["ruleName"],
                        "path": construct.get("constructPath", ""),
                        "description": violation.get("description", ""),
                    }
                )
    return found


def _acknowledged(evaluation: Evaluation, acks: list[dict[str, str]]) -> dict[str, str] | None:
    for ack in acks:
        if ack["id"] in (evaluation.rule_id, f"{PACK_NAME}::{evaluation.rule_id}") and (
            evaluation.path == ack["path"] or evaluation.path.startswith(ack["path"] + "/")
        ):
            return ack
    return None


def _runbook_links(clause: Clause) -> dict[str, list[str]]:
    key = clause.id.lower()
    variants = (key, key.replace("-", ""), key.replace("-", "_"))

    def matching(folder: Path) -> list[str]:
        if not folder.is_dir():
            return []

        def names_clause(path: Path) -> bool:
            if any(v in path.name.lower() for v in variants):
                return True
            head = "\n".join(path.read_text(errors="replace").splitlines()[:20])
            return re.search(rf"\b{re.escape(clause.id)}\b", head) is not None

        return sorted(
            str(p.relative_to(REPO))
            for p in folder.rglob("*")
            if p.is_file() and p.suffix in (".md", ".py") and p.name != "__init__.py" and names_clause(p)
        )

    return {"runbooks": matching(REPO / "runbooks"), "tests": matching(REPO / "tests" / "runbooks")}


def _status(clause_id: str, rows: list[dict[str, Any]], has_rules: bool) -> str:
    """FAIL beats everything; a clause whose control synth checks only in part is never PASS."""
    if any(row["result"] == "FAIL" for row in rows):
        return "FAIL"
    if not has_rules:
        return "RUNBOOK"
    return "PARTIAL" if clause_id in NOT_CHECKED_AT_SYNTH else "PASS"


def build_report(
    outdir: Path,
    config: PlatformConfig,
    *,
    pack_enabled: bool = True,
    evaluations: list[Evaluation] | None = None,
) -> dict[str, Any]:
    """The report's data; `evaluations` are the pack's own results of this synth when it has them
    (`DataSecurityChecks.evaluations_of`), so the rules run once per synth; None evaluates here."""
    if evaluations is None:
        evaluations = evaluate(load_assembly(Path(outdir), config))
    acks = acknowledgments(Path(outdir))
    rows = [{**evaluation.to_json(), "result": _result(evaluation, acks)} for evaluation in evaluations]
    clauses = _clause_entries(rows)
    return {
        "schema_version": SCHEMA_VERSION,
        "pack": PACK_NAME,
        "pack_enabled": pack_enabled,
        "summary": _summary(rows, clauses, validation_findings(Path(outdir)), pack_enabled),
        "clauses": clauses,
        "known_exceptions": [
            {"clause": clause_id, "exception": text} for clause_id, texts in KNOWN_EXCEPTIONS.items() for text in texts
        ],
        "acknowledgments": acks,
    }


def _result(evaluation: Evaluation, acks: list[dict[str, str]]) -> str:
    """PASS, FAIL, ACKNOWLEDGED (a failure with an acknowledgment) or N/A."""
    if evaluation.status is Compliance.NON_COMPLIANT:
        return "ACKNOWLEDGED" if _acknowledged(evaluation, acks) else "FAIL"
    if evaluation.status is Compliance.COMPLIANT:
        return "PASS"
    return "N/A"


def _clause_entries(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per clause of POLICY.md, in its order, with the result rows of its rules."""
    rows_by_clause: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:  # in evaluation order, as a filter per clause would give
        rows_by_clause[row["clause"]].append(row)
    return [_clause_entry(clause, rows_by_clause.get(clause.id, [])) for clause in load_clauses()]


def _clause_entry(clause: Clause, rows: list[dict[str, Any]]) -> dict[str, Any]:
    rules = [r for r in ALL_RULES if r.clause == clause.id]
    entry: dict[str, Any] = {
        "id": clause.id,
        "kind": clause.kind,
        "promise": clause.commitment,
        "control": clause.control,
        "rules": [{"id": r.id, "checks": r.info} for r in rules],
        "stacks": _per_stack(rows),
        "findings": [
            {k: row[k] for k in ("rule_id", "stack", "region", "path", "resource_type", "detail", "result")}
            for row in rows
            if row["result"] in ("FAIL", "ACKNOWLEDGED")
        ],
        "status": _status(clause.id, rows, bool(rules)),
    }
    if clause.id in NOT_CHECKED_AT_SYNTH:
        entry["not_checked_at_synth"] = NOT_CHECKED_AT_SYNTH[clause.id]
    if clause.id in KNOWN_EXCEPTIONS:
        entry["known_exceptions"] = list(KNOWN_EXCEPTIONS[clause.id])
    if clause.kind in ("runbook", "both"):
        links = _runbook_links(clause)
        entry["runbooks"] = links["runbooks"] or "no runbook yet"
        entry["runbook_tests"] = links["tests"] or "no runbook tests yet"
        if clause.kind == "runbook":
            entry["status"] = "RUNBOOK" if links["runbooks"] else "NO RUNBOOK YET"
    return entry


def _per_stack(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Result counts per stack and region."""
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        counts[(row["stack"], row["region"])][row["result"]] += 1
    return [
        {"stack": stack, "region": region, **{k: found.get(k, 0) for k in _RESULTS}}
        for (stack, region), found in sorted(counts.items())
    ]


def _summary(
    rows: list[dict[str, Any]],
    clauses: list[dict[str, Any]],
    findings: dict[str, list[dict[str, str]]],
    pack_enabled: bool,
) -> dict[str, Any]:
    """The counts, and whether the pack's failures are those CDK's validation report holds."""
    failed = sum(1 for row in rows if row["result"] == "FAIL")
    reported = len(findings.get(PACK_NAME, []))
    return {
        "clauses": len(clauses),
        "rules": len(ALL_RULES),
        "evaluations": len(rows),
        "pass": sum(1 for row in rows if row["result"] == "PASS"),
        "fail": failed,
        "acknowledged": sum(1 for row in rows if row["result"] == "ACKNOWLEDGED"),
        "not_applicable": sum(1 for row in rows if row["result"] == "N/A"),
        "validation_report_findings": {plugin: len(items) for plugin, items in sorted(findings.items())},
        "counts_match_validation_report": (failed == reported) if pack_enabled else None,
    }


def render_markdown(report: dict[str, Any]) -> str:
    lines = _summary_lines(report) + _clause_table(report["clauses"])
    for clause in report["clauses"]:
        lines += _clause_section(clause)
    lines += _known_exceptions_section(report["known_exceptions"])
    lines += _acknowledgments_section(report["acknowledgments"])
    return "\n".join(lines) + "\n"


def _summary_lines(report: dict[str, Any]) -> list[str]:
    summary = report["summary"]
    return [
        "# Data-security compliance report",
        "",
        f"Pack `{report['pack']}` {'enabled' if report['pack_enabled'] else _DISABLED}; "
        f"{summary['rules']} rules over {summary['clauses']} clauses of docs/POLICY.md.",
        "",
        f"- evaluations: {summary['evaluations']} (pass {summary['pass']}, fail {summary['fail']}, "
        f"acknowledged {summary['acknowledged']}, not applicable {summary['not_applicable']})",
        f"- findings in CDK's validation report, per pack: {json.dumps(summary['validation_report_findings'])}",
        f"- DataSecurity failures match the validation report: {summary['counts_match_validation_report']}",
        "",
    ]


def _clause_table(clauses: list[dict[str, Any]]) -> list[str]:
    lines = ["| clause | kind | status | rules | pass | fail | ack | n/a |", "|---|---|---|---|---|---|---|---|"]
    for clause in clauses:
        totals = {k: sum(s[k] for s in clause["stacks"]) for k in _RESULTS}
        lines.append(
            f"| {clause['id']} | {clause['kind']} | {clause['status']} | {len(clause['rules'])} | {totals['PASS']} | "
            f"{totals['FAIL']} | {totals['ACKNOWLEDGED']} | {totals['N/A']} |"
        )
    return lines


def _clause_section(clause: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"## {clause['id']} ({clause['kind']}): {clause['status']}",
        "",
        f"**Promise:** {clause['promise']}",
        "",
        f"**Control:** {clause['control']}",
        "",
    ]
    if clause["rules"]:
        lines.append("**Rules:** " + ", ".join(f"`{r['id']}`" for r in clause["rules"]))
        lines += ["", "| stack | region | pass | fail | acknowledged | n/a |", "|---|---|---|---|---|---|"]
        lines += [
            f"| {s['stack']} | {s['region']} | {s['PASS']} | {s['FAIL']} | {s['ACKNOWLEDGED']} | {s['N/A']} |"
            for s in clause["stacks"]
        ]
    for finding in clause["findings"]:
        lines.append(
            f"- **{finding['result']}** `{finding['rule_id']}` {finding['path']} "
            f"({finding['region']}): {finding['detail']}"
        )
    if "not_checked_at_synth" in clause:
        lines.append(f"\n**Not checked at synth (hence PARTIAL):** {clause['not_checked_at_synth']}")
    for exception in clause.get("known_exceptions", []):
        lines.append(f"\n**Known exception (not in any template):** {exception}")
    if "runbooks" in clause:
        lines.append(f"\n**Runbook:** {clause['runbooks']}; **tests:** {clause['runbook_tests']}")
    return lines


def _known_exceptions_section(exceptions: list[dict[str, str]]) -> list[str]:
    lines = [
        "",
        "## Known exceptions (run-time resources no template holds)",
        "",
        "| clause | exception |",
        "|---|---|",
    ]
    return lines + [f"| {e['clause']} | {e['exception']} |" for e in exceptions]


def _acknowledgments_section(acks: list[dict[str, str]]) -> list[str]:
    lines = ["", "## Acknowledgments (all packs)", "", "| resource | finding | reason |", "|---|---|---|"]
    return lines + [f"| {a['path']} | `{a['id']}` | {a['reason']} |" for a in acks]


def write_report(
    outdir: Path | str,
    config: PlatformConfig,
    *,
    pack_enabled: bool = True,
    evaluations: list[Evaluation] | None = None,
) -> Path:
    report = build_report(Path(outdir), config, pack_enabled=pack_enabled, evaluations=evaluations)
    target = Path(outdir) / REPORT_DIR
    target.mkdir(parents=True, exist_ok=True)
    (target / "compliance-report.json").write_text(json.dumps(report, indent=2) + "\n")
    markdown = target / "compliance-report.md"
    markdown.write_text(render_markdown(report))
    return markdown

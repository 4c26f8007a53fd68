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
    findings = validation_findings(Path(outdir))
    rows: list[dict[str, Any]] = []
    statuses: dict[tuple[str, str], str] = {}
    used_acks: list[dict[str, str]] = []
    for evaluation in evaluations:
        status = evaluation.status.value
        if evaluation.status is Compliance.NON_COMPLIANT:
            ack = _acknowledged(evaluation, acks)
            status = "ACKNOWLEDGED" if ack else "FAIL"
            if ack:
                used_acks.append({**ack, "rule": evaluation.rule_id})
        elif evaluation.status is Compliance.COMPLIANT:
            status = "PASS"
        else:
            status = "N/A"
        statuses[(evaluation.rule_id, evaluation.path)] = status
        rows.append({**evaluation.to_json(), "result": status})

    rows_by_clause: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:  # in evaluation order, as a filter per clause would give
        rows_by_clause[row["clause"]].append(row)
    clauses_out = []
    for clause in load_clauses():
        rules = [r for r in ALL_RULES if r.clause == clause.id]
        mine = rows_by_clause.get(clause.id, [])
        per_stack: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for row in mine:
            per_stack[(row["stack"], row["region"])][row["result"]] += 1
        failures = [row for row in mine if row["result"] in ("FAIL", "ACKNOWLEDGED")]
        entry: dict[str, Any] = {
            "id": clause.id,
            "kind": clause.kind,
            "promise": clause.commitment,
            "control": clause.control,
            "rules": [{"id": r.id, "checks": r.info} for r in rules],
            "stacks": [
                {
                    "stack": stack,
                    "region": region,
                    **{k: counts.get(k, 0) for k in ("PASS", "FAIL", "ACKNOWLEDGED", "N/A")},
                }
                for (stack, region), counts in sorted(per_stack.items())
            ],
            "findings": [
                {k: row[k] for k in ("rule_id", "stack", "region", "path", "resource_type", "detail", "result")}
                for row in failures
            ],
            "status": _status(clause.id, mine, bool(rules)),
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
        clauses_out.append(entry)

    data_security_fail = sum(1 for row in rows if row["result"] == "FAIL")
    reported = len(findings.get(PACK_NAME, []))
    return {
        "schema_version": SCHEMA_VERSION,
        "pack": PACK_NAME,
        "pack_enabled": pack_enabled,
        "summary": {
            "clauses": len(clauses_out),
            "rules": len(ALL_RULES),
            "evaluations": len(rows),
            "pass": sum(1 for row in rows if row["result"] == "PASS"),
            "fail": data_security_fail,
            "acknowledged": sum(1 for row in rows if row["result"] == "ACKNOWLEDGED"),
            "not_applicable": sum(1 for row in rows if row["result"] == "N/A"),
            "validation_report_findings": {plugin: len(items) for plugin, items in sorted(findings.items())},
            "counts_match_validation_report": (data_security_fail == reported) if pack_enabled else None,
        },
        "clauses": clauses_out,
        "known_exceptions": [
            {"clause": clause_id, "exception": text} for clause_id, texts in KNOWN_EXCEPTIONS.items() for text in texts
        ],
        "acknowledgments": acks,
    }


def render_markdown(report: dict[str, Any]) -> str:
    summary = report["summary"]
    lines = [
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
        "| clause | kind | status | rules | pass | fail | ack | n/a |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for clause in report["clauses"]:
        totals = {k: sum(s[k] for s in clause["stacks"]) for k in ("PASS", "FAIL", "ACKNOWLEDGED", "N/A")}
        lines.append(
            f"| {clause['id']} | {clause['kind']} | {clause['status']} | {len(clause['rules'])} | {totals['PASS']} | "
            f"{totals['FAIL']} | {totals['ACKNOWLEDGED']} | {totals['N/A']} |"
        )
    for clause in report["clauses"]:
        lines += [
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
    lines += [
        "",
        "## Known exceptions (run-time resources no template holds)",
        "",
        "| clause | exception |",
        "|---|---|",
    ]
    lines += [f"| {e['clause']} | {e['exception']} |" for e in report["known_exceptions"]]
    lines += ["", "## Acknowledgments (all packs)", "", "| resource | finding | reason |", "|---|---|---|"]
    lines += [f"| {a['path']} | `{a['id']}` | {a['reason']} |" for a in report["acknowledgments"]]
    return "\n".join(lines) + "\n"


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

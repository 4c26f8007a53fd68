"""Write the auditor's pack into `<outdir>/compliance/`: index.html, one page per deployment (with
its data-flow diagram), the diagrams' DOT sources and digest.txt (SHA-256 of every report file).

Inputs: the cloud assembly (manifests and templates) and compliance-report.json, which
policies/report.py has just written from the pack's own evaluations. Nothing is evaluated again.
Deterministic: no timestamps, every iteration sorted, so a rerun is byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from importlib import metadata
from pathlib import Path
from typing import Any

from config import PlatformConfig
from policies.auditor import html
from policies.auditor.dot import region_role, to_dot
from policies.auditor.flows import DeploymentFlows, Flow, deployment_flows
from policies.auditor.render import REPO, render_svgs, viz_version
from policies.engine import load_assembly
from policies.report import REPORT_DIR, SCHEMA_VERSION
from policies.rules import ALL_RULES
from policies.rules.model import PACK_NAME

REPORT_FILES = ("compliance-report.json", "compliance-report.md")
INDEX = "index.html"
DIGEST = "digest.txt"


@dataclass(frozen=True)
class Breach:
    deployment: str
    flow: Flow

    def message(self) -> str:
        f = self.flow
        return (
            f"[HOST-2] {self.deployment}: {f.kind} {f.source} ({f.source_region or 'release build'}) -> {f.target} "
            f"({f.target_region}) leaves the jurisdiction's allowed regions; read from {f.evidence}"
        )


def git_commit(repo: Path = REPO) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=False, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "unknown"


def _distribution(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cli_version() -> str:
    lock = REPO / "package-lock.json"
    if not lock.exists():
        return "unknown"
    return str(json.loads(lock.read_text())["packages"].get("node_modules/aws-cdk", {}).get("version", "unknown"))


def versions(commit: str | None = None) -> html.Versions:
    return html.Versions(
        commit=commit if commit is not None else git_commit(),
        cdk_lib=_distribution("aws-cdk-lib"),
        cdk_cli=_cli_version(),
        cdk_nag=_distribution("cdk-nag"),
        pack=f"{PACK_NAME}: {len(ALL_RULES)} rules, report schema {SCHEMA_VERSION}",
        graphviz=f"@viz-js/viz {viz_version()} (Graphviz as WebAssembly)",
    )


def _rule_modules() -> dict[str, str]:
    return {rule.id: rule.check.__module__.replace(".", "/") + ".py" for rule in ALL_RULES}


def _repo_files() -> set[str]:
    return {str(p.relative_to(REPO)) for p in (REPO / "tests" / "policies").glob("test_rules_*.py")}


def clause_status(clause: Mapping[str, Any], totals: Mapping[str, int]) -> str:
    """A clause's status within one deployment: pass / fail / partial / acknowledged / not applicable
    (runbook clauses keep the report's RUNBOOK / NO RUNBOOK YET)."""
    if clause["status"] in ("RUNBOOK", "NO RUNBOOK YET"):
        return str(clause["status"])
    if totals["FAIL"]:
        return "FAIL"
    if clause["status"] == "PARTIAL":
        return "PARTIAL"
    if totals["ACKNOWLEDGED"]:
        return "ACKNOWLEDGED"
    return "PASS" if totals["PASS"] else "NOT APPLICABLE"


def _in_deployment(stack_name: str, deployment: str) -> bool:
    return stack_name.startswith(f"{deployment}-")


def clause_totals(clause: Mapping[str, Any], deployment: str | None) -> dict[str, int]:
    rows = [s for s in clause["stacks"] if deployment is None or _in_deployment(s["stack"], deployment)]
    return {result: sum(int(s[result]) for s in rows) for result in html.RESULTS}


def deployment_counts(report: Mapping[str, Any], flows: DeploymentFlows) -> dict[str, int]:
    totals = {r: 0 for r in html.RESULTS}
    for clause in report["clauses"]:
        for result, value in clause_totals(clause, flows.deployment).items():
            totals[result] += value
    return {
        "evaluations": sum(totals.values()),
        **{html.COUNT_NAMES[r]: totals[r] for r in html.RESULTS},
        "stacks": len(flows.stacks),
        "resources": sum(1 for s in flows.stacks for r in s.resources.values() if r.type != "AWS::CDK::Metadata"),
        "stores": len(flows.stores),
        "flows": len(flows.flows),
        "flows_leaving_jurisdiction": len(flows.breaches),
    }


def _clause_table(report: Mapping[str, Any], deployment: str | None) -> str:
    modules, existing = _rule_modules(), _repo_files()
    rows = []
    for clause in report["clauses"]:
        totals = clause_totals(clause, deployment)
        links = html.clause_links(clause, modules, existing)
        rows.append(
            [
                html.td(clause["id"]),
                html.td(clause["kind"]),
                html.td(clause["promise"]),
                html.td(clause["control"]),
                "<td>" + "<br>".join(f"<code>{escape(r['id'])}</code>" for r in clause["rules"]) + "</td>",
                html.status_cell(clause_status(clause, totals)),
                *(html.count_cell(f"{clause['id']}:{html.COUNT_NAMES[r]}", totals[r]) for r in html.RESULTS),
                html.links_cell(links["runbook"]),
                html.links_cell(links["automation"]),
                html.links_cell(links["tests"]),
            ]
        )
    headers = ("clause", "kind", "promise", "control", "rules", "status", "pass", "fail", "ack", "n/a")
    return html.table((*headers, "runbook", "automation", "tests"), rows, "wide")


def deployment_page(report: Mapping[str, Any], flows: DeploymentFlows, svg: str, about: html.Versions) -> str:
    acks = [a for a in report["acknowledgments"] if _in_deployment(a["path"], flows.deployment)]
    findings = [
        f for clause in report["clauses"] for f in clause["findings"] if _in_deployment(f["stack"], flows.deployment)
    ]
    regions = ", ".join(f"{region_role(flows, r)} {r}" for r in (flows.primary_region, flows.dr_region))
    breaches = [
        f'<p class="breach">Flow leaving the jurisdiction: {escape(Breach(flows.deployment, f).message())}</p>'
        for f in flows.breaches
    ]
    body = [
        f"<h1>Auditor's report: {escape(flows.deployment)}</h1>",
        f"<p>Jurisdiction <b>{escape(flows.jurisdiction)}</b> (allowed regions: "
        f"{escape(', '.join(flows.allowed_regions))}); regions: {escape(regions)}. "
        f'<a href="{INDEX}">All deployments</a>. Generated from the cloud assembly and '
        "<code>compliance-report.json</code> by <code>policies/auditor/</code>; nothing here is drawn by hand.</p>",
        html.versions_table(about),
        "<h2>Counts</h2>",
        html.counts_table(deployment_counts(report, flows)),
        *breaches,
        "<h2>Where data lives and flows (HOST-2, BAK-5, DR-1, ACC-3)</h2>",
        f'<div class="diagram">{svg}</div>',
        html.flow_table(flows),
        "<h2>Clauses of docs/POLICY.md</h2>",
        "<p>Status in this deployment: PASS, FAIL, PARTIAL (synth checks the control only in part), ACKNOWLEDGED "
        "(findings accepted with a compensating control), NOT APPLICABLE, RUNBOOK (a procedure keeps it).</p>",
        _clause_table(report, flows.deployment),
        "<h2>Findings (failed or acknowledged)</h2>",
        html.table(
            ("rule", "resource", "region", "result", "detail"),
            (
                [
                    html.td(f["rule_id"]),
                    f"<td><code>{escape(f['path'])}</code></td>",
                    html.td(f["region"]),
                    html.status_cell(f["result"]),
                    html.td(f["detail"]),
                ]
                for f in findings
            ),
        ),
        f"<h2>Acknowledgments ({len(acks)}, all packs)</h2>",
        html.acknowledgment_table(acks),
        "<h2>Resources per stack</h2>",
        html.resources_table(flows.stacks),
    ]
    return html.page(f"Auditor's report: {flows.deployment}", body)


_DEPLOYMENT_COUNTS = (
    "stacks",
    "flows",
    "flows_leaving_jurisdiction",
    "pass",
    "fail",
    "acknowledged",
    "not_applicable",
)
_DEPLOYMENT_COLUMNS = (
    "deployment",
    "jurisdiction",
    "allowed regions",
    "stacks",
    "flows",
    "leaving",
    "pass",
    "fail",
    "ack",
    "n/a",
)


def index_page(report: Mapping[str, Any], all_flows: list[DeploymentFlows], about: html.Versions) -> str:
    body = [
        "<h1>Auditor's pack</h1>",
        f"<p>Pack <code>{escape(str(report['pack']))}</code> "
        f"{'enabled' if report['pack_enabled'] else 'DISABLED for this synth'}. The same data as "
        '<a href="compliance-report.md"><code>compliance-report.md</code></a> and '
        '<a href="compliance-report.json"><code>compliance-report.json</code></a>; SHA-256 sums in '
        f'<a href="{DIGEST}"><code>{DIGEST}</code></a>.</p>',
        html.versions_table(about),
        "<h2>Counts (the whole assembly)</h2>",
        html.counts_table(_assembly_counts(report, all_flows)),
        "<h2>Deployments</h2>",
        html.table(_DEPLOYMENT_COLUMNS, [_deployment_row(report, flows) for flows in all_flows]),
        "<h2>Clauses (every deployment)</h2>",
        _clause_table(report, None),
        f"<h2>Known exceptions ({len(report['known_exceptions'])})</h2>",
        html.table(
            ("clause", "exception"),
            ([html.td(e["clause"]), html.td(e["exception"])] for e in report["known_exceptions"]),
        ),
    ]
    return html.page("Auditor's pack", body)


def _assembly_counts(report: Mapping[str, Any], all_flows: list[DeploymentFlows]) -> dict[str, int]:
    summary = report["summary"]
    return {
        "evaluations": summary["evaluations"],
        "pass": summary["pass"],
        "fail": summary["fail"],
        "acknowledged": summary["acknowledged"],
        "not_applicable": summary["not_applicable"],
        "clauses": summary["clauses"],
        "rules": summary["rules"],
        "deployments": len(all_flows),
        "acknowledgments": len(report["acknowledgments"]),
    }


def _deployment_row(report: Mapping[str, Any], flows: DeploymentFlows) -> list[str]:
    mine = deployment_counts(report, flows)
    return [
        f'<td><a href="{escape(flows.deployment)}.html">{escape(flows.deployment)}</a></td>',
        html.td(flows.jurisdiction),
        html.td(", ".join(flows.allowed_regions)),
        *(html.count_cell(f"{flows.deployment}:{k}", mine[k]) for k in _DEPLOYMENT_COUNTS),
    ]


def _digest(directory: Path, names: list[str]) -> str:
    return "".join(f"{hashlib.sha256((directory / n).read_bytes()).hexdigest()}  {n}\n" for n in sorted(names))


def write_auditor_pack(outdir: Path | str, config: PlatformConfig, *, commit: str | None = None) -> list[Breach]:
    """Write the pack; return the flows that leave their jurisdiction (drawn red, listed first)."""
    target = Path(outdir) / REPORT_DIR
    report = json.loads((target / "compliance-report.json").read_text())
    all_flows = sorted(deployment_flows(load_assembly(Path(outdir), config)), key=lambda f: f.deployment)
    dots = {flows.deployment: to_dot(flows) for flows in all_flows}
    svgs = render_svgs(dots)
    about = versions(commit)
    for stale in [*target.glob("*.html"), *target.glob("*.dot")]:
        stale.unlink()
    written = [n for n in REPORT_FILES if (target / n).exists()]
    for flows in all_flows:
        (target / f"{flows.deployment}.dot").write_text(dots[flows.deployment])
        (target / f"{flows.deployment}.html").write_text(deployment_page(report, flows, svgs[flows.deployment], about))
        written += [f"{flows.deployment}.dot", f"{flows.deployment}.html"]
    (target / INDEX).write_text(index_page(report, all_flows, about))
    written.append(INDEX)
    (target / DIGEST).write_text(_digest(target, written))
    return [Breach(flows.deployment, flow) for flows in all_flows for flow in flows.breaches]

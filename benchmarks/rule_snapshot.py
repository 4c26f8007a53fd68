"""Every (rule, resource, status, detail) the DataSecurity rules give on synthesized deployments.

Run by hand to prove a refactor of `policies/rules/` behaviour-neutral:

    python -m benchmarks.rule_snapshot synth /tmp/rules-assembly au-production au-development
    python -m benchmarks.rule_snapshot evaluate /tmp/rules-assembly > before.json
    ... change the rules ...
    python -m benchmarks.rule_snapshot evaluate /tmp/rules-assembly > after.json
    diff before.json after.json

`synth` writes one cloud assembly per deployment (through `tests/conftest.py`'s
`synthesize()`, so the packs run as in the suite); `evaluate` loads each assembly
and prints every evaluation, sorted, one JSON object per line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from config import load_config
from policies.engine import evaluate, load_assembly


def synth(root: Path, deployments: list[str]) -> None:
    from tests.conftest import synthesize

    config = load_config()
    for name in deployments:
        synthesize(config, name, root / name)


def snapshot(root: Path) -> list[str]:
    config = load_config()
    lines: list[str] = []
    for directory in sorted(p for p in root.iterdir() if p.is_dir()):
        for evaluation in evaluate(load_assembly(directory, config)):
            lines.append(json.dumps({"assembly": directory.name, **evaluation.to_json()}, sort_keys=True))
    return sorted(lines)


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "synth":
        synth(Path(argv[1]), argv[2:] or ["au-production", "au-development"])
        return 0
    if len(argv) == 2 and argv[0] == "evaluate":
        print("\n".join(snapshot(Path(argv[1]))))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

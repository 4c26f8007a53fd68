"""`python -m policies.auditor [--outdir cdk.out] [--config path.toml]`: write the auditor's pack for
an existing cloud assembly (the synth writes it too); exit 1 when a flow leaves its jurisdiction."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from config import load_config
from policies.auditor.pack import write_auditor_pack
from policies.report import REPORT_DIR, write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policies.auditor", description=__doc__)
    parser.add_argument("--outdir", type=Path, default=Path("cdk.out"), help="the cloud assembly (default cdk.out)")
    parser.add_argument("--config", type=Path, default=None, help="the configuration file the app synthesized")
    args = parser.parse_args(argv)
    config = load_config(args.config) if args.config else load_config()
    if not (args.outdir / REPORT_DIR / "compliance-report.json").exists():
        write_report(args.outdir, config)  # an assembly synthesized without the app's report step
    breaches = write_auditor_pack(args.outdir, config)
    for breach in breaches:
        print(breach.message(), file=sys.stderr)
    print(f"auditor's pack: {args.outdir / REPORT_DIR / 'index.html'}")
    return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main())

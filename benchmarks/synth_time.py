#!/usr/bin/env python3
"""Median synth time of the whole app with and without the DataSecurity pack.

    python benchmarks/synth_time.py [--runs 3] [--deployment au-production]

Runs alternate (on, off, on, off, ...) so both modes see the same machine load, each
into its own output directory; the pack is switched off with `-c dataSecurityPack=off`
(policies/registration.py). A run that fails the policy gate still counts: the
validation (all packs) has run in full by then. Prints each time and the medians.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def synth(mode: str, outdir: Path, deployment: str | None) -> float:
    command = ["npx", "cdk", "synth", "-q", "-o", str(outdir), "-c", f"dataSecurityPack={mode}"]
    if deployment:
        command += ["-c", f"deployment={deployment}"]
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, capture_output=True, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--deployment", default=None, help="one deployment instead of the whole app")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"on": [], "off": []}
    work = Path(tempfile.mkdtemp(prefix="cdk.out.bench-"))
    try:
        for run in range(args.runs):
            for mode in ("on", "off") if run % 2 == 0 else ("off", "on"):
                seconds = synth(mode, work / mode, args.deployment)
                times[mode].append(seconds)
                print(f"run {run + 1} pack={mode}: {seconds:.1f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    on, off = statistics.median(times["on"]), statistics.median(times["off"])
    print(f"median with pack:    {on:.1f} s ({args.runs} runs)")
    print(f"median without pack: {off:.1f} s ({args.runs} runs)")
    print(f"pack overhead:       {100 * (on - off) / off:+.1f} %")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The speed benchmark: every figure of the README's "Speed" section comes from here.

    python -m benchmarks.run                      # everything, 3 runs of each synth
    python -m benchmarks.run --runs 5 --only one,whole,packs
    python -m benchmarks.run --only tests,deploy,gameday

Measures (`--only`, comma-separated; default all):

- floor     an empty one-stack CDK app (benchmarks/empty_app.py) through the same CLI;
            always run alongside any synth measure, every ratio is to it;
- one       `cdk synth -c deployment=au-production`, as a ratio to the floor;
- whole     `cdk synth` of every deployment, as a ratio to the floor (parallel workers, one
            per core: stacks/parallel_synth.py), and the same in one process for comparison;
- marginal  the cost of one more deployment: synth of 1, 3 (`-c jurisdiction=au`) and 9,
            least-squares slope in s per deployment;
- packs     the five policy packs: one deployment and the whole app with and without
            (`-c policyPacks=off`; the auditor's report is still written);
- memory    peak resident memory of the synth (sum over the process tree: CLI, Python
            app, jsii's Node runtime), sampled every 50 ms during the runs above;
- tests     the test command `scripts/test` (warm checkout): set-up + ruff, mypy, pytest;
- deploy    the local deploy of au-production into moto (`tooling.deploy --skip-synth`
            after a synth of that deployment into ./cdk.out);
- pipeline  `cdk synth -c pipeline=au` (every pack) into build/cdk.out.pipeline-au, then its first
            deploy into moto (`tooling.pipeline_deploy --skip-synth`: policies, bootstrap,
            artifact store, pipeline);
- gameday   the failover game day's per-step and total times, read from
            build/gameday.json when `scripts/gameday` has written it (not run here).

Synth variants run alternately: run k runs every variant once, in an order rotated by
k, so each sees the same machine load; figures are medians over the runs, ratios are
medians of per-run ratios (each run against its own floor). CPU seconds (user + sys
of the whole process tree) are shown too: they move much less than wall time when
other jobs share the cores. The load average is recorded with every run.

Writes a Markdown table to stdout and to build/benchmark.md, and JSON to
build/benchmark.json and cdk.out/benchmark.json (cdk.out/ is CI's artifact).
No test times anything: these figures come only from this command.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CDK = REPO / "node_modules" / ".bin" / "cdk"
BUILD = REPO / "build"
GAMEDAY_JSON = BUILD / "gameday.json"
OUTPUTS = (BUILD / "benchmark.json", REPO / "cdk.out" / "benchmark.json")
DEPLOYMENT = "au-production"
JURISDICTION = "au"  # au-development, au-staging, au-production: the 3 of the marginal cost
ALL_MEASURES = ("floor", "one", "whole", "marginal", "packs", "memory", "tests", "deploy", "pipeline", "gameday")
SYNTH_MEASURES = {"floor", "one", "whole", "marginal", "packs", "memory"}
TARGETS = {"one_ratio": 2.0, "whole_ratio": 4.0, "marginal_s": 1.0, "test_command_s": 90.0, "pytest_s": 60.0}


@dataclass(frozen=True)
class Variant:
    name: str
    label: str
    args: tuple[str, ...]
    deployments: int = 0


VARIANTS = {
    v.name: v
    for v in (
        Variant("empty", "empty one-stack app (floor)", ("--app", f"{sys.executable} benchmarks/empty_app.py")),
        Variant("one", f"one deployment ({DEPLOYMENT})", ("-c", f"deployment={DEPLOYMENT}"), 1),
        Variant("three", f"3 deployments (jurisdiction {JURISDICTION})", ("-c", f"jurisdiction={JURISDICTION}"), 3),
        Variant("whole", "whole app (9 deployments, parallel workers)", (), 9),
        Variant("whole-serial", "whole app in one process (`-c synthWorkers=1`)", ("-c", "synthWorkers=1"), 9),
        Variant("one-nopacks", "one deployment, no packs", ("-c", f"deployment={DEPLOYMENT}", "-c", "policyPacks=off")),
        Variant("whole-nopacks", "whole app, no packs", ("-c", "policyPacks=off")),
    )
}


@dataclass
class Sample:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    returncode: int
    load_before: float
    load_after: float


@dataclass
class Results:
    runs: int
    measures: list[str]
    machine: dict[str, Any]
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)


def hermetic_env() -> dict[str, str]:
    """No AWS credentials or CDK variables of the caller; the venv's python first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _tree(pid: int) -> list[int]:
    """The process and its descendants, through /proc/<pid>/task/<tid>/children."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _rss_mb(pids: Sequence[int]) -> float:
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total / 2**20


def run_measured(command: Sequence[str], env: dict[str, str], *, log: Path | None = None) -> Sample:
    """Wall time, CPU time of the whole tree (wait4), peak RSS summed over the tree."""
    load_before = os.getloadavg()[0]
    out = log.open("wb") if log else subprocess.DEVNULL
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, _rss_mb(_tree(process.pid)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if log:
        out.close()  # type: ignore[union-attr]
    return Sample(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=peak,
        returncode=process.returncode,
        load_before=load_before,
        load_after=os.getloadavg()[0],
    )


def synth(variant: Variant, work: Path, env: dict[str, str]) -> Sample:
    outdir = work / variant.name
    shutil.rmtree(outdir, ignore_errors=True)
    log = work / f"{variant.name}.log"
    result = run_measured([str(CDK), "synth", "--quiet", "--output", str(outdir), *variant.args], env, log=log)
    if result.returncode != 0:
        sys.exit(f"benchmark: synth {variant.name} failed (exit {result.returncode}):\n{log.read_text()[-3000:]}")
    return result


def variants_for(measures: set[str]) -> list[str]:
    chosen: list[str] = []
    wanted = {
        "one": ["one"],
        "whole": ["whole", "whole-serial"],
        "marginal": ["one", "three", "whole"],
        "packs": ["one", "one-nopacks", "whole", "whole-nopacks"],
        "memory": ["one"],
    }
    if measures & SYNTH_MEASURES:
        chosen.append("empty")
    for measure in ALL_MEASURES:
        if measure in measures:
            chosen += [v for v in wanted.get(measure, []) if v not in chosen]
    return chosen


def alternate(names: list[str], run: int) -> list[str]:
    """Run k: the variants rotated by k, reversed on odd runs (no variant always first or last)."""
    shift = run % len(names)
    order = names[shift:] + names[:shift]
    return order[::-1] if run % 2 else order


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (deployments, seconds)."""
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points)


def synth_figures(results: Results) -> None:
    samples = results.samples
    figures = results.figures
    for name, runs in samples.items():
        figures[name] = {
            "label": VARIANTS[name].label,
            "wall_s": round(median([s.wall_s for s in runs]), 2),
            "cpu_s": round(median([s.cpu_s for s in runs]), 2),
            "peak_rss_mb": round(median([s.peak_rss_mb for s in runs]), 1),
            "load_avg": round(median([(s.load_before + s.load_after) / 2 for s in runs]), 2),
            "runs": [round(s.wall_s, 2) for s in runs],
        }
        if "empty" in samples and name != "empty":
            pairs = list(zip(runs, samples["empty"], strict=True))
            figures[name]["ratio"] = round(median([s.wall_s / e.wall_s for s, e in pairs]), 2)
            figures[name]["cpu_ratio"] = round(median([s.cpu_s / e.cpu_s for s, e in pairs]), 2)
    if all(name in samples for name in ("one", "three", "whole")):
        per_run = [
            slope([(1, one.wall_s), (3, three.wall_s), (9, whole.wall_s)])
            for one, three, whole in zip(samples["one"], samples["three"], samples["whole"], strict=True)
        ]
        per_run_cpu = [
            slope([(1, one.cpu_s), (3, three.cpu_s), (9, whole.cpu_s)])
            for one, three, whole in zip(samples["one"], samples["three"], samples["whole"], strict=True)
        ]
        figures["marginal"] = {"wall_s": round(median(per_run), 2), "cpu_s": round(median(per_run_cpu), 2)}
    for scope in ("one", "whole"):
        if scope in samples and f"{scope}-nopacks" in samples:
            pairs = list(zip(samples[scope], samples[f"{scope}-nopacks"], strict=True))
            figures[f"packs-{scope}"] = {
                "wall_s": round(median([a.wall_s - b.wall_s for a, b in pairs]), 2),
                "cpu_s": round(median([a.cpu_s - b.cpu_s for a, b in pairs]), 2),
                "percent": round(median([100 * (a.wall_s - b.wall_s) / b.wall_s for a, b in pairs]), 1),
            }


def measure_tests(runs: int, env: dict[str, str], work: Path) -> dict[str, Any]:
    """`scripts/test`, its phases timed by the markers it prints (== ruff, == mypy, == pytest)."""
    totals: list[dict[str, float]] = []
    summary = ""
    failed = 0
    for run in range(runs):
        start = time.perf_counter()
        marks: dict[str, float] = {}
        log = work / f"tests-{run}.log"
        load_before = os.getloadavg()[0]
        with log.open("w") as out:
            process = subprocess.Popen(
                ["scripts/test"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            assert process.stdout is not None
            for line in process.stdout:
                out.write(line)
                if line.startswith("== "):
                    marks[line[3:].strip()] = time.perf_counter() - start
            returncode = process.wait()
        end = time.perf_counter() - start
        summary = next((ln for ln in reversed(log.read_text().splitlines()) if re.search(r"\d+ passed", ln)), "")
        if returncode != 0:  # still timed (a flaky e2e test should not hide the figure), but said
            print(f"benchmark: scripts/test exited {returncode}: {summary}", file=sys.stderr)
            failed += 1
        totals.append(
            {
                "total_s": end,
                "setup_s": marks.get("ruff", 0.0),
                "ruff_s": marks.get("mypy", 0.0) - marks.get("ruff", 0.0),
                "mypy_s": marks.get("pytest", 0.0) - marks.get("mypy", 0.0),
                "pytest_s": end - marks.get("pytest", 0.0),
                "load_avg": (load_before + os.getloadavg()[0]) / 2,
            }
        )
    return {key: round(median([t[key] for t in totals]), 1) for key in totals[0]} | {
        "runs": len(totals),
        "failed_runs": failed,
        "pytest_summary": summary.strip("= "),
    }


def _synth_then_deploy(
    runs: int, env: dict[str, str], work: Path, name: str, synth: Sequence[str], deploy: Sequence[str]
) -> tuple[float, float, int]:
    """`runs` times: the synth (which must pass), then the deploy into a fresh moto; medians and failed deploys."""
    synths: list[float] = []
    deploys: list[float] = []
    failed = 0
    for run in range(runs):
        log = work / f"{name}-synth-{run}.log"
        result = run_measured(synth, env, log=log)
        if result.returncode != 0:
            sys.exit(f"benchmark: synth for {name} failed, see {log}")
        synths.append(result.wall_s)
        log = work / f"{name}-{run}.log"
        deployed = run_measured(deploy, env, log=log)
        if deployed.returncode != 0:
            print(f"benchmark: {name} exited {deployed.returncode}:\n{log.read_text()[-2000:]}", file=sys.stderr)
            failed += 1
        deploys.append(deployed.wall_s)
    return round(median(synths), 1), round(median(deploys), 1), failed


def measure_deploy(runs: int, env: dict[str, str], work: Path) -> dict[str, Any]:
    """Synth au-production into ./cdk.out, then `tooling.deploy --skip-synth` into a fresh moto."""
    synth = [str(CDK), "synth", "--quiet", "--output", str(REPO / "cdk.out"), *VARIANTS["one"].args]
    deploy = [sys.executable, "-m", "tooling.deploy", "--deployment", DEPLOYMENT, "--skip-synth"]
    synth_s, deploy_s, failed = _synth_then_deploy(runs, env, work, "deploy", synth, deploy)
    return {"deployment": DEPLOYMENT, "synth_s": synth_s, "deploy_s": deploy_s, "failed_runs": failed}


def measure_pipeline(runs: int, env: dict[str, str], work: Path) -> dict[str, Any]:
    """The AU pipeline's synth, then `tooling.pipeline_deploy --skip-synth` into a fresh moto."""
    assembly = BUILD / f"cdk.out.pipeline-{JURISDICTION}"
    synth = [str(CDK), "synth", "--quiet", "--output", str(assembly), "-c", f"pipeline={JURISDICTION}"]
    deploy = [sys.executable, "-m", "tooling.pipeline_deploy", "--jurisdiction", JURISDICTION, "--skip-synth"]
    synth_s, deploy_s, failed = _synth_then_deploy(runs, env, work, "pipeline", synth, deploy)
    return {"pipeline": f"{JURISDICTION}-pipeline", "synth_s": synth_s, "deploy_s": deploy_s, "failed_runs": failed}


def read_gameday(path: Path = GAMEDAY_JSON) -> dict[str, Any] | None:
    """The game day's own figures (tooling/gameday.py writes them); None when it has not run."""
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    steps = [
        {
            "procedure": str(step.get("procedure", "")),
            "step": str(step.get("step", "")),
            "status": str(step.get("status", "")),
            "duration_s": float(step.get("duration_s", 0.0)),
        }
        for step in data.get("steps", [])
    ]
    return {
        "source": str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path),
        "written": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(path.stat().st_mtime)),
        "deployment": data.get("deployment"),
        "ok": data.get("ok"),
        "steps": steps,
        "totals_s": data.get("totals_s", {}),
        "phases_s": data.get("phases_s", {}),
    }


def _met(value: float | None, target: float) -> str:
    if value is None:
        return "not measured"
    return "**met**" if value <= target else "**not met**"


def render(results: Results) -> str:
    f = results.figures
    machine = results.machine
    lines = [
        f"Benchmark {machine['date']}: {machine['cpus']} CPUs, {results.runs} alternating run(s) of each synth, "
        f"medians; load average {machine['load_start']:.1f} at start, {machine['load_end']:.1f} at end.",
        "",
        "| what | wall (s) | CPU (s) | ratio to empty app | peak memory (MB) | target | met |",
        "|---|---|---|---|---|---|---|",
        *_synth_rows(f),
        *_slow_rows(f),
        *_gameday_rows(results),
    ]
    return "\n".join(lines) + "\n"


def _synth_rows(f: dict[str, Any]) -> list[str]:
    """The synth variants against the empty app, the marginal deployment and the packs' share."""
    lines = []
    targets = {"one": ("<= 2.0x", "one_ratio"), "whole": ("<= 4.0x", "whole_ratio")}
    for name in VARIANTS:
        if name not in f:
            continue
        row = f[name]
        ratio = f"{row['ratio']:.2f}x (CPU {row['cpu_ratio']:.2f}x)" if "ratio" in row else "1"
        target, key = targets.get(name, ("", ""))
        met = _met(row.get("ratio"), TARGETS[key]) if key else ""
        lines.append(
            f"| {row['label']} | {row['wall_s']:.1f} | {row['cpu_s']:.1f} | {ratio} | {row['peak_rss_mb']:.0f} "
            f"| {target} | {met} |"
        )
    if "marginal" in f:
        m = f["marginal"]
        lines.append(
            f"| one more deployment (slope over 1, 3, 9) | {m['wall_s']:+.2f} | {m['cpu_s']:+.2f} | | | <= 1 s "
            f"| {_met(m['wall_s'], TARGETS['marginal_s'])} |"
        )
    for scope in ("one", "whole"):
        if f"packs-{scope}" in f:
            p = f[f"packs-{scope}"]
            lines.append(
                f"| the five policy packs, {VARIANTS[scope].label} | {p['wall_s']:+.1f} ({p['percent']:+.0f} %) "
                f"| {p['cpu_s']:+.1f} | | | | |"
            )
    return lines


def _slow_rows(f: dict[str, Any]) -> list[str]:
    """The test command, the local deploy and the pipeline."""
    lines = []
    if "tests" in f:
        t = f["tests"]
        lines.append(
            f"| test command `scripts/test` (set-up {t['setup_s']:.0f} s, ruff {t['ruff_s']:.0f} s, "
            f"mypy {t['mypy_s']:.0f} s) | {t['total_s']:.1f} | | | | < 90 s | {_met(t['total_s'], 90)} |"
        )
        failed = f", {t['failed_runs']} failed run(s)" if t["failed_runs"] else ""
        lines.append(
            f"| pytest ({t['pytest_summary']}{failed}) | {t['pytest_s']:.1f} | | | | < 60 s "
            f"| {_met(t['pytest_s'], 60)} |"
        )
    if "deploy" in f:
        d = f["deploy"]
        lines.append(
            f"| local deploy of {d['deployment']} into moto (after its synth) | {d['deploy_s']:.1f} | | | | | |"
        )
    if "pipeline" in f:
        p = f["pipeline"]
        lines.append(
            f"| synth of {p['pipeline']} (`-c pipeline={JURISDICTION}`, every pack) | {p['synth_s']:.1f} | | | | | |"
        )
        lines.append(f"| first deploy of {p['pipeline']} into moto (after its synth) | {p['deploy_s']:.1f} | | | | | |")
    return lines


def _gameday_rows(results: Results) -> list[str]:
    gameday = results.figures.get("gameday")
    lines: list[str] = []
    if gameday:
        lines += [
            "",
            f"Game day ({gameday['source']}, written {gameday['written']}, deployment {gameday['deployment']}, "
            f"ok: {gameday['ok']}):",
            "",
            "| procedure | step | status | seconds |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {s['procedure']} | {s['step']} | {s['status']} | {s['duration_s']:.1f} |" for s in gameday["steps"]
        ]
        lines += [f"| {proc} | **total** | | {secs:.1f} |" for proc, secs in gameday["totals_s"].items()]
    elif "gameday" in results.measures:
        lines += ["", f"Game day: {GAMEDAY_JSON.relative_to(REPO)} not found (run `scripts/gameday` first)."]
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="alternating runs of each synth variant (default 3)")
    parser.add_argument("--only", default=",".join(ALL_MEASURES), help=f"comma-separated: {', '.join(ALL_MEASURES)}")
    parser.add_argument("--slow-runs", type=int, default=1, help="runs of the test command and the deploy (default 1)")
    args = parser.parse_args(argv)
    measures = [m.strip() for m in args.only.split(",") if m.strip()]
    unknown = sorted(set(measures) - set(ALL_MEASURES))
    if unknown:
        parser.error(f"unknown measure(s): {', '.join(unknown)}")
    env = hermetic_env()
    results = Results(
        runs=args.runs,
        measures=measures,
        machine={
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "cpus": os.cpu_count(),
            "load_start": os.getloadavg()[0],
            "python": sys.version.split()[0],
        },
    )
    work = Path(tempfile.mkdtemp(prefix="benchmark-"))
    try:
        _measure(results, args, env, work)
    except BaseException:
        print(f"benchmark: logs kept in {work}", file=sys.stderr)
        raise
    shutil.rmtree(work, ignore_errors=True)
    results.machine["load_end"] = os.getloadavg()[0]
    _write(results)


def _measure(results: Results, args: argparse.Namespace, env: dict[str, str], work: Path) -> None:
    """The synth variants alternating run by run, then the slow measures once each."""
    measures = results.measures
    names = variants_for(set(measures))
    for run in range(args.runs if names else 0):
        for name in alternate(names, run):
            sample = synth(VARIANTS[name], work, env)
            results.samples.setdefault(name, []).append(sample)
            print(
                f"run {run + 1}/{args.runs} {name}: {sample.wall_s:.1f} s wall, {sample.cpu_s:.1f} s CPU, "
                f"{sample.peak_rss_mb:.0f} MB, load {sample.load_before:.1f}",
                file=sys.stderr,
                flush=True,
            )
    synth_figures(results)
    if "tests" in measures:
        results.figures["tests"] = measure_tests(args.slow_runs, env, work)
    if "deploy" in measures:
        results.figures["deploy"] = measure_deploy(args.slow_runs, env, work)
    if "pipeline" in measures:
        results.figures["pipeline"] = measure_pipeline(args.slow_runs, env, work)
    if "gameday" in measures:
        results.figures["gameday"] = read_gameday()


def _write(results: Results) -> None:
    """The table on stdout and in build/benchmark.md; the figures and samples as JSON."""
    markdown = render(results)
    print(markdown)
    payload = {
        "machine": results.machine,
        "runs": results.runs,
        "measures": results.measures,
        "targets": TARGETS,
        "figures": results.figures,
        "samples": {name: [asdict(s) for s in runs] for name, runs in results.samples.items()},
        "markdown": markdown,
    }
    BUILD.mkdir(exist_ok=True)
    (BUILD / "benchmark.md").write_text(markdown)
    for target in OUTPUTS:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {target.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()

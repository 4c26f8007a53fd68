"""Synthesize the selected deployments in parallel processes, merged into one cloud assembly.

Why: a Python CDK app builds every construct through jsii round trips to a single Node
process, so one synth uses one core, and the deployments are independent of each other.
How (`app.py`): the deployments are split into groups (`partition`); the app keeps the
lightest group and starts one worker per other group (`python app.py` with
`PLATFORM_SYNTH_DEPLOYMENTS` and its own `CDK_OUTDIR` inside the outdir). Each worker
synthesizes its deployments with every policy pack and writes its rule evaluations; the
app then moves the workers' nested assemblies into its outdir and merges the manifest,
`tree.json` and CDK's validation reports in the order a one-process synth writes them
(`merge`), and writes the auditor's report once, from every process's evaluations.

A deployment is never split: the DataSecurity rules read both stages of a deployment.
`-c synthWorkers=1` synthesizes in one process (`tests/unit/test_synth.py` checks that
both give byte-identical templates, manifests and reports).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import aws_cdk as cdk

from config import ConfigError, Deployment, PlatformConfig
from policies.engine import Evaluation

WORKERS_CONTEXT: Final = "synthWorkers"
WORKER_DEPLOYMENTS_ENV: Final = "PLATFORM_SYNTH_DEPLOYMENTS"
EVALUATIONS_FILE: Final = "evaluations.json"
WORKER_LOG: Final = "worker.log"
MAX_WORKERS: Final = 16
# The default stays small: each process (Python, jsii's Node runtime) peaks at about 1.2 GB.
DEFAULT_MAX_WORKERS: Final = 4
REPORTS: Final = ("validation-report.json", "policy-validation-report.json")


def is_worker() -> bool:
    return bool(os.environ.get(WORKER_DEPLOYMENTS_ENV))


def worker_deployments(config: PlatformConfig) -> tuple[Deployment, ...] | None:
    """The deployments this worker builds, or None in the app's own process."""
    names = [name for name in os.environ.get(WORKER_DEPLOYMENTS_ENV, "").split(",") if name]
    if not names:
        return None
    known = {d.name: d for d in config.deployments}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ConfigError(f"environment {WORKER_DEPLOYMENTS_ENV}", ",".join(unknown), f"one of: {', '.join(known)}")
    return tuple(known[name] for name in names)


def requested_workers(app: cdk.App, deployments: int, cpus: int | None = None) -> int:
    """`-c synthWorkers=N` (1..16), else one per core, at most 4; never more than deployments."""
    value = app.node.try_get_context(WORKERS_CONTEXT)
    if value is None:
        available = cpus if cpus is not None else usable_cpus()
        wanted = min(available, DEFAULT_MAX_WORKERS)
    else:
        try:
            wanted = int(str(value))
        except ValueError:
            wanted = 0
        if not 1 <= wanted <= MAX_WORKERS:
            raise ConfigError(f"context {WORKERS_CONTEXT}", value, f"a whole number from 1 to {MAX_WORKERS}")
    return max(1, min(wanted, deployments))


def usable_cpus() -> int:
    """The cores this process may run on (its affinity on Linux; macOS has no affinity call)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def weight(deployment: Deployment) -> int:
    """Stacks the deployment synthesizes: 13 primary + 7 DR foundation (+3 DR standby)."""
    return 20 + (3 if deployment.standby.enabled else 0)


def partition(deployments: Sequence[Deployment], workers: int) -> list[tuple[Deployment, ...]]:
    """`workers` groups of whole deployments with balanced stack counts, lightest first.

    Longest-processing-time greedy; each group keeps the configuration's order. The first
    group is the lightest: the app's own process also merges and writes the report."""
    count = max(1, min(workers, len(deployments)))
    groups: list[list[Deployment]] = [[] for _ in range(count)]
    loads = [0] * count
    order = {d.name: index for index, d in enumerate(deployments)}
    for deployment in sorted(deployments, key=lambda d: (-weight(d), order[d.name])):
        lightest = loads.index(min(loads))
        groups[lightest].append(deployment)
        loads[lightest] += weight(deployment)
    ranked = sorted(range(count), key=lambda i: (loads[i], i))
    return [tuple(sorted(groups[i], key=lambda d: order[d.name])) for i in ranked if groups[i]]


@dataclass
class Worker:
    deployments: tuple[Deployment, ...]
    outdir: Path
    process: subprocess.Popen[bytes]


def start_worker(deployments: tuple[Deployment, ...], outdir: str | Path, app_file: Path) -> Worker:
    """Run `app_file` for `deployments` into a fresh directory inside `outdir`."""
    Path(outdir).mkdir(parents=True, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix=".synth-worker-", dir=outdir))
    env = {**os.environ, "CDK_OUTDIR": str(directory), WORKER_DEPLOYMENTS_ENV: ",".join(d.name for d in deployments)}
    with (directory / WORKER_LOG).open("wb") as log:  # a file, not a pipe: a long report cannot block it
        process = subprocess.Popen([sys.executable, str(app_file)], env=env, stdout=log, stderr=subprocess.STDOUT)
    return Worker(deployments, directory, process)


def stop(workers: Iterable[Worker]) -> None:
    for worker in workers:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait()
        shutil.rmtree(worker.outdir, ignore_errors=True)


def wait(workers: Iterable[Worker]) -> int:
    """Wait for every worker and replay its output; the worst exit code (0: all passed)."""
    worst = 0
    for worker in workers:
        code = worker.process.wait()
        output = (worker.outdir / WORKER_LOG).read_text(errors="replace").strip()
        # Its reports are merged into the app's outdir: point there, not at the directory merge removes.
        output = output.replace(f"{worker.outdir.name}{os.sep}", "")
        if output:
            names = ", ".join(d.name for d in worker.deployments)
            print(f"[synth worker: {names}]\n{output}", file=sys.stderr, flush=True)
        if code != 0:
            worst = code if worst == 0 else max(worst, code)
    return worst


def write_evaluations(outdir: str | Path, evaluations: list[Evaluation] | None) -> None:
    """A worker's evaluations for the app's report (`null`: its pack did not evaluate)."""
    payload = None if evaluations is None else [e.to_json() for e in evaluations]
    (Path(outdir) / EVALUATIONS_FILE).write_text(json.dumps(payload))


def read_evaluations(outdir: Path) -> list[Evaluation] | None:
    try:
        payload = json.loads((outdir / EVALUATIONS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return None if payload is None else [Evaluation.from_json(item) for item in payload]


def merge(outdir: str | Path, workers: Sequence[Worker], order: Sequence[str]) -> list[Evaluation] | None:
    """Move the workers' assemblies into `outdir` and merge the app-level files; return every
    worker's evaluations (None if any worker's pack did not evaluate)."""
    target = Path(outdir)
    manifest = _read(target / "manifest.json") or {}
    tree = _read(target / "tree.json")
    reports = {name: _read(target / name) for name in REPORTS}
    evaluations: list[Evaluation] | None = []
    for worker in workers:
        for entry in sorted(worker.outdir.iterdir()):
            if entry.name.startswith("assembly-"):
                shutil.rmtree(target / entry.name, ignore_errors=True)  # a previous synth's copy
                entry.rename(target / entry.name)
            elif entry.name.startswith("asset.") and not (target / entry.name).exists():
                entry.rename(target / entry.name)
        theirs = _read(worker.outdir / "manifest.json") or {}  # none: the worker failed before it wrote one
        manifest.setdefault("artifacts", {}).update(_stage_artifacts(theirs))
        if tree and (their_tree := _read(worker.outdir / "tree.json")):
            tree["tree"]["children"].update(_stages_only(their_tree["tree"].get("children", {}), order))
        for name in REPORTS:
            reports[name] = _merge_report(reports[name], _read(worker.outdir / name))
        found = read_evaluations(worker.outdir)
        evaluations = None if found is None or evaluations is None else evaluations + found
        shutil.rmtree(worker.outdir, ignore_errors=True)
    if "version" in manifest:  # the app's own synth wrote its assembly (it had no error)
        manifest["artifacts"] = _ordered(manifest.get("artifacts", {}), [f"assembly-{s}" for s in order])
        _write(target / "manifest.json", manifest)
    if tree:
        tree["tree"]["children"] = _ordered(tree["tree"].get("children", {}), order)
        _write(target / "tree.json", tree, compact=True)
    for name, report in reports.items():
        if report:
            _write(target / name, _violations_in_stage_order(report, order))
    return evaluations


def in_stage_order(evaluations: Iterable[Evaluation], order: Sequence[str]) -> list[Evaluation]:
    """What one process gives: the stacks' stages in `order` (stable within a stage)."""
    return sorted(evaluations, key=lambda e: _stage_rank(e.stack, order))


def _stage_rank(name: str, order: Sequence[str]) -> int:
    """The index in `order` of the stage that `name` (a stack name or construct path) belongs to."""
    for index, stage in enumerate(order):
        if name.startswith((f"{stage}-", f"{stage}/")):
            return index
    return len(order)


def _violations_in_stage_order(report: dict[str, Any], order: Sequence[str]) -> dict[str, Any]:
    def rank(violation: dict[str, Any]) -> int:
        constructs = violation.get("violatingConstructs") or violation.get("violatingResources") or [{}]
        return _stage_rank(str(constructs[0].get("constructPath", "")), order)

    for plugin in report.get("pluginReports", []):
        for key in ("violations", "suppressedViolations"):
            if key in plugin:
                plugin[key] = sorted(plugin[key], key=rank)
    return report


def _stage_artifacts(manifest: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in manifest.get("artifacts", {}).items() if v.get("type") == "cdk:cloud-assembly"}


def _stages_only(children: dict[str, Any], order: Sequence[str]) -> dict[str, Any]:
    return {k: v for k, v in children.items() if k in order}


def _ordered(items: dict[str, Any], first: Sequence[str]) -> dict[str, Any]:
    """`first` keys in that order, then every other key in its existing order (Tree, reports)."""
    result = {key: items[key] for key in first if key in items}
    result.update({k: v for k, v in items.items() if k not in result})
    return result


def _merge_report(mine: dict[str, Any] | None, theirs: dict[str, Any] | None) -> dict[str, Any] | None:
    """CDK's validation reports: one entry per plugin; violations of every process, failure wins.

    Two shapes: validation-report.json (`pluginName`, `conclusion`) and
    policy-validation-report.json (`summary.pluginName`, `summary.status`)."""
    if not theirs:
        return mine
    if not mine:
        return theirs
    plugins = {_plugin_name(p): p for p in mine.setdefault("pluginReports", [])}
    for plugin in theirs.get("pluginReports", []):
        ours = plugins.get(_plugin_name(plugin))
        if ours is None:
            mine["pluginReports"].append(plugin)
            plugins[_plugin_name(plugin)] = plugin
            continue
        for key in ("violations", "suppressedViolations"):
            if key in plugin:
                ours[key] = ours.get(key, []) + plugin[key]
        if _failed(plugin):
            _mark_failed(ours)
    return mine


def _plugin_name(plugin: dict[str, Any]) -> str:
    return str(plugin.get("pluginName") or (plugin.get("summary") or {}).get("pluginName", ""))


def _failed(plugin: dict[str, Any]) -> bool:
    return plugin.get("conclusion") == "failure" or (plugin.get("summary") or {}).get("status") == "failure"


def _mark_failed(plugin: dict[str, Any]) -> None:
    if "summary" in plugin:
        plugin["summary"]["status"] = "failure"
    else:
        plugin["conclusion"] = "failure"


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _write(path: Path, data: Any, *, compact: bool = False) -> None:
    """As aws-cdk-lib writes them: JSON.stringify(data, undefined, 2), or compact for tree.json."""
    if compact:
        path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    else:
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2))

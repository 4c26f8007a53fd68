"""stacks/parallel_synth.py: whole deployments per worker, balanced, merged in one-process order.

The end-to-end check (the parallel synth of the whole app equals the one-process synth,
byte for byte) is in tests/unit/test_synth.py; these pin each piece and its boundaries.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from config import ConfigError, PlatformConfig
from policies.engine import Evaluation
from policies.rules.model import Compliance
from stacks import parallel_synth as parallel
from stacks.app_builder import stage_ids


def _app(**context: Any) -> cdk.App:
    return cdk.App(context=context)


def _loads(groups: list[tuple[Any, ...]]) -> list[int]:
    return [sum(parallel.weight(d) for d in group) for group in groups]


def test_every_deployment_is_in_exactly_one_group_in_configuration_order(platform_config: PlatformConfig) -> None:
    deployments = platform_config.deployments
    groups = parallel.partition(deployments, 2)
    assert len(groups) == 2
    assert sorted(d.name for g in groups for d in g) == sorted(d.name for d in deployments)
    position = {d.name: i for i, d in enumerate(deployments)}
    for group in groups:
        assert [position[d.name] for d in group] == sorted(position[d.name] for d in group)


def test_groups_are_balanced_and_the_first_is_the_lightest(platform_config: PlatformConfig) -> None:
    for workers in (2, 3, 4):
        loads = _loads(parallel.partition(platform_config.deployments, workers))
        assert loads[0] == min(loads)
        heaviest = max(parallel.weight(d) for d in platform_config.deployments)
        assert max(loads) - min(loads) <= heaviest, (workers, loads)


def test_standby_deployments_weigh_more(platform_config: PlatformConfig) -> None:
    production = platform_config.get("au-production")
    development = platform_config.get("au-development")
    assert production.standby.enabled and not development.standby.enabled
    assert parallel.weight(production) == parallel.weight(development) + 3


def test_one_worker_keeps_everything_and_more_workers_than_deployments_give_one_each(
    platform_config: PlatformConfig,
) -> None:
    deployments = platform_config.deployments
    assert parallel.partition(deployments, 1) == [tuple(deployments)]
    assert [len(g) for g in parallel.partition(deployments[:3], 8)] == [1, 1, 1]


def test_two_workers_balance_two_heavy_and_one_light(platform_config: PlatformConfig) -> None:
    chosen = tuple(d for d in platform_config.deployments if d.jurisdiction == "au")
    groups = parallel.partition(chosen, 2)
    # 23 + 20 against 23: the lightest group (the app's own) is one standby deployment.
    assert _loads(groups) == [23, 43]


@pytest.mark.parametrize(("cpus", "deployments", "expected"), [(2, 9, 2), (1, 9, 1), (8, 9, 4), (2, 1, 1), (4, 3, 3)])
def test_default_workers_one_per_core_at_most_four_and_the_deployments(
    cpus: int, deployments: int, expected: int
) -> None:
    assert parallel.requested_workers(_app(), deployments, cpus=cpus) == expected


@pytest.mark.parametrize(("value", "expected"), [("1", 1), ("3", 3), ("16", 9), (2, 2)])
def test_context_sets_the_workers(value: object, expected: int) -> None:
    assert parallel.requested_workers(_app(synthWorkers=value), 9, cpus=2) == expected


@pytest.mark.parametrize("value", ["0", "17", "two", "2.5", "-1", ""])
def test_bad_worker_count_names_the_context_key_and_the_allowed_values(value: str) -> None:
    with pytest.raises(ConfigError) as error:
        parallel.requested_workers(_app(synthWorkers=value), 9, cpus=2)
    assert "context synthWorkers" in str(error.value)
    assert "a whole number from 1 to 16" in str(error.value)


def test_worker_deployments_come_from_the_environment_in_its_order(
    platform_config: PlatformConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(parallel.WORKER_DEPLOYMENTS_ENV, raising=False)
    assert parallel.worker_deployments(platform_config) is None
    assert not parallel.is_worker()
    monkeypatch.setenv(parallel.WORKER_DEPLOYMENTS_ENV, "uk-staging,au-production")
    assert parallel.is_worker()
    chosen = parallel.worker_deployments(platform_config)
    assert chosen is not None and [d.name for d in chosen] == ["uk-staging", "au-production"]


def test_unknown_worker_deployment_names_the_variable_and_the_allowed_names(
    platform_config: PlatformConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(parallel.WORKER_DEPLOYMENTS_ENV, "au-production,mars-production")
    with pytest.raises(ConfigError) as error:
        parallel.worker_deployments(platform_config)
    assert parallel.WORKER_DEPLOYMENTS_ENV in str(error.value) and "mars-production" in str(error.value)
    assert "au-production" in str(error.value)


def _evaluation(stack: str, rule: str = "R1", status: Compliance = Compliance.COMPLIANT) -> Evaluation:
    return Evaluation(rule, "ENC-1", stack, "ap-southeast-2", f"{stack}/X", "X", "AWS::S3::Bucket", status, "d")


def test_evaluations_survive_the_round_trip_between_processes(tmp_path: Path) -> None:
    evaluations = [_evaluation("a-dr-keys"), _evaluation("a-primary-web", "R2", Compliance.NON_COMPLIANT)]
    parallel.write_evaluations(tmp_path, evaluations)
    assert parallel.read_evaluations(tmp_path) == evaluations
    parallel.write_evaluations(tmp_path, None)
    assert parallel.read_evaluations(tmp_path) is None
    assert parallel.read_evaluations(tmp_path / "missing") is None


def test_evaluations_are_put_in_stage_order_stably() -> None:
    order = ["a-dr", "a-primary", "b-dr", "b-primary"]
    given = [_evaluation("b-dr-x", "1"), _evaluation("a-primary-y", "2"), _evaluation("a-dr-z", "3")]
    given.append(_evaluation("b-dr-x", "4"))
    ordered = parallel.in_stage_order(given, order)
    assert [e.rule_id for e in ordered] == ["3", "2", "1", "4"]


ORDER = ["a-dr", "a-primary", "b-dr", "b-primary"]


def _report(plugin: str, conclusion: str, *paths: str, key: str = "violations") -> dict[str, Any]:
    violations = [{"ruleName": f"{plugin}-R", "violatingConstructs": [{"constructPath": p}]} for p in paths]
    return {
        "title": "Validation Report",
        "pluginReports": [{"pluginName": plugin, "conclusion": conclusion, key: violations}],
    }


def _assembly(root: Path, stages: list[str], report: dict[str, Any]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, Any] = {
        f"assembly-{s}": {"type": "cdk:cloud-assembly", "properties": {"directoryName": f"assembly-{s}"}}
        for s in stages
    }
    artifacts["Tree"] = {"type": "cdk:tree", "properties": {"file": "tree.json"}}
    (root / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": artifacts}, indent=2))
    children = {s: {"id": s} for s in stages} | {"Tree": {"id": "Tree"}}
    (root / "tree.json").write_text(json.dumps({"version": "tree-0.1", "tree": {"id": "App", "children": children}}))
    (root / "validation-report.json").write_text(json.dumps(report))
    for stage in stages:
        (root / f"assembly-{stage}").mkdir()
        (root / f"assembly-{stage}" / "marker").write_text(str(root))
    (root / "asset.1").mkdir()
    (root / "asset.1" / "marker").write_text(str(root))


def _worker(root: Path, stages: list[str], report: dict[str, Any], evaluations: list[Evaluation] | None) -> Any:
    _assembly(root, stages, report)
    parallel.write_evaluations(root, evaluations)
    return parallel.Worker(deployments=(), outdir=root, process=None)  # type: ignore[arg-type]


def test_merge_gives_the_one_process_order_and_moves_the_worker_assemblies(tmp_path: Path) -> None:
    app_dir = tmp_path / "out"
    _assembly(
        app_dir, ["b-dr", "b-primary"], _report("DataSecurity", "success", "b-primary/S/R", key="suppressedViolations")
    )
    (app_dir / "assembly-a-dr" / "stale").mkdir(parents=True)  # left by an earlier synth
    theirs = {
        "pluginReports": [
            {
                "pluginName": "DataSecurity",
                "conclusion": "failure",
                "violations": [{"ruleName": "R", "violatingConstructs": [{"constructPath": "a-dr/S/R"}]}],
                "suppressedViolations": [
                    {"ruleName": "R", "violatingConstructs": [{"constructPath": "a-primary/S/R"}]}
                ],
            },
            {"pluginName": "Other", "conclusion": "success", "violations": []},
        ]
    }
    worker = _worker(app_dir / ".synth-worker-x", ["a-dr", "a-primary"], theirs, [_evaluation("a-dr-keys")])
    evaluations = parallel.merge(app_dir, [worker], ORDER)

    manifest = json.loads((app_dir / "manifest.json").read_text())
    assert list(manifest["artifacts"]) == [
        "assembly-a-dr",
        "assembly-a-primary",
        "assembly-b-dr",
        "assembly-b-primary",
        "Tree",
    ]
    tree = json.loads((app_dir / "tree.json").read_text())
    assert list(tree["tree"]["children"]) == [*ORDER, "Tree"]
    for stage in ORDER:
        assert (app_dir / f"assembly-{stage}" / "marker").exists()
    assert not (app_dir / "assembly-a-dr" / "stale").exists()
    assert (app_dir / "asset.1" / "marker").read_text() == str(app_dir)  # the app's own copy is kept
    assert not worker.outdir.exists()

    report = json.loads((app_dir / "validation-report.json").read_text())
    plugins = {p["pluginName"]: p for p in report["pluginReports"]}
    assert plugins["DataSecurity"]["conclusion"] == "failure"  # one failing process fails the report
    assert [v["violatingConstructs"][0]["constructPath"] for v in plugins["DataSecurity"]["suppressedViolations"]] == [
        "a-primary/S/R",
        "b-primary/S/R",
    ]
    assert [v["violatingConstructs"][0]["constructPath"] for v in plugins["DataSecurity"]["violations"]] == ["a-dr/S/R"]
    assert "Other" in plugins
    assert evaluations == [_evaluation("a-dr-keys")]


def test_merge_returns_none_when_a_worker_did_not_evaluate(tmp_path: Path) -> None:
    app_dir = tmp_path / "out"
    _assembly(app_dir, ["b-dr", "b-primary"], _report("DataSecurity", "success"))
    first = _worker(app_dir / ".w1", ["a-dr"], _report("DataSecurity", "success"), [_evaluation("a-dr-x")])
    second = _worker(app_dir / ".w2", ["a-primary"], _report("DataSecurity", "success"), None)
    assert parallel.merge(app_dir, [first, second], ORDER) is None


def test_merge_leaves_the_manifest_alone_when_the_apps_own_synth_wrote_none(tmp_path: Path) -> None:
    app_dir = tmp_path / "out"
    app_dir.mkdir()
    worker = _worker(app_dir / ".w1", ["a-dr"], _report("DataSecurity", "success"), [])
    assert parallel.merge(app_dir, [worker], ORDER) == []
    assert not (app_dir / "manifest.json").exists()
    assert (app_dir / "assembly-a-dr" / "marker").exists()


def test_wait_replays_worker_output_and_returns_the_failing_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], platform_config: PlatformConfig
) -> None:
    workers = []
    for index, code in enumerate((0, 1)):
        outdir = tmp_path / f"w{index}"
        outdir.mkdir()
        log = outdir / parallel.WORKER_LOG
        with log.open("wb") as out:
            script = (
                f"print('policy check failed: worker {index}'); "
                f"print('A copy of this report can be found in: out/{outdir.name}/validation-report.json'); "
                f"raise SystemExit({code})"
            )
            process = subprocess.Popen([sys.executable, "-c", script], stdout=out, stderr=subprocess.STDOUT)
        workers.append(parallel.Worker(platform_config.deployments[index : index + 1], outdir, process))
    assert parallel.wait(workers) == 1
    err = capsys.readouterr().err
    assert "policy check failed: worker 1" in err and platform_config.deployments[1].name in err
    assert "found in: out/validation-report.json" in err  # the merged report, not the removed worker directory
    assert parallel.wait(workers[:1]) == 0


def test_stage_order_is_dr_then_primary_per_deployment(platform_config: PlatformConfig) -> None:
    first, second = platform_config.deployments[:2]
    assert stage_ids([first, second]) == [
        f"{first.name}-dr",
        f"{first.name}-primary",
        f"{second.name}-dr",
        f"{second.name}-primary",
    ]


def test_merge_survives_a_worker_that_crashed_before_writing_anything(tmp_path: Path) -> None:
    app_dir = tmp_path / "out"
    _assembly(app_dir, ["b-dr", "b-primary"], _report("DataSecurity", "success"))
    crashed = tmp_path / "out" / ".synth-worker-crashed"
    crashed.mkdir()
    (crashed / parallel.WORKER_LOG).write_text("Traceback ...")
    worker = parallel.Worker(deployments=(), outdir=crashed, process=None)  # type: ignore[arg-type]
    assert parallel.merge(app_dir, [worker], ORDER) is None  # the report then evaluates the assembly itself
    manifest = json.loads((app_dir / "manifest.json").read_text())
    assert list(manifest["artifacts"]) == ["assembly-b-dr", "assembly-b-primary", "Tree"]


def test_usable_cpus_without_an_affinity_call_falls_back_to_the_cpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)  # macOS
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert parallel.usable_cpus() == 6
    assert parallel.requested_workers(_app(), 9) == 4
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert parallel.usable_cpus() == 1


def test_policy_validation_reports_merge_by_their_summary(tmp_path: Path) -> None:
    """policy-validation-report.json names plugins in `summary` (what a failing synth writes)."""

    def report(status: str, *paths: str) -> dict[str, Any]:
        violations = [{"ruleName": "R", "violatingResources": [{"constructPath": p}]} for p in paths]
        plugin = {"summary": {"pluginName": "NIST.800.53.R5", "status": status}, "violations": violations}
        return {"title": "Validation Report", "pluginReports": [plugin]}

    app_dir = tmp_path / "out"
    _assembly(app_dir, ["b-dr", "b-primary"], _report("DataSecurity", "success"))
    (app_dir / "policy-validation-report.json").write_text(json.dumps(report("success", "b-dr/S/R")))
    worker = _worker(app_dir / ".w1", ["a-dr"], _report("DataSecurity", "success"), [])
    (worker.outdir / "policy-validation-report.json").write_text(json.dumps(report("failure", "a-dr/S/R")))
    parallel.merge(app_dir, [worker], ORDER)
    merged = json.loads((app_dir / "policy-validation-report.json").read_text())
    (plugin,) = merged["pluginReports"]
    assert plugin["summary"]["status"] == "failure"
    assert [v["violatingResources"][0]["constructPath"] for v in plugin["violations"]] == ["a-dr/S/R", "b-dr/S/R"]

"""The whole app through the real CDK CLI: hermetic, deterministic, lint-clean.

One synth of every deployment with no AWS credentials or network configuration,
in two parallel processes (stacks/parallel_synth.py, `-c synthWorkers=2`), and a second
into another directory in one process (`-c synthWorkers=1`) with another hash seed:
the templates, the manifests, tree.json and the compliance report must be
byte-identical, and the templates pass cfn-lint with no error and no warning.

For speed, without checking less: the second synth runs in the background while
cfn-lint reads the first one's templates, and cfn-lint reads only the templates it
has not already passed, byte for byte, with the same cfn-lint version and
`.cfnlintrc` (a cache of sha256 sums in build/, which a fresh clone and `make clean`
do not have; `CFN_LINT_CACHE=off` lints every template).
"""

from __future__ import annotations

import dataclasses
import filecmp
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import PlatformConfig
from policies.engine import evaluate, load_assembly
from policies.report import REPORT_DIR, build_report

REPO = Path(__file__).resolve().parents[2]
CDK = REPO / "node_modules" / ".bin" / "cdk"
CFN_LINT = Path(sys.executable).with_name("cfn-lint")
CFN_LINT_CACHE = REPO / "build" / "cfn-lint-passed.json"

pytestmark = pytest.mark.xdist_group("cli-synth")


def _hermetic_env(tmp: Path, hash_seed: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update(
        {
            "AWS_CONFIG_FILE": str(tmp / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONHASHSEED": hash_seed,  # two synths, two set/dict-of-str orders
        }
    )
    return env


def _start_synth(tmp: Path, outdir: Path, hash_seed: str, *context: str) -> subprocess.Popen[str]:
    context_args = [arg for item in context for arg in ("--context", item)]
    return subprocess.Popen(
        [str(CDK), "synth", "--quiet", "--output", str(outdir), *context_args],
        cwd=REPO,
        env=_hermetic_env(tmp, hash_seed),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> None:
    output, _ = process.communicate(timeout=900)
    assert process.returncode == 0, output[-8000:]


@pytest.fixture(scope="module")
def cli_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-synth")


@pytest.fixture(scope="module")
def first_synth(cli_tmp: Path) -> Path:
    outdir = cli_tmp / "first"
    _finish(_start_synth(cli_tmp, outdir, "1", "synthWorkers=2"))
    return outdir


@pytest.fixture(scope="module")
def second_synth_running(first_synth: Path, cli_tmp: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """The determinism synth, in one process, started once the first is done; it runs while cfn-lint does."""
    outdir = cli_tmp / "second"
    process = _start_synth(cli_tmp, outdir, "2", "synthWorkers=1")
    yield process, outdir
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def two_synths(first_synth: Path, second_synth_running: tuple[subprocess.Popen[str], Path]) -> tuple[Path, Path]:
    process, second = second_synth_running
    _finish(process)
    return first_synth, second


def _templates(outdir: Path) -> list[Path]:
    return sorted(outdir.glob("assembly-*/*.template.json"))


def test_every_stack_of_every_deployment_has_a_template(first_synth: Path, platform_config: PlatformConfig) -> None:
    stages = {p.parent.name.removeprefix("assembly-") for p in _templates(first_synth)}
    expected = {f"{d.name}-{role}" for d in platform_config.deployments for role in ("primary", "dr")}
    assert stages == expected
    for stage in expected:
        assert len(list((first_synth / f"assembly-{stage}").glob("*.template.json"))) >= 2


TEAM_ROLE_KEYS = ("technical-director", "application-developer", "client-representative", "auditor")


def test_every_role_of_every_deployment_carries_a_platform_boundary(
    first_synth: Path, platform_config: PlatformConfig
) -> None:
    """ACC-1 (issue 18 item 1): in every template of the app no AWS::IAM::Role lacks a permissions boundary, CDK's
    own raw `CfnResource` provider roles (Custom::* resources) included; the team roles keep the team boundary
    of their Access stack and every other role has the workload boundary the execution policy requires."""
    by_stage = {f"{d.name}-{role}": d for d in platform_config.deployments for role in ("primary", "dr")}
    checked: dict[str, int] = {}
    team_roles: dict[str, set[str]] = {}
    for path in _templates(first_synth):
        deployment = by_stage[path.parent.name.removeprefix("assembly-")]
        team = {f"{deployment.name}-{key}" for key in TEAM_ROLE_KEYS} | {deployment.break_glass_role_name}
        workload = f"arn:aws:iam::{deployment.account}:policy/{deployment.workload_boundary_name}"
        resources = json.loads(path.read_text())["Resources"]
        for logical_id, resource in resources.items():
            if resource["Type"] != "AWS::IAM::Role":
                continue
            properties = resource["Properties"]
            boundary = properties.get("PermissionsBoundary")
            where = f"{path.name}:{logical_id}"
            if properties.get("RoleName") in team:
                team_policy = resources[boundary["Ref"]]["Properties"]
                assert team_policy["ManagedPolicyName"] == f"{deployment.name}-team-boundary", where
                team_roles.setdefault(deployment.name, set()).add(properties["RoleName"])
            else:
                assert boundary == workload, where
            checked[deployment.name] = checked.get(deployment.name, 0) + 1
    assert set(checked) == {d.name for d in platform_config.deployments}
    assert all(count >= 15 for count in checked.values()), checked
    assert all(len(team_roles[d.name]) == 5 for d in platform_config.deployments), team_roles


def _cfn_lint_key() -> str:
    version = subprocess.run([str(CFN_LINT), "--version"], capture_output=True, text=True, check=True).stdout
    config = (REPO / ".cfnlintrc").read_bytes() if (REPO / ".cfnlintrc").exists() else b""
    return hashlib.sha256(version.encode() + b"\0" + config).hexdigest()


def _passed_before(key: str) -> set[str]:
    if os.environ.get("CFN_LINT_CACHE", "").lower() in ("off", "0", "false", "no"):
        return set()
    try:
        cache = json.loads(CFN_LINT_CACHE.read_text())
    except (OSError, ValueError):
        return set()
    return set(cache.get("passed", [])) if cache.get("key") == key else set()


def test_cfn_lint_reports_nothing(first_synth: Path, second_synth_running: tuple[subprocess.Popen[str], Path]) -> None:
    templates = _templates(first_synth)
    digests = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in templates}
    key = _cfn_lint_key()
    passed = _passed_before(key)
    to_lint = [path for path in templates if digests[path] not in passed]
    if to_lint:
        # One process over all of them: the schemas load once (cheaper than two
        # processes on two cores, which the other pytest worker and synth share).
        result = subprocess.run(
            [str(CFN_LINT), "--", *map(str, to_lint)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert result.returncode == 0, result.stdout[-6000:]
    CFN_LINT_CACHE.parent.mkdir(exist_ok=True)
    partial = CFN_LINT_CACHE.with_suffix(f".{os.getpid()}.tmp")
    known = passed | set(digests.values()) if len(passed) < 20_000 else set(digests.values())
    partial.write_text(json.dumps({"key": key, "passed": sorted(known)}, indent=0))
    partial.replace(CFN_LINT_CACHE)


def test_synth_is_byte_identical_across_runs(two_synths: tuple[Path, Path]) -> None:
    """Another hash seed, and parallel workers against one process: the same files, byte for byte."""
    first, second = two_synths
    names = [p.relative_to(first) for p in _templates(first)]
    assert names == [p.relative_to(second) for p in _templates(second)]
    names += [p.relative_to(first) for p in sorted(first.glob("assembly-*/manifest.json"))]
    names += [Path("manifest.json"), Path("tree.json"), Path(REPORT_DIR) / "compliance-report.json"]
    pages = sorted(p.relative_to(first) for p in (first / REPORT_DIR).glob("*.*") if p.suffix in (".html", ".dot"))
    assert len(pages) == 2 * 9 + 1, "an HTML page and a diagram per deployment, and the index (auditor's pack)"
    names += [*pages, Path(REPORT_DIR) / "digest.txt"]
    match, mismatch, errors = filecmp.cmpfiles(first, second, [str(n) for n in names], shallow=False)
    assert mismatch == [] and errors == []
    assert len(match) == len(names)
    assert not list(first.glob(".synth-worker-*")), "a worker's directory was left behind"


def _findings(outdir: Path) -> list[tuple[str, ...]]:
    found = []
    for plugin in json.loads((outdir / "validation-report.json").read_text())["pluginReports"]:
        for key in ("violations", "suppressedViolations"):
            for violation in plugin.get(key, []):
                for construct in violation.get("violatingConstructs", []):
                    path = construct["constructPath"]
                    found.append((plugin["pluginName"], key, violation["ruleName"], path, violation.get("reason", "")))
    return sorted(found)


def test_parallel_and_one_process_synths_report_the_same_findings(two_synths: tuple[Path, Path]) -> None:
    """CDK's validation report: merged from the workers, the same findings and acknowledgments
    (cdk-nag describes a rule's findings with the detail of the first one it met, so the
    description text may name another deployment's resource)."""
    first, second = two_synths
    assert _findings(first) == _findings(second)
    assert _findings(first), "the acknowledged findings are expected in the report"


def test_compliance_report_reuses_the_packs_evaluations_faithfully(
    first_synth: Path, platform_config: PlatformConfig
) -> None:
    """app.py hands the pack's own evaluations to the report (the rules run once per synth):
    the report it wrote must be the one a fresh evaluation of the assembly gives."""
    written = (first_synth / REPORT_DIR / "compliance-report.json").read_text()
    assert written == json.dumps(build_report(first_synth, platform_config), indent=2) + "\n"


def test_evaluation_json_is_the_dataclass_as_a_dict(first_synth: Path, platform_config: PlatformConfig) -> None:
    """`Evaluation.to_json` spells the fields out (asdict's deep copy cost ~1 s per synth): same keys, order, values."""
    evaluations = evaluate(load_assembly(first_synth, platform_config))
    assert evaluations
    for evaluation in evaluations[:: max(1, len(evaluations) // 500)]:
        expected = {**dataclasses.asdict(evaluation), "status": evaluation.status.value}
        assert list(evaluation.to_json().items()) == list(expected.items())

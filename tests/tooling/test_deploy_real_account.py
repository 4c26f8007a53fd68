"""tooling/deploy.py --target aws: the order of phases and the checks between them (no AWS calls)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Stages
from tooling import deploy, preflight
from tooling.preflight import CheckResult, Status

OK = CheckResult("x", "global", Status.OK, "ok")
FOUNDATION = ("Keys", "Network", "Alerts", "Backup", "AuditArchive", "Storage", "Switch")
STANDBY = ("StandbyData", "StandbyPatching", "StandbyWeb")


@pytest.fixture(scope="module")
def assembly(au_production: Stages) -> Path:
    """The synthesized au-production: the deploy order is read from it (stacks/deploy_steps.py)."""
    return Path(au_production["primary"].node.root.outdir)  # type: ignore[attr-defined]


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    commands: list[str] = []
    monkeypatch.setattr(deploy, "run", lambda command, env=None: commands.append(" ".join(command[1:])))
    monkeypatch.setattr(deploy, "ensure_bootstrap_policies", lambda iam, d: ("arn", "boundary"))
    monkeypatch.setattr(deploy, "ensure_region_facts", lambda clients, d, apply: [])
    monkeypatch.setattr(deploy, "clients_for", lambda env: lambda service, region: object())
    monkeypatch.setattr(preflight, "options_from_assembly", lambda *a, **k: preflight.PreflightOptions())
    monkeypatch.setattr(preflight, "run_preflight", lambda *a, **k: [OK])
    monkeypatch.setattr(preflight, "check_bootstrap", lambda *a, **k: OK)
    monkeypatch.setattr(preflight, "check_delegation", lambda *a, **k: OK)
    return commands


def test_preflight_only_changes_nothing(recorded: list[str], assembly: Path) -> None:
    deploy.deploy_real_account("au-production", {}, assembly, preflight_only=True)
    assert recorded == []


def test_a_failed_preflight_stops_before_bootstrap(
    recorded: list[str], assembly: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preflight, "run_preflight", lambda *a, **k: [CheckResult("x", "r", Status.FAIL, "no")])
    with pytest.raises(SystemExit, match="before bootstrap"):
        deploy.deploy_real_account("au-production", {}, assembly)
    assert recorded == []


def test_phases_in_order(recorded: list[str], assembly: Path) -> None:
    deploy.deploy_real_account("au-production", {}, assembly)
    phases = [c.split(" ")[0] + " " + " ".join(w for w in c.split(" ") if "au-production-" in w) for c in recorded]
    foundation = " ".join(f"au-production-dr/{s}" for s in FOUNDATION)
    standby = " ".join(f"au-production-dr/{s}" for s in STANDBY)
    assert phases[0].startswith("bootstrap")
    assert phases[1:] == [
        f"deploy {foundation}",
        "deploy au-production-primary/Dns",
        "deploy au-production-primary/*",
        f"deploy {standby}",
    ]
    assert all("--exclusively" in c for c in recorded[1:])


def test_undelegated_zone_stops_before_the_primary(
    recorded: list[str], assembly: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_delegated(*args: Any, **kwargs: Any) -> CheckResult:
        return CheckResult("domain delegation", "global", Status.FAIL, "not delegated", "set NS")

    monkeypatch.setattr(preflight, "check_delegation", not_delegated)
    with pytest.raises(SystemExit, match="before the primary stage"):
        deploy.deploy_real_account("au-production", {}, assembly)
    assert recorded[-1].endswith("au-production-primary/Dns")


def test_preflight_only_is_for_aws() -> None:
    with pytest.raises(SystemExit):
        deploy.main(["--preflight-only", "--skip-synth"])


def test_steps_prints_the_deploy_commands_of_the_assembly(assembly: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--steps`: the order of a run by hand (docs/REAL_ACCOUNT.md), as the assembly's build marked it."""
    deploy.print_steps("au-production", assembly)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0::2] == ["# DR foundation", "# primary", "# DR standby"]
    assert lines[1].endswith(" --exclusively " + " ".join(f"'au-production-dr/{s}'" for s in FOUNDATION))
    assert lines[3].endswith(" --exclusively 'au-production-primary/*'")
    assert lines[5].endswith(" --exclusively " + " ".join(f"'au-production-dr/{s}'" for s in STANDBY))

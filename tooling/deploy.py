"""The main job: synthesize with every check, deploy one deployment, print what was built.

    python -m tooling.deploy                       # au-production into a local moto server
    python -m tooling.deploy --deployment us-staging
    python -m tooling.deploy --target aws --profile prod-au   # a real account (docs/REAL_ACCOUNT.md)
    python -m tooling.deploy --target aws --profile prod-au --preflight-only   # read-only checks
    python -m tooling.deploy --server-url http://localhost:5000  # update a running emulator

Synthesis covers every deployment (the CI gate); the deploy covers both regions
of the chosen one (DR stage first, then primary). Both targets bootstrap with the scoped
execution policy and permissions boundary of tooling/bootstrap_policy.py (moto accepts
the flags and enforces nothing). A real account is first checked read-only
(tooling/preflight/) and deployed in phases with a check between them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import boto3

from config import Deployment, load_config
from config.topology import FailoverTopology
from policies.engine import template_files
from stacks.deploy_steps import steps_in_assembly
from tooling import preflight
from tooling.bootstrap_policy import bootstrap_command, ensure_bootstrap_policies
from tooling.moto_server import MotoServer, emulator_environment, start_moto_server
from tooling.region_facts import describe, ensure_region_facts
from tooling.summary import release_running, render, summarize_region

REPO = Path(__file__).resolve().parent.parent
CDK = REPO / "node_modules" / ".bin" / "cdk"
ASSEMBLY = REPO / "cdk.out"


def run(command: Sequence[str], env: dict[str, str] | None = None) -> None:
    shown = " ".join(command[:8]) + (f" ... ({len(command) - 8} more)" if len(command) > 8 else "")
    print(f"$ {shown}", flush=True)
    subprocess.run(command, cwd=REPO, env=env, check=True)


def synthesize(
    env: dict[str, str], assembly: Path = ASSEMBLY, context: Sequence[str] = (), *, lint: bool = True
) -> None:
    """Synth (every deployment by default) with all policy packs, then cfn-lint every template
    (`lint=False` only where another check lints the same templates, as the test suite does)."""
    context_args = [arg for item in context for arg in ("--context", item)]
    run([str(CDK), "synth", "--quiet", "--output", str(assembly), *context_args], env=env)
    templates = [str(p) for p in synthesized_templates(assembly)]
    if lint:
        run([str(Path(sys.executable).with_name("cfn-lint")), "--", *templates], env=env)
    print(f"synth: {len(templates)} templates, all policy packs{' and cfn-lint' if lint else ''} clean", flush=True)
    report = assembly / "compliance" / "compliance-report.md"
    if report.exists():
        print(f"compliance report: {report}", flush=True)


def synthesized_templates(assembly: Path) -> list[Path]:
    """The templates of the stages this synth wrote, not a previous synth's leftovers:
    `cdk synth -c deployment=x` into a cdk.out that once held the whole app."""
    return sorted(template_files(assembly))


def _session(env: dict[str, str]) -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
        profile_name=env.get("AWS_PROFILE"),
    )


def clients_for(env: dict[str, str]) -> preflight.ClientFactory:
    session = _session(env)

    def factory(service: str, region: str) -> object:
        return session.client(service, region_name=region, endpoint_url=env.get("AWS_ENDPOINT_URL"))

    return factory


def bootstrap(deployment: Deployment, env: dict[str, str], assembly: Path = ASSEMBLY) -> None:
    """Create/update the scoped execution policy and boundary and the regions' facts (tooling/region_facts.py),
    then bootstrap both regions with them."""
    iam = clients_for(env)("iam", deployment.primary_region)
    execution_arn, boundary = ensure_bootstrap_policies(iam, deployment)
    print(f"bootstrap policies: execution {execution_arn}, boundary {boundary}", flush=True)
    print(describe(ensure_region_facts(clients_for(env), deployment, apply=True), applied=True), flush=True)
    run(bootstrap_command(CDK, assembly, deployment), env=env)


def cdk_deploy(env: dict[str, str], assembly: Path, *selectors: str) -> None:
    """`cdk deploy --exclusively`: exactly the named stacks, so the deploy order stays explicit."""
    run(
        [
            str(CDK),
            "deploy",
            "--app",
            str(assembly),
            "--require-approval",
            "never",
            "--progress",
            "events",
            "--exclusively",
            *selectors,
        ],
        env=env,
    )


def deploy(deployment_name: str, env: dict[str, str], assembly: Path = ASSEMBLY) -> None:
    """The emulator: bootstrap, then the deploy order the assembly was built with (stacks/deploy_steps.py):
    DR foundation -> primary -> DR standby."""
    deployment = load_config().get(deployment_name)
    steps = steps_in_assembly(assembly, deployment)
    bootstrap(deployment, env, assembly)
    for step in steps:
        print(f"\n== {step.what}: {' '.join(step.selectors())}", flush=True)
        cdk_deploy(env, assembly, *step.selectors())


class PreflightFailed(SystemExit):
    """A check failed: the table and what to do are printed; nothing more is changed."""

    def __init__(self, stage: str) -> None:
        super().__init__(f"stopped {stage}: fix the FAIL rows above, then run the same command again")


def _gate(results: list[preflight.CheckResult], stage: str) -> None:
    print(preflight.render_table(results), flush=True)
    if preflight.failed(results):
        raise PreflightFailed(stage)


def deploy_real_account(
    deployment_name: str,
    env: dict[str, str],
    assembly: Path = ASSEMBLY,
    *,
    preflight_only: bool = False,
    lookup_ns: preflight.NameServerLookup | None = None,
) -> None:
    """A real account, in phases with a read-only check before each (docs/REAL_ACCOUNT.md).

    1. preflight (read-only); 2. scoped bootstrap policies + bootstrap of both regions, then
    the bootstrap check again; 3. the DR foundation; 4. the primary's public zone
    (`<deployment>-primary/Dns`), then the delegation check (stops until the parent delegates);
    5. the primary stage; 6. the DR standby (the replica needs the primary database). The
    stacks of each step are those the assembly's build marked (stacks/deploy_steps.py).
    Every phase is idempotent: after a stop, fix what the table says and run the same
    command again.
    """
    deployment = load_config().get(deployment_name)
    foundation, primary, *standby = steps_in_assembly(assembly, deployment)
    clients = clients_for(env)
    profile = env.get("AWS_PROFILE")
    options = preflight.options_from_assembly(assembly, deployment, bootstrap_pending=True, profile=profile)
    print(f"\n== preflight of account {deployment.account} ({', '.join(deployment.regions)}), read-only", flush=True)
    _gate(preflight.run_preflight(deployment, clients, options, lookup_ns), "before bootstrap")
    if preflight_only:
        return

    print("\n== scoped bootstrap of both regions", flush=True)
    bootstrap(deployment, env, assembly)
    strict = preflight.options_from_assembly(assembly, deployment, profile=profile)
    _gate(
        [
            preflight.check_bootstrap(clients("cloudformation", region), region, deployment, strict)
            for region in deployment.regions
        ],
        "after bootstrap",
    )

    print(f"\n== {foundation.what}: {' '.join(foundation.selectors())}", flush=True)
    cdk_deploy(env, assembly, *foundation.selectors())
    print(f"\n== public zone: {primary.stage}/Dns", flush=True)
    cdk_deploy(env, assembly, f"{primary.stage}/Dns")
    _gate(
        [preflight.check_delegation(clients("route53", "us-east-1"), deployment, lookup_ns, strict)],
        "before the primary stage (its certificate validates through the zone)",
    )
    for step in (primary, *standby):
        print(f"\n== {step.what}: {' '.join(step.selectors())}", flush=True)
        cdk_deploy(env, assembly, *step.selectors())


def print_steps(deployment_name: str, assembly: Path = ASSEMBLY) -> None:
    """The deploy order of the synthesized assembly as the commands a person would run by hand."""
    for step in steps_in_assembly(assembly, load_config().get(deployment_name)):
        selectors = " ".join(f"'{selector}'" for selector in step.selectors())
        print(f"# {step.what}\nnpx cdk deploy --app {os.path.relpath(assembly)} --exclusively {selectors}", flush=True)


def print_summary(deployment_name: str, env: dict[str, str]) -> None:
    deployment = load_config().get(deployment_name)
    session = _session(env)
    regions = []
    for role, region in (("primary", deployment.primary_region), ("dr", deployment.dr_region)):
        client = session.client("cloudformation", region_name=region, endpoint_url=env.get("AWS_ENDPOINT_URL"))
        summary = summarize_region(client, region, f"{deployment.name}-{role}-")
        ssm = session.client("ssm", region_name=region, endpoint_url=env.get("AWS_ENDPOINT_URL"))
        summary.release = release_running(ssm, FailoverTopology.of(deployment).release_parameter(role))
        regions.append(summary)
    print(f"\nDeployed {deployment.name} ({deployment.jurisdiction}, account {deployment.account}):")
    print(render(regions), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deployment", default="au-production", help="<jurisdiction>-<environment>")
    parser.add_argument("--target", choices=("local", "aws"), default="local")
    parser.add_argument("--profile", help="AWS profile for --target aws")
    parser.add_argument("--server-url", help="deploy into an already running emulator (an update)")
    parser.add_argument("--skip-synth", action="store_true", help="reuse ./cdk.out")
    parser.add_argument(
        "--preflight-only", action="store_true", help="--target aws: run the read-only account checks and stop"
    )
    parser.add_argument(
        "--steps", action="store_true", help="print the deploy order of the synthesized assembly as commands, and stop"
    )
    args = parser.parse_args(argv)

    names = [d.name for d in load_config().deployments]
    if args.deployment not in names:
        parser.error(f"--deployment {args.deployment!r}: allowed {', '.join(names)}")
    if args.target == "aws" and args.server_url:
        parser.error("--server-url is for --target local only")
    if args.preflight_only and args.target != "aws":
        parser.error("--preflight-only is for --target aws")

    base_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    if not args.skip_synth:
        synthesize(base_env)
    if args.steps:
        print_steps(args.deployment)
        return 0

    if args.target == "aws":
        env = dict(os.environ)
        if args.profile:
            env["AWS_PROFILE"] = args.profile
        deploy_real_account(
            args.deployment, env, preflight_only=args.preflight_only, lookup_ns=preflight.default_lookup_ns()
        )
        if not args.preflight_only:
            print_summary(args.deployment, env)
        return 0

    server: MotoServer | None = None
    url = args.server_url
    account = load_config().get(args.deployment).account
    if url is None:
        server = start_moto_server(account, ASSEMBLY.parent / "build" / "moto_server.log")
        url = server.endpoint_url
        print(f"moto server on {url} (pid {server.process.pid}), account {account}", flush=True)
    try:
        env = emulator_environment(url, account)
        deploy(args.deployment, env)
        if server is not None and (errors := server.request_errors()):
            # The CDK CLI reports success for a change set that crashed inside the emulator.
            raise SystemExit(f"the emulator failed {len(errors)} request(s) during the deploy: {errors}")
        print_summary(args.deployment, env)
    finally:
        if server is not None:
            server.stop()
            print(f"moto server (pid {server.process.pid}) stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The main job: synthesize with every check, deploy one deployment, print what was built.

    python -m tooling.deploy                       # au-production into a local moto server
    python -m tooling.deploy --deployment us-staging
    python -m tooling.deploy --target aws --profile prod-au   # a real account (see README)
    python -m tooling.deploy --server-url http://localhost:5000  # update a running emulator

Synthesis covers every deployment (the CI gate); the deploy covers both regions
of the chosen one (DR stage first, then primary).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import boto3

from config import load_config
from stacks.stages import deploy_order
from tooling.moto_server import MotoServer, emulator_environment, start_moto_server
from tooling.summary import render, summarize_region

REPO = Path(__file__).resolve().parent.parent
CDK = REPO / "node_modules" / ".bin" / "cdk"
ASSEMBLY = REPO / "cdk.out"


def run(command: Sequence[str], env: dict[str, str] | None = None) -> None:
    shown = " ".join(command[:8]) + (f" ... ({len(command) - 8} more)" if len(command) > 8 else "")
    print(f"$ {shown}", flush=True)
    subprocess.run(command, cwd=REPO, env=env, check=True)


def synthesize(env: dict[str, str], assembly: Path = ASSEMBLY, context: Sequence[str] = ()) -> None:
    """Synth (every deployment by default) with all policy packs, then cfn-lint every template."""
    context_args = [arg for item in context for arg in ("--context", item)]
    run([str(CDK), "synth", "--quiet", "--output", str(assembly), *context_args], env=env)
    templates = sorted(str(p) for p in assembly.glob("assembly-*/*.template.json"))
    run([str(Path(sys.executable).with_name("cfn-lint")), "--", *templates], env=env)
    print(f"synth: {len(templates)} templates, all policy packs and cfn-lint clean", flush=True)
    report = assembly / "compliance" / "compliance-report.md"
    if report.exists():
        print(f"compliance report: {report}", flush=True)


def deploy(deployment_name: str, env: dict[str, str], assembly: Path = ASSEMBLY) -> None:
    """Bootstrap both regions, then deploy in the order of `stacks.stages.deploy_order`:
    DR foundation -> primary -> DR standby."""
    deployment = load_config().get(deployment_name)
    targets = [f"aws://{deployment.account}/{region}" for region in deployment.regions]
    run([str(CDK), "bootstrap", "--app", str(assembly), *targets], env=env)
    for step in deploy_order(deployment):
        print(f"== deploy {step.what}: {' '.join(step.selectors())}", flush=True)
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
                *step.selectors(),
            ],
            env=env,
        )


def print_summary(deployment_name: str, env: dict[str, str]) -> None:
    deployment = load_config().get(deployment_name)
    session = boto3.Session(
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
        profile_name=env.get("AWS_PROFILE"),
    )
    regions = []
    for role, region in (("primary", deployment.primary_region), ("dr", deployment.dr_region)):
        client = session.client("cloudformation", region_name=region, endpoint_url=env.get("AWS_ENDPOINT_URL"))
        regions.append(summarize_region(client, region, f"{deployment.name}-{role}-"))
    print(f"\nDeployed {deployment.name} ({deployment.jurisdiction.value}, account {deployment.account}):")
    print(render(regions), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deployment", default="au-production", help="<jurisdiction>-<environment>")
    parser.add_argument("--target", choices=("local", "aws"), default="local")
    parser.add_argument("--profile", help="AWS profile for --target aws")
    parser.add_argument("--server-url", help="deploy into an already running emulator (an update)")
    parser.add_argument("--skip-synth", action="store_true", help="reuse ./cdk.out")
    args = parser.parse_args(argv)

    names = [d.name for d in load_config().deployments]
    if args.deployment not in names:
        parser.error(f"--deployment {args.deployment!r}: allowed {', '.join(names)}")
    if args.target == "aws" and args.server_url:
        parser.error("--server-url is for --target local only")

    base_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    if not args.skip_synth:
        synthesize(base_env)

    if args.target == "aws":
        env = dict(os.environ)
        if args.profile:
            env["AWS_PROFILE"] = args.profile
        deploy(args.deployment, env)
        print_summary(args.deployment, env)
        return 0

    server: MotoServer | None = None
    url = args.server_url
    if url is None:
        account = load_config().get(args.deployment).account
        server = start_moto_server(account, ASSEMBLY.parent / "build" / "moto_server.log")
        url = server.endpoint_url
        print(f"moto server on {url} (pid {server.process.pid}), account {account}", flush=True)
    try:
        env = emulator_environment(url)
        deploy(args.deployment, env)
        print_summary(args.deployment, env)
    finally:
        if server is not None:
            server.stop()
            print(f"moto server (pid {server.process.pid}) stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

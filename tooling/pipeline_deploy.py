"""The first deploy of a jurisdiction's pipeline (issue 21; docs/REAL_ACCOUNT.md "Pipelines", steps 2, 3, 5).

    python -m tooling.pipeline_deploy --jurisdiction au       # into a local moto server, then print it
    python -m tooling.pipeline_deploy --jurisdiction au --target aws --profile tooling-admin

Synthesizes `-c pipeline=<j>` with every policy pack and cfn-lint into `build/cdk.out.pipeline-<j>`,
creates the tooling account's pipeline boundary and execution policy (tooling/pipeline_bootstrap.py),
bootstraps the tooling account in the pipeline's region and every region it deploys into, deploys the
regional artifact stores, then the pipeline stack, and prints the pipeline as CodePipeline reads it.
The target accounts' bootstrap with `--trust` (step 4) runs with their own credentials, not here.
After this the pipeline deploys itself (self-mutation); it is never redeployed from a laptop.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config import DeliveryPipeline, Deployment, load_config
from tooling.deploy import CDK, REPO, cdk_deploy, clients_for, run, synthesize
from tooling.moto_server import MotoServer, emulator_environment, start_moto_server
from tooling.pipeline_bootstrap import ensure_pipeline_policies, tooling_bootstrap_command, tooling_regions


def pipeline_assembly(jurisdiction: str) -> Path:
    """Not `cdk.out`: the main job's assembly of every deployment stays as it was."""
    return REPO / "build" / f"cdk.out.pipeline-{jurisdiction}"


def synthesize_pipeline(env: dict[str, str], assembly: Path, jurisdiction: str, *, lint: bool = True) -> None:
    synthesize(env, assembly, context=[f"pipeline={jurisdiction}"], lint=lint)


def artifact_stacks(pipeline: DeliveryPipeline, deployments: Sequence[Deployment]) -> list[str]:
    """The regional artifact stores, one per region the pipeline deploys into other than its own."""
    return [pipeline.artifact_stack(region) for region in tooling_regions(pipeline, deployments)[1:]]


def deploy_pipeline(
    pipeline: DeliveryPipeline, deployments: Sequence[Deployment], env: dict[str, str], assembly: Path
) -> None:
    """Policies, bootstrap, artifact stores, pipeline: each step idempotent, so a rerun after a stop is safe."""
    boundary, execution = ensure_pipeline_policies(clients_for(env)("iam", pipeline.region), pipeline)
    print(f"pipeline policies: boundary {boundary}, execution {execution}", flush=True)
    run(tooling_bootstrap_command(CDK, assembly, pipeline, deployments), env=env)
    stores = artifact_stacks(pipeline, deployments)
    print(f"\n== artifact stores: {' '.join(stores)}", flush=True)
    cdk_deploy(env, assembly, *stores)  # first: the pipeline names them as its cross-region stores
    print(f"\n== pipeline: {pipeline.name}", flush=True)
    cdk_deploy(env, assembly, pipeline.name)


@dataclass(frozen=True)
class DeployedPipeline:
    name: str
    version: int
    stages: tuple[tuple[str, int], ...]  # (stage name, number of actions), in order
    artifact_stores: dict[str, str]  # region -> bucket


def read_pipeline(codepipeline: Any, name: str) -> DeployedPipeline:
    declaration = codepipeline.get_pipeline(name=name)["pipeline"]
    stores = declaration.get("artifactStores") or {"": declaration["artifactStore"]}
    return DeployedPipeline(
        name=declaration["name"],
        version=int(declaration["version"]),
        stages=tuple((stage["name"], len(stage["actions"])) for stage in declaration["stages"]),
        artifact_stores={region: store["location"] for region, store in sorted(stores.items())},
    )


def render(pipeline: DeliveryPipeline, deployed: DeployedPipeline) -> str:
    stages = " -> ".join(f"{name} ({count})" for name, count in deployed.stages)
    stores = ", ".join(f"{region}: {bucket}" for region, bucket in deployed.artifact_stores.items())
    return "\n".join(
        [
            f"Deployed {deployed.name} (account {pipeline.account}, {pipeline.region}), version {deployed.version}:",
            f"  stages (actions): {stages}",
            f"  artifact stores: {stores}",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    config = load_config()
    allowed = [str(p.jurisdiction) for p in config.pipelines]  # plain keys: argparse shows choices by repr
    parser.add_argument("--jurisdiction", required=True, choices=allowed, help="a jurisdiction with a pipeline")
    parser.add_argument("--target", choices=("local", "aws"), default="local")
    parser.add_argument("--profile", help="AWS profile of the tooling account, for --target aws")
    parser.add_argument("--skip-synth", action="store_true", help="reuse build/cdk.out.pipeline-<j>")
    args = parser.parse_args(argv)
    pipeline = config.pipeline(args.jurisdiction)
    deployments = config.deployments_of(args.jurisdiction)
    assembly = pipeline_assembly(args.jurisdiction)
    if not args.skip_synth:
        synthesize_pipeline(
            {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, assembly, args.jurisdiction
        )

    server: MotoServer | None = None
    if args.target == "aws":
        env = {**os.environ, **({"AWS_PROFILE": args.profile} if args.profile else {})}
    else:
        server = start_moto_server(pipeline.account, REPO / "build" / "moto_server.pipeline.log")
        print(
            f"moto server on {server.endpoint_url} (pid {server.process.pid}), account {pipeline.account}", flush=True
        )
        env = emulator_environment(server.endpoint_url, server.account)
    try:
        deploy_pipeline(pipeline, deployments, env, assembly)
        if server is not None and (errors := server.request_errors()):
            raise SystemExit(f"the emulator failed {len(errors)} request(s) during the deploy: {errors}")
        codepipeline = clients_for(env)("codepipeline", pipeline.region)
        print(render(pipeline, read_pipeline(codepipeline, pipeline.name)), flush=True)
    finally:
        if server is not None:
            server.stop()
            print(f"moto server (pid {server.process.pid}) stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

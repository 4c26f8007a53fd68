#!/usr/bin/env python3
"""The CDK app: configuration -> stages -> stacks, gated by every policy pack.

Select a subset with context, e.g. `npx cdk synth -c deployment=au-production`
(or `-c jurisdiction=au`, `-c environment=development`); the default is everything.
`-c config=path/to.toml` reads another configuration file (default config/deployments.toml).
`-c pipeline=<j>` synthesizes instead the jurisdiction's CDK pipeline (stacks/pipeline.py) with
its deployments as pipeline stages: what the pipeline's own synth step runs (README, "Pipelines").
Several deployments synthesize in parallel processes, one per core (at most 4);
`-c synthWorkers=1` uses one process (stacks/parallel_synth.py).
"""

import sys
from pathlib import Path

import aws_cdk as cdk

from config import ConfigError, PlatformConfig, load_config
from policies.auditor import write_auditor_pack
from policies.engine import Evaluation
from policies.registration import FAIL_ON_FINDINGS, register_policy_packs
from policies.report import write_report


def main() -> None:
    app = cdk.App(post_cli_context=FAIL_ON_FINDINGS)
    try:
        config_path = app.node.try_get_context("config")
        config = load_config(Path(config_path)) if config_path else load_config()
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        sys.exit(2)
    if app.node.try_get_context("pipeline"):
        sys.exit(synth_pipeline(app, config, str(app.node.try_get_context("pipeline"))))
    # Imported once the configuration is known to be good: a bad one stops the app before
    # the stacks (and the aws-cdk-lib submodules they load through jsii) cost seconds.
    from stacks import parallel_synth as parallel
    from stacks.app_builder import Selection, build_deployments, stage_ids

    try:
        selected = parallel.worker_deployments(config) or Selection.from_context(app).apply(config)
        groups = parallel.partition(
            selected, 1 if parallel.is_worker() else parallel.requested_workers(app, len(selected))
        )
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        sys.exit(2)
    workers = [parallel.start_worker(group, app.outdir, Path(__file__).resolve()) for group in groups[1:]]
    exit_code = 0
    try:
        build_deployments(app, groups[0])
        pack = register_policy_packs(app, config)
        exit_code = synth_checked(app)
        # The auditor's report, also when the policy check failed (policies/README.md), from the
        # pack's own evaluations: the rules are evaluated once per synth.
        evaluations = pack.evaluations_of(app.outdir) if pack is not None else None
        if parallel.is_worker():
            parallel.write_evaluations(app.outdir, evaluations)
            sys.exit(exit_code)
        worker_code = parallel.wait(workers)
        if workers:
            order = stage_ids(selected)
            theirs = parallel.merge(app.outdir, workers, order)
            mine = evaluations
            evaluations = None if mine is None or theirs is None else parallel.in_stage_order(mine + theirs, order)
        exit_code = write_reports(app, config, pack, evaluations) or exit_code
    finally:
        parallel.stop(workers)
    sys.exit(exit_code or worker_code)


def synth_checked(app: cdk.App) -> int:
    """Synthesize with every registered pack: 1 when a policy finding failed the synth."""
    try:
        app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
        print(f"policy check failed: {error}", file=sys.stderr)
        return 1
    return 0


def write_reports(app: cdk.App, config: PlatformConfig, pack: object, evaluations: list[Evaluation] | None) -> int:
    """The compliance report and the auditor's pack (HTML + data-flow diagram) of what was synthesized;
    1 when a flow leaves its jurisdiction (HOST-2), even when no rule caught it."""
    write_report(app.outdir, config, pack_enabled=pack is not None, evaluations=evaluations)
    exit_code = 0
    for breach in write_auditor_pack(app.outdir, config):
        print(f"auditor's pack: {breach.message()}", file=sys.stderr)
        exit_code = 1
    return exit_code


def synth_pipeline(app: cdk.App, config: PlatformConfig, jurisdiction: str) -> int:
    """`-c pipeline=<j>`: the pipeline and its jurisdiction's deployments, gated like the default synth."""
    from stacks.app_builder import SELECTORS, build_pipeline

    for key in SELECTORS:
        if app.node.try_get_context(key):
            print(
                f"configuration error: -c pipeline synthesizes its whole jurisdiction; drop -c {key}", file=sys.stderr
            )
            return 2
    try:
        build_pipeline(app, config, jurisdiction)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    pack = register_policy_packs(app, config)
    exit_code = synth_checked(app)
    evaluations = pack.evaluations_of(app.outdir) if pack is not None else None
    return write_reports(app, config, pack, evaluations) or exit_code


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The CDK app: configuration -> stages -> stacks, gated by every policy pack.

Select a subset with context, e.g. `npx cdk synth -c deployment=au-production`
(or `-c jurisdiction=au`, `-c environment=development`); the default is everything.
`-c config=path/to.toml` reads another configuration file (default config/deployments.toml).
"""

import sys
from pathlib import Path

import aws_cdk as cdk

from config import ConfigError, load_config
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
    # Imported once the configuration is known to be good: a bad one stops the app before
    # the stacks (and the aws-cdk-lib submodules they load through jsii) cost seconds.
    from stacks.app_builder import Selection, build_app

    try:
        build_app(app, config, Selection.from_context(app))
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        sys.exit(2)
    pack = register_policy_packs(app, config)
    try:
        app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
        print(f"policy check failed: {error}", file=sys.stderr)
        sys.exit(1)
    finally:  # the auditor's report, also when the policy check failed (policies/README.md)
        # The pack's own evaluations when it ran: the rules are evaluated once per synth.
        evaluations = pack.evaluations_of(app.outdir) if pack is not None else None
        write_report(app.outdir, config, pack_enabled=pack is not None, evaluations=evaluations)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The floor of every figure in benchmarks/run.py: an empty one-stack CDK app.

Run by the same CDK CLI, from the same directory (so with the same cdk.json feature
flags), alternately with the real app: what `cdk synth` costs before any of our code.
"""

import aws_cdk as cdk


def main() -> None:
    app = cdk.App()
    cdk.Stack(app, "Empty")
    app.synth()


if __name__ == "__main__":
    main()

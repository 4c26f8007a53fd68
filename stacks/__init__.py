"""CDK stacks and stages: each stack composes patterns, wires them and adds outputs."""

"""Operator tooling: the local AWS emulator, the deploy driver and the deploy summary."""

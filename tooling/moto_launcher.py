"""`moto_server` with every emulator fix of `tooling/emulator/` applied (its docstring has the table:
the CloudFormation fixes the CDK CLI's deploy needs, and the failover services' behaviours).

    python -m tooling.moto_launcher -H 127.0.0.1 -p 5000

Only moto 5.2.5 is accepted: the fixes replace private moto code, so the launcher refuses to start
on any other version.
"""

from __future__ import annotations

import sys

from tooling import emulator

emulator.check_moto_version()  # before any moto import: the patches are for one version

from moto.server import main as moto_server_main  # noqa: E402


def install() -> list[emulator.Patch]:
    """Apply every emulator fix (idempotent); returns the patches applied."""
    return emulator.install()


if __name__ == "__main__":
    install()
    moto_server_main(sys.argv[1:])

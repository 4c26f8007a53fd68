"""What one call to a lost primary region costs the failover, with the runbooks' fail-fast clients.

    python -m tooling.probe_benchmark

Two loopback endpoints stand in for the primary region's: one resets every connection, one
accepts and never answers (a hanging region). Each is called once through
`runbooks.cli.Clients(..., fail_fast=True)` (one attempt, 3 s connect, 5 s read timeout); the
output is the wall time and the number of connections the endpoint saw. The failover's
probe stops at its first unanswered call and the fence makes one call, so these figures
are the per-step budgets of `runbooks/failover.md` for a region that does not answer.
"""

from __future__ import annotations

import os
import time

from runbooks import standby
from runbooks.cli import Clients
from tooling.dead_endpoint import dead_endpoint


def measure(*, hang: bool) -> tuple[float, int, str]:
    with dead_endpoint(hang=hang) as (url, held):
        os.environ["AWS_ENDPOINT_URL"] = url
        rds = Clients("ap-southeast-2", fail_fast=True).client("rds")
        start = time.monotonic()
        try:
            rds.describe_db_instances(DBInstanceIdentifier="probe")
            outcome = "answered"
        except Exception as error:
            outcome = f"{'did not answer' if standby.did_not_answer(error) else 'error'}: {type(error).__name__}"
        return time.monotonic() - start, len(held), outcome


def main() -> int:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    for name, hang in (("connection reset", False), ("hanging", True)):
        seconds, connections, outcome = measure(hang=hang)
        print(f"{name}: {seconds:.1f} s, {connections} connection(s), {outcome}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A primary region that hangs (accepts connections, never answers) is a region that does not
answer (DR-1): the failover completes with its fence pending, as under connection resets. Real
botocore clients, one attempt each, against a loopback endpoint that never answers; the time it
costs per call with the CLI's settings is `python -m tooling.probe_benchmark`'s figure."""

from __future__ import annotations

from pathlib import Path

import boto3
from botocore.config import Config

from runbooks.cli import FAIL_FAST
from runbooks.toolkit import EXIT_PENDING
from tests.runbooks.conftest import Recorder, Standby
from tests.runbooks.test_failover import Harness
from tooling.dead_endpoint import dead_endpoint

# FAIL_FAST's single attempt, with a shorter read timeout so the test does not wait 5 s per call.
QUICK = Config(connect_timeout=1, read_timeout=0.5, retries=FAIL_FAST.retries)


def test_a_hanging_primary_region_is_failed_over_with_the_fence_pending(world: Standby, tmp_path: Path) -> None:
    region = world.primary.name
    h = Harness(world, tmp_path / "audit.jsonl", primary="up")
    with dead_endpoint(hang=True) as (url, held):

        def hanging(service: str) -> Recorder:
            client = boto3.client(service, region_name=region, endpoint_url=url, config=QUICK)
            return Recorder(client, region, h.calls)

        h.primary_rds, h.primary_autoscaling = hanging("rds"), hanging("autoscaling")
        result = h.run(force=False)
        connections = len(held)
    assert result.exit_code == EXIT_PENDING, h.lines()
    lines = {r["step"]: r for r in h.lines()}
    assert lines["promote-replica"]["status"] == "done"
    fence = lines["fence-primary"]
    assert fence["status"] == "skipped" and fence["detail"]["pending"] is True
    assert "ReadTimeout" in fence["detail"]["error"]
    # The probe stops at its first unanswered call, the fence makes one: two calls, one connection each.
    primary_calls = [name for where, name in h.calls if where == region]
    assert len(primary_calls) == 2 and connections == 2, primary_calls

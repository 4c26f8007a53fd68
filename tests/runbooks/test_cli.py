"""The DR runbooks' primary-region clients fail fast: one attempt, short timeouts (issue 16, item 14)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

from runbooks import standby
from runbooks.cli import FAIL_FAST, Clients
from tooling.dead_endpoint import dead_endpoint


@pytest.fixture
def resetting_endpoint() -> Iterator[tuple[str, list[socket.socket]]]:
    """A loopback endpoint that resets every connection; counts them."""
    with dead_endpoint(hang=False) as endpoint:
        yield endpoint


def test_single_attempt_clients_try_once(
    resetting_endpoint: tuple[str, list[socket.socket]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, accepted = resetting_endpoint
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    rds = Clients("ap-southeast-2", fail_fast=True).client("rds")
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)) as error:
        rds.describe_db_instances(DBInstanceIdentifier="x")
    assert standby.did_not_answer(error.value)  # a reset is a region that does not answer
    assert len(accepted) == 1  # botocore's max_attempts counts retries: total_max_attempts=1 is one attempt


def test_fail_fast_timeouts_bound_a_hanging_call() -> None:
    assert FAIL_FAST.connect_timeout <= 5 and FAIL_FAST.read_timeout <= 5
    assert FAIL_FAST.retries == {"total_max_attempts": 1, "mode": "standard"}

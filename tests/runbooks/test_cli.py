"""The DR runbooks' primary-region clients fail fast: one attempt, short timeouts (issue 16, item 14)."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

from runbooks import standby
from runbooks.cli import FAIL_FAST, Clients


@pytest.fixture
def resetting_endpoint() -> Iterator[tuple[str, list[int]]]:
    """A loopback endpoint that resets every connection; counts them."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    accepted: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                continue
            accepted.append(1)
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()  # RST

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}", accepted
    finally:
        stop.set()
        thread.join(timeout=2)
        server.close()


def test_single_attempt_clients_try_once(
    resetting_endpoint: tuple[str, list[int]], monkeypatch: pytest.MonkeyPatch
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

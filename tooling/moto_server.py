"""Start and stop a moto server on loopback: the AWS of a machine without an account."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

# moto reads the bucket name out of the template URL the CDK CLI sends; with an IP
# address it answers "The specified bucket does not exist".
HOST_NAME = "localhost"
BIND_ADDRESS = "127.0.0.1"


@dataclass
class MotoServer:
    process: subprocess.Popen[bytes]
    port: int
    account: str
    log_path: Path

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST_NAME}:{self.port}"

    def request_errors(self) -> list[str]:
        """The exceptions the emulator raised while answering requests (HTTP 500s).

        The CDK CLI reports a stack as deployed when moto's change-set execution crashed
        half-way (every resource after the failing one is silently missing), so a local
        deploy is only trusted when this list is empty."""
        if not self.log_path.exists():
            return []
        lines = self.log_path.read_text(errors="replace").splitlines()
        errors: list[str] = []
        for index, line in enumerate(lines):
            if line.startswith("Error on request"):
                # The exception line closes the traceback: the first unindented line after it.
                after = (later for later in lines[index + 1 :] if later and not later.startswith((" ", "Traceback")))
                errors.append(next(after, line).strip())
        return errors

    def stop(self) -> None:
        """Stop the server this object started (by its own process id only)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((BIND_ADDRESS, 0))
        return int(sock.getsockname()[1])


def start_moto_server(account: str, log_path: Path, port: int | None = None, timeout: float = 60) -> MotoServer:
    """Start `moto_server` bound to 127.0.0.1, acting as `account`; wait until it answers."""
    port = port or free_loopback_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tooling.moto_launcher", "-H", BIND_ADDRESS, "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "MOTO_ACCOUNT_ID": account},
            cwd=Path(__file__).resolve().parent.parent,
        )
    server = MotoServer(process=process, port=port, account=account, log_path=log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(f"{server.endpoint_url}/moto-api/data.json", timeout=2):
                return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"moto_server did not answer on port {port} within {timeout} s; see {log_path}")


def emulator_environment(server_url: str, account: str) -> dict[str, str]:
    """Process environment that points the AWS SDKs and the CDK CLI at the emulator acting as `account`.

    The access key names the account: the CDK CLI caches the account of an access key
    (~/.cdk/cache/accounts_partitions.json), so one key for every emulated account would make a
    later deploy into another account fail with "the current credentials are for <the first account>"."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "AWS_ENDPOINT_URL": server_url,
            "AWS_ACCESS_KEY_ID": f"emulator-{account}",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return env

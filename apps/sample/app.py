"""The sample application: what a vendor's release artifact looks like (OPS-7).

The contract with the platform (patterns/release_boot.py, patterns/web_tier.py):
- the artifact is a .tar.gz whose root holds `app.py`, started as
  `python3 app.py --port <app port> --health-path <health path>` by the systemd unit `app`;
- `GET <health path>` answers 200 only when the application can serve: the load balancer's
  health check gates every batch of a rollout on it;
- `RELEASE` at the root names the version (written by scripts/build_release.py);
- configuration files live in `config/`, e-mail templates in `templates/` (the codebase, ENC-2).
"""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent


def release_version() -> str:
    marker = HERE / "RELEASE"
    return marker.read_text().strip() if marker.exists() else "unreleased"


def make_handler(health_path: str) -> type[BaseHTTPRequestHandler]:
    settings = json.loads((HERE / "config" / "settings.json").read_text())
    welcome = (HERE / "templates" / "welcome.txt").read_text()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == health_path:
                self._answer(200, "text/plain", b"ok\n")
            elif self.path == "/":
                body = {"application": settings["name"], "version": release_version(), "welcome": welcome.strip()}
                self._answer(200, "application/json", json.dumps(body).encode())
            else:
                self._answer(404, "text/plain", b"not found\n")

        def _answer(self, status: int, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def serve(port: int, health_path: str, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    return ThreadingHTTPServer((host, port), make_handler(health_path))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--health-path", default="/health")
    args = parser.parse_args()
    serve(args.port, args.health_path).serve_forever()


if __name__ == "__main__":
    main()

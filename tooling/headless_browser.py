"""A page as a person sees it: headless Chromium driven over the Chrome DevTools Protocol (CDP).

Python's standard library only (a minimal RFC 6455 WebSocket client): the browser starts with
`--remote-debugging-port=0` on 127.0.0.1, writes its port into `DevToolsActivePort`, and this
client opens one tab at a fixed window size, records every request the page makes
(`Network.requestWillBeSent`) and every console message (a Content-Security-Policy violation is
one), and captures a PNG. `pixel_spread` decodes the PNG (zlib, the five PNG row filters) to tell
a blank picture from a drawn one.

`python -m tooling.headless_browser PAGE.html OUT.png [--width W --height H]` takes the screenshot
the README shows (docs/auditor-report.png) through the same code path as the test.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def find_browser() -> str | None:
    """$CHROMIUM, else the first of chromium / chromium-browser / google-chrome on PATH or /usr/bin."""
    named = os.environ.get("CHROMIUM")
    if named:
        return named if Path(named).exists() else shutil.which(named)
    for name in BROWSER_NAMES:
        found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
        if found:
            return found
    return None


class WebSocket:
    """Text frames only, client side (masked), as CDP needs; answers pings."""

    def __init__(self, host: str, port: int, path: str, timeout: float = 30.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("the browser closed the connection during the handshake")
            response += chunk
        head, _, self.buffer = response.partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"WebSocket handshake refused: {head[:200]!r}")

    def _read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(max(65536, count - len(self.buffer)))
            if not chunk:
                raise ConnectionError("the browser closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        header = bytes([0x80 | opcode])
        size = len(payload)
        if size < 126:
            header += bytes([0x80 | size])
        elif size < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", size)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", size)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if size < 4096 else _mask(payload, mask)
        self.sock.sendall(header + mask + masked)

    def send(self, text: str) -> None:
        self._send_frame(0x1, text.encode())

    def receive(self) -> str:
        message = b""
        while True:
            first, second = self._read(2)
            opcode, size = first & 0x0F, second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._read(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(size)
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode == 0x8:
                raise ConnectionError("the browser closed the WebSocket")
            message += payload
            if first & 0x80:
                return message.decode()

    def close(self) -> None:
        self.sock.close()


def _mask(payload: bytes, mask: bytes) -> bytes:
    repeated = (mask * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(payload), "big")


@dataclass
class PageVisit:
    url: str
    screenshot: bytes
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    @property
    def other_requests(self) -> list[str]:
        """Every request but the page's own document: none for a self-contained page."""
        return [url for url in self.requests if url != self.url]


class Browser:
    def __init__(self, executable: str, profile: Path, width: int, height: int) -> None:
        self.width, self.height = width, height
        args = [
            executable,
            "--headless",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{executable} did not open its DevTools port (exit {self.process.poll()})")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        self.ws = WebSocket("127.0.0.1", int(port), path)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.receive())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            self.events.append(reply)

    def wait_for(self, method: str, session: str, timeout: float = 30.0) -> None:
        seen = any(e.get("method") == method and e.get("sessionId") == session for e in self.events)
        deadline = time.monotonic() + timeout
        while not seen:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} within {timeout} s")
            event = json.loads(self.ws.receive())
            self.events.append(event)
            seen = event.get("method") == method and event.get("sessionId") == session

    def visit(self, url: str) -> PageVisit:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for method in ("Page.enable", "Network.enable", "Runtime.enable", "Log.enable"):
            self.call(method, session=session)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        self.events.clear()
        self.call("Page.navigate", {"url": url}, session=session)
        self.wait_for("Page.loadEventFired", session)
        shot = self.call("Page.captureScreenshot", {"format": "png"}, session=session)
        self.call("Target.closeTarget", {"targetId": target})
        mine = [e for e in self.events if e.get("sessionId") == session]
        return PageVisit(
            url=url,
            screenshot=base64.b64decode(shot["data"]),
            requests=[e["params"]["request"]["url"] for e in mine if e.get("method") == "Network.requestWillBeSent"],
            console=[str(e["params"]["entry"].get("text", "")) for e in mine if e.get("method") == "Log.entryAdded"]
            + [
                " ".join(str(a.get("value", a.get("description", ""))) for a in e["params"].get("args", []))
                for e in mine
                if e.get("method") == "Runtime.consoleAPICalled"
            ],
        )

    def close(self) -> None:
        with suppress(OSError, ConnectionError, RuntimeError):
            self.call("Browser.close")
        self.ws.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def browser(executable: str, width: int = 1400, height: int = 2000) -> Iterator[Browser]:
    with tempfile.TemporaryDirectory(prefix="headless-profile-") as profile:
        started = Browser(executable, Path(profile), width, height)
        try:
            yield started
        finally:
            started.close()


def png_pixels(data: bytes) -> tuple[int, int, int, bytes]:
    """(width, height, channels, unfiltered rows without filter bytes) of an 8-bit, non-interlaced PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    position, compressed = 8, b""
    width = height = channels = 0
    while position < len(data):
        (size,) = struct.unpack("!I", data[position : position + 4])
        kind, body = data[position + 4 : position + 8], data[position + 8 : position + 8 + size]
        position += 12 + size
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack("!IIBBBBB", body)
            if depth != 8 or interlace:
                raise ValueError("only 8-bit non-interlaced PNGs")
            channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
        elif kind == b"IDAT":
            compressed += body
    raw = zlib.decompress(compressed)
    stride = width * channels
    previous = bytearray(stride)
    out = bytearray()
    for row in range(height):
        start = row * (stride + 1)
        row_filter, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if row_filter == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif row_filter == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif row_filter == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif row_filter == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b, c = previous[i], previous[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        out += line
        previous = line
    return width, height, channels, bytes(out)


def pixel_spread(png: bytes) -> tuple[float, int]:
    """(variance of the grey level, number of distinct grey levels) over every pixel."""
    _, _, channels, pixels = png_pixels(png)
    colour = channels if channels in (1, 3) else channels - 1  # drop alpha
    greys = [sum(pixels[i : i + colour]) // colour for i in range(0, len(pixels), channels)]
    mean = sum(greys) / len(greys)
    return sum((g - mean) ** 2 for g in greys) / len(greys), len(set(greys))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.headless_browser", description=__doc__)
    parser.add_argument("page", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=2000)
    args = parser.parse_args(argv)
    executable = find_browser()
    if executable is None:
        print("no Chromium found (scripts/setup.sh installs one where apt-get can)", file=sys.stderr)
        return 2
    with browser(executable, args.width, args.height) as chrome:
        visit = chrome.visit(args.page.resolve().as_uri())
    args.png.write_bytes(visit.screenshot)
    print(f"{args.png}: {len(visit.screenshot)} bytes; requests besides the page: {visit.other_requests or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

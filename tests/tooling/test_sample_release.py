"""The sample application (apps/sample) and the reproducible artifact build (scripts/build_release.py)."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import tarfile
import threading
import urllib.error
import urllib.request
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def _module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_is_reproducible_and_carries_the_version(tmp_path: Path) -> None:
    build = _module(REPO / "scripts" / "build_release.py", "build_release")
    first = build.build(REPO / "apps" / "sample", "2.0.0")
    assert build.build(REPO / "apps" / "sample", "2.0.0") == first
    assert build.build(REPO / "apps" / "sample", "2.0.1") != first
    with tarfile.open(fileobj=io.BytesIO(first)) as tar:
        names = tar.getnames()
        assert {"app.py", "config/settings.json", "templates/welcome.txt", "RELEASE"} <= set(names)
        assert names == [*sorted(names[:-1]), "RELEASE"]
        assert all(m.mtime == 0 and m.uid == 0 for m in tar.getmembers())
        marker = tar.extractfile("RELEASE")
        assert marker is not None and marker.read() == b"2.0.0\n"
    assert build.main(["apps/sample", "--version", "2.0.0", "--out", str(tmp_path)]) == 0
    assert hashlib.sha256((tmp_path / "app-2.0.0.tar.gz").read_bytes()).hexdigest() == hashlib.sha256(first).hexdigest()
    with pytest.raises(ValueError, match="semantic version"):
        build.build(REPO / "apps" / "sample", "latest")


def test_health_endpoint_is_the_load_balancers_contract() -> None:
    app = _module(REPO / "apps" / "sample" / "app.py", "sample_app")
    server = app.serve(0, "/health", host="127.0.0.1")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        with urllib.request.urlopen(f"{base}/health") as answer:
            assert answer.status == 200 and answer.read() == b"ok\n"
        with urllib.request.urlopen(f"{base}/") as answer:
            assert b'"application": "sample"' in answer.read()
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/nope")
        assert missing.value.code == 404
    finally:
        server.shutdown()
        server.server_close()

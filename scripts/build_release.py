"""Build a release artifact reproducibly: the same sources give the same bytes and digest (OPS-7).

    python scripts/build_release.py apps/sample --version 2.0.0
    -> build/release/app-2.0.0.tar.gz and its sha256 (the value to pin in config/deployments.toml)

Reproducible: files in sorted order, owner 0:0, mode 0644 (0755 for directories), mtime 0,
gzip header without a name or time; `RELEASE` (the version) is added at the root;
caches (`__pycache__`, `*.pyc`) are left out.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import re
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.policy import RELEASE_VERSION_PATTERN

SKIPPED = ("__pycache__",)


def _info(name: str, size: int, *, directory: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.uid, info.gid, info.uname, info.gname = size, 0, 0, 0, "", ""
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.mode = 0o755 if directory else 0o644
    return info


def build(source: Path, version: str) -> bytes:
    if not re.fullmatch(RELEASE_VERSION_PATTERN, version):
        raise ValueError(f"--version {version!r}: allowed a semantic version such as 2.0.0")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        files = sorted(p for p in source.rglob("*") if not any(part in SKIPPED for part in p.parts))
        for path in files:
            name = path.relative_to(source).as_posix()
            if path.is_dir():
                tar.addfile(_info(name, 0, directory=True))
            elif path.suffix != ".pyc" and name != "RELEASE":
                data = path.read_bytes()
                tar.addfile(_info(name, len(data)), io.BytesIO(data))
        marker = f"{version}\n".encode()
        tar.addfile(_info("RELEASE", len(marker)), io.BytesIO(marker))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as packed:
        packed.write(raw.getvalue())
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path, help="the application's directory, e.g. apps/sample")
    parser.add_argument("--version", required=True)
    parser.add_argument("--out", type=Path, default=Path("build/release"))
    args = parser.parse_args(argv)
    if not (args.source / "app.py").is_file():
        parser.error(f"{args.source} has no app.py (the entry point the web tier starts)")
    try:
        artifact = build(args.source, args.version)
    except ValueError as error:
        parser.error(str(error))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"app-{args.version}.tar.gz"
    path.write_bytes(artifact)
    print(f'{path}\nversion = "{args.version}"\nsha256 = "{hashlib.sha256(artifact).hexdigest()}"')
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A pinned release (OPS-7): one immutable artifact, a semantic version and its SHA-256 digest."""

from __future__ import annotations

import re

from config.errors import ErrorCollector
from config.model import Release
from config.policy import RELEASE_SHA256_PATTERN, RELEASE_VERSION_PATTERN


def check_release(release: Release, where: str, errors: ErrorCollector) -> None:
    if not re.fullmatch(RELEASE_VERSION_PATTERN, release.version):
        errors.add(f"{where}.version", release.version, "a semantic version such as 2.0.0 (never 'latest')", "OPS-7")
    if not re.fullmatch(RELEASE_SHA256_PATTERN, release.sha256):
        errors.add(
            f"{where}.sha256", release.sha256, "64 lowercase hexadecimal digits (the artifact's SHA-256)", "OPS-7"
        )

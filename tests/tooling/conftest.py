"""The tooling tests' moto worlds do less work no test can see: see tests/moto_speedups.py."""

from __future__ import annotations

import pytest

from tests import moto_speedups


@pytest.fixture(autouse=True)
def _cheaper_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    moto_speedups.apply(monkeypatch)
